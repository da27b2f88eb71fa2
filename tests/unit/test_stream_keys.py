"""XREAD/XREADGROUP keys read from the command itself by cluster clients (stream_keys.py)."""

from __future__ import annotations

import pytest

from newsflow.shared.redis_streams import connect
from newsflow.shared.stream_keys import parse_keys_locally, stream_read_keys


@pytest.mark.parametrize(
    ("args", "keys"),
    [
        (("XREADGROUP", "GROUP", "g", "c", "COUNT", 64, "BLOCK", 100, "STREAMS", "s", ">"), ("s",)),
        ((b"XREADGROUP", b"GROUP", b"g", b"c", b"NOACK", b"STREAMS", b"a", b"b", b"0", b">"),
         (b"a", b"b")),
        # a group and a consumer called "streams" are not the keyword
        (("xreadgroup", "GROUP", "streams", "STREAMS", "STREAMS", "{p1.0}x", ">"), ("{p1.0}x",)),
        (("XREAD", "BLOCK", 0, "STREAMS", "s1", "s2", "$", "$"), ("s1", "s2")),
        (("XREAD", "COUNT", 5, "streams", "k", "0-0"), ("k",)),
    ],
)  # fmt: skip
def test_stream_read_keys(args: tuple[object, ...], keys: tuple[object, ...]) -> None:
    assert stream_read_keys(*args) == keys


@pytest.mark.parametrize(
    "args",
    [
        ("XADD", "s", "*", "a", "b"),  # not a read: the library's way
        ("XREADGROUP", "GROUP", "g", "c", "STREAMS", "s"),  # keys without ids
        ("XREADGROUP", "GROUP", "g", "c", "COUNT", 5),  # no STREAMS
        ("XREAD", "FOO", 1, "STREAMS", "s", "0"),  # an option this parser does not know
        ("XREADGROUP", "g", "c", "STREAMS", "s", ">"),  # no GROUP
        (),
    ],
)
def test_stream_read_keys_leaves_the_rest_to_the_server(args: tuple[object, ...]) -> None:
    assert stream_read_keys(*args) is None


async def test_cluster_clients_route_reads_without_asking_the_server() -> None:
    client = connect("redis://127.0.0.1:1/0", cluster=True)  # never contacted here
    parser = client.commands_parser  # type: ignore[attr-defined]
    keys = await parser.get_keys("XREADGROUP", "GROUP", "g", "c", "STREAMS", "{p0.1}s", ">")
    assert keys == ("{p0.1}s",)
    parse_keys_locally(client)  # twice is harmless
    parse_keys_locally(object())  # and so is a client that is not a cluster client
    assert type(client.commands_parser).__name__ == "_LocalStreamKeys"  # type: ignore[attr-defined]
    await client.aclose()
