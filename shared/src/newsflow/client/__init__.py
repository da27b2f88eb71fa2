"""newsflow's subscriber SDK: read an output stream with your own consumer group.

```python
from newsflow.client import Subscriber

async with Subscriber.connect(url, stream="enriched", group="my-app") as sub:
    async for event in sub:  # ArticleEvent; acknowledged once the loop body ends
        ...
```

See :class:`newsflow.client.subscriber.Subscriber`; :class:`SyncSubscriber` is the same for
synchronous code (``with`` and ``for``).
"""

from newsflow.client.subscriber import Subscriber, SyncSubscriber

__all__ = ["Subscriber", "SyncSubscriber"]
