"""XREAD/XREADGROUP keys found without asking the server, for cluster clients.

redis-py's cluster client routes a command by its keys. For a command whose keys move with its
options (``movablekeys``: XREAD and XREADGROUP name theirs after ``STREAMS``) it asks the
server with ``COMMAND GETKEYS`` first, a round trip on every read: measured on the no-op stage,
two ``COMMAND GETKEYS`` per ``XREADGROUP``. :func:`parse_keys_locally` makes a cluster client
read those keys from the command itself; every other command goes the library's way.
"""

from __future__ import annotations

from typing import Any

from redis._parsers.commands import AsyncCommandsParser
from redis.asyncio.cluster import RedisCluster

_OPTIONS = {"COUNT": 2, "BLOCK": 2, "NOACK": 1}  # option -> words it takes, itself included


def _word(arg: Any) -> str:
    if isinstance(arg, bytes):
        return arg.decode("utf-8", "replace").upper()
    return str(arg).upper()


def stream_read_keys(*args: Any) -> tuple[Any, ...] | None:
    """The stream keys of an XREAD or XREADGROUP command (``args[0]`` is its name), or None
    for any other command or one that cannot be parsed (left to the server)."""
    if not args:
        return None
    name = _word(args[0])
    if name == "XREADGROUP":
        if len(args) < 4 or _word(args[1]) != "GROUP":
            return None
        i = 4  # XREADGROUP GROUP <group> <consumer>: a group may be called "streams"
    elif name == "XREAD":
        i = 1
    else:
        return None
    while i < len(args):
        word = _word(args[i])
        if word == "STREAMS":
            rest = args[i + 1 :]
            if not rest or len(rest) % 2:
                return None
            return tuple(rest[: len(rest) // 2])
        if word not in _OPTIONS:
            return None
        i += _OPTIONS[word]
    return None


class _LocalStreamKeys(AsyncCommandsParser):
    __slots__ = ()

    async def get_keys(self, *args: Any) -> tuple[Any, ...] | None:
        keys = stream_read_keys(*args)
        if keys is not None:
            return keys
        found: tuple[Any, ...] | None = await super().get_keys(*args)
        return found


def parse_keys_locally(client: object) -> None:
    """Make a cluster client find XREAD/XREADGROUP keys itself (no-op for other clients)."""
    if isinstance(client, RedisCluster) and type(client.commands_parser) is AsyncCommandsParser:
        client.commands_parser.__class__ = _LocalStreamKeys
