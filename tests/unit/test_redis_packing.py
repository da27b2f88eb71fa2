"""newsflow's Redis clients pack commands with hiredis: the bytes must be redis-py's own."""

from __future__ import annotations

import pytest
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import DataError

from newsflow.shared.redis_streams import _hiredis_packing, connect


@pytest.mark.parametrize(
    "args",
    [
        ("XADD", "articles.language", "MAXLEN", "~", 100000, "*", "id", "a1", "event", b"{}"),
        ("SET", "k\u00e9y", "Gr\u00fc\u00dfe \u6771\u4eac \U0001f600", "PX", 1500),
        ("ZADD", "z", 1.5, "m", -2, "n"),
        ("CLIENT SETNAME", "newsflow"),  # a command name of two words
        (b"CONFIG GET", b"maxmemory"),
        ("SET", "big", "x" * 200_000),  # over redis-py's buffer cutoff
        ("SET", "view", memoryview(b"bytes")),
        ("SET", "buffer", bytearray(b"bytes")),  # not hiredis's: redis-py packs it
    ],
)
def test_hiredis_packing_matches_redis_py(args: tuple[object, ...]) -> None:
    ours = _hiredis_packing(Connection)()
    assert b"".join(ours.pack_command(*args)) == b"".join(Connection().pack_command(*args))


def test_unsupported_values_raise_redis_pys_error() -> None:
    with pytest.raises(DataError):
        _hiredis_packing(Connection)().pack_command("SET", "k", None)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("redis://localhost:1/0", Connection),
        ("rediss://localhost:1/0", SSLConnection),
        ("unix:///tmp/none.sock", UnixDomainSocketConnection),
    ],
)
def test_connect_keeps_the_connection_kind_the_url_chose(url: str, kind: type) -> None:
    client = connect(url)
    chosen = client.connection_pool.connection_class
    assert issubclass(chosen, kind) and chosen is _hiredis_packing(kind)
