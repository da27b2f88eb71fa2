"""Error kinds. Permanent errors send an entry to the dead-letter stream at once; anything else
is treated as transient and the entry stays pending to be retried."""

from __future__ import annotations


class NewsflowError(Exception):
    """Base of newsflow's own errors."""


class PermanentError(NewsflowError):
    """Retrying cannot help: the entry goes to the dead-letter stream with this reason."""


class InvalidPayload(PermanentError):
    """The entry does not follow the event contract (bad JSON, schema violation, oversize)."""
