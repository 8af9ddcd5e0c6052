# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read many S3 objects at once and hand the results back in the caller's order.

A year of a multi-region trail is about 100,000 log files per account and
region, one GetObject each. Against S3 a GET costs tens of milliseconds, almost
all of it waiting on the network, so a reader that waits for one object before
asking for the next spends about an hour per account-region-year idle. Here a
bounded pool of threads reads ahead while the caller checks, in order, what has
arrived: the digest chain still sees digests oldest first and log files in the
order the digest lists them, so its findings are those of a sequential read.

Written here because nothing maintained does this: ``Executor.map`` submits
every item at once (a period's worth of pending reads, in memory, before the
first result), boto3's transfer manager downloads to files or buffers rather
than handing a stream to a hash, and amazon.aws has no concurrent reader.

Threads share one boto3 client (clients are thread-safe; resources are not).
Each thread gets its own retrying wrapper around it, because the backoff state
of an AWSRetry decorator (its sleep-time iterator) is one object per decorator:
shared, one thread's fresh retry would reset another's growing backoff.
"""

from __future__ import annotations

import concurrent.futures
import collections
import threading
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Iterator
from typing import Optional
from typing import TypeVar

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

# Each read is tens of milliseconds of waiting and a few of this process's CPU
# (TLS, signing, parsing, hashing), under one GIL: at 30-50 ms a call, about 16
# reads in flight keep that CPU busy. Measured against the local AWS with 30 ms
# per S3 call, 1,000 log files: 16 took 17 % less time than 10, 24 and 32 at
# most 5 % less than 16 (docs/validate_logs.md). The AWS CLI's 10 is for
# multipart transfers of large objects, bound by bandwidth, not by latency.
DEFAULT_MAX_CONCURRENCY = 16
# More threads than this only add contention in one Python process; S3 itself
# serves thousands of GETs a second per prefix.
MAX_CONCURRENCY_LIMIT = 64

Item = TypeVar("Item")
Result = TypeVar("Result")


def max_concurrency_error(value: Any) -> Optional[str]:
    """Why ``value`` is not a pool size, or ``None``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY_LIMIT:
        return f"max_concurrency: must be a whole number from 1 to {MAX_CONCURRENCY_LIMIT} (got {value!r})"
    return None


def client_config(max_concurrency: int) -> dict[str, Any]:
    """botocore settings for a client shared by ``max_concurrency`` threads: one
    pooled connection each (botocore keeps 10), so no thread waits for, or
    re-opens, a connection."""
    return {"max_pool_connections": max(10, max_concurrency)}


class ObjectReader:
    """A bounded pool of threads that call a function on items ahead of the caller.

    ``ordered()`` yields ``(item, result)`` pairs in the items' order, where
    ``result()`` returns what the function returned or raises what it raised, so
    the caller handles each item's errors where it would in a sequential loop.
    At most ``max_concurrency`` calls run at once, and each ``ordered()`` stream
    holds at most ``window`` items submitted but not yet consumed: memory does
    not grow with the number of items. With ``max_concurrency`` 1 there is no
    thread at all: each item is read when the caller reaches it.
    """

    def __init__(self, client: Any, max_concurrency: int = DEFAULT_MAX_CONCURRENCY, retry_decorator: Optional[Callable[[], Any]] = None) -> None:
        problem = max_concurrency_error(max_concurrency)
        if problem:
            raise ValueError(problem)
        self.max_concurrency = max_concurrency
        self._client = client
        self._retry_decorator = retry_decorator
        self._local = threading.local()
        self._executor: Optional[concurrent.futures.ThreadPoolExecutor] = None
        if max_concurrency > 1:
            self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="s3-objects")

    def __enter__(self) -> "ObjectReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def client(self) -> Any:
        """The client for the calling thread: the shared boto3 client, in a
        retrying wrapper of this thread's own when a retry policy was given."""
        if self._retry_decorator is None:
            return self._client
        wrapped = getattr(self._local, "client", None)
        if wrapped is None:
            raw = self._client.client if isinstance(self._client, RetryingBotoClientWrapper) else self._client
            wrapped = self._local.client = RetryingBotoClientWrapper(raw, self._retry_decorator())
        return wrapped

    def _call(self, function: Callable[[Any, Item], Result], item: Item) -> Result:
        return function(self.client(), item)

    def ordered(
        self,
        function: Callable[[Any, Item], Result],
        items: Iterable[Item],
        window: Optional[int] = None,
        passes: Optional[Callable[[Item], bool]] = None,
    ) -> Iterator[tuple[Item, Callable[[], Optional[Result]]]]:
        """``(item, result)`` for each item, in order; ``function(client, item)`` runs
        in the pool, up to ``window`` (default ``max_concurrency``) items ahead.

        Items are drawn from ``items`` only as the window frees up, so a lazy
        listing is listed as it is read. Leaving the loop early cancels the
        reads not yet started.

        An item for which ``passes(item)`` is true is not read: it comes back in
        its place with a ``result()`` of ``None``. It still takes a place in the
        window, so a long run of such items is not drawn all at once.
        """
        if self._executor is None:
            for item in items:
                yield item, _not_read if passes is not None and passes(item) else _settled(self._call, function, item)
            return
        ahead = window or self.max_concurrency
        pending: collections.deque[tuple[Item, Optional[concurrent.futures.Future]]] = collections.deque()
        source = iter(items)
        try:
            while True:
                while len(pending) < ahead:
                    item = next(source, _END)
                    if item is _END:
                        break
                    read = None if passes is not None and passes(item) else self._executor.submit(self._call, function, item)
                    pending.append((item, read))
                if not pending:
                    return
                item, future = pending.popleft()
                if future is None:
                    yield item, _not_read
                    continue
                future.exception()  # wait here, not in the caller's result()
                yield item, future.result
        finally:
            for _item, future in pending:
                if future is not None:
                    future.cancel()


_END: Any = object()


def _not_read() -> None:
    """The ``result()`` of an item that was not read."""
    return None


def _settled(call: Callable[..., Result], *args: Any) -> Callable[[], Result]:
    """``call(*args)`` made now, as a ``result()`` that returns or re-raises it."""
    try:
        value = call(*args)
    except Exception as error:  # pylint: disable=broad-exception-caught
        # Handed to the caller's result(), which raises it where a sequential read would have.
        captured = error

        def fail() -> Result:
            raise captured

        return fail
    return lambda: value
