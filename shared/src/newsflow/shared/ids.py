"""Deterministic article ids: from the canonical URL when there is one, else from the content."""

from __future__ import annotations

import hashlib
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from url_normalize import url_normalize

_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "mc_cid", "mc_eid", "igshid",
        "yclid", "_ga", "_gl", "ref_src", "ref_url", "cmpid", "ocid", "smid", "smtyp",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def canonical_url(url: str) -> str:
    """A canonical form of an article URL for identity.

    RFC 3986 normalisation by url-normalize (case, percent-encoding, dot segments, default
    ports, IDNA), then newsflow's identity rules: drop ``www.``/``amp.``, AMP paths and flags,
    fragments, tracking parameters and a trailing slash, sort the query, and treat http and
    https as the same resource.
    """
    parts = urlsplit(url_normalize(url.strip()) or url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    host = host.removeprefix("www.").removeprefix("amp.")
    port = parts.port
    netloc = host if port is None or str(port) == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    path = parts.path or "/"
    for suffix in ("/amp", "/amp/"):
        if path.endswith(suffix):
            path = path[: -len(suffix)] or "/"
    if len(path) > 1:
        path = path.rstrip("/")
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _TRACKING_PARAMS
        and not k.lower().startswith(_TRACKING_PREFIXES)
        and not (k.lower() in {"amp", "outputtype"} and v.lower() in {"", "1", "amp", "true"})
    ]
    query.sort()
    scheme = "https" if scheme in {"http", "https"} else scheme
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def normalise_for_hash(text: str) -> str:
    """Unicode NFKC, case-folded, whitespace collapsed: the form content hashes are taken of."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def derive_article_id(*, url: str | None, title: str, text: str) -> str:
    """``u-<hash>`` of the canonical URL when there is a URL, else ``c-<hash>`` of the content."""
    if url:
        digest = hashlib.blake2b(canonical_url(url).encode(), digest_size=16).hexdigest()
        return f"u-{digest}"
    content = normalise_for_hash(title) + "\n" + normalise_for_hash(text)
    digest = hashlib.blake2b(content.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return f"c-{digest}"
