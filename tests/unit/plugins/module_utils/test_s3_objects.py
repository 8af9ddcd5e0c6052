"""The bounded concurrent reader of module_utils/s3_objects.py, with fake clients:
results in the caller's order, at most max_concurrency reads at once, memory
flat with the number of objects, S3 SlowDown retried with backoff."""

from __future__ import annotations

import hashlib
import random
import threading
import time
import tracemalloc
import types

import botocore.exceptions
import pytest

from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.trailops.cloudtrail.plugins.module_utils import s3_objects
from ansible_collections.trailops.cloudtrail.plugins.module_utils.s3_objects import ObjectReader

CHUNK = 64 * 1024


class Body:
    """A streaming body of ``size`` bytes, made as it is read."""

    def __init__(self, seed: int, size: int) -> None:
        self.left = size
        self.byte = bytes([seed % 256])

    def read(self, amount: int) -> bytes:
        amount = min(amount, self.left)
        self.left -= amount
        return self.byte * amount

    def close(self) -> None:
        pass


def slow_down() -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}, "ResponseMetadata": {"HTTPStatusCode": 503}}, "GetObject"
    )


class FakeS3:
    """get_object with a little random latency; counts calls and the most at once."""

    def __init__(self, size: int = 1024, slow_down_every: int = 0) -> None:
        self.size = size
        self.slow_down_every = slow_down_every
        self.lock = threading.Lock()
        self.calls = 0
        self.running = 0
        self.most_at_once = 0
        self.threads: set[int] = set()

    def get_object(self, **params: str) -> dict:
        with self.lock:
            self.calls += 1
            call = self.calls
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.threads.add(threading.get_ident())
        try:
            time.sleep(random.uniform(0, 0.002))
            if self.slow_down_every and call % self.slow_down_every == 0:
                raise slow_down()
            return {"Body": Body(int(params["Key"]), self.size)}
        finally:
            with self.lock:
                self.running -= 1


def sha256_of(client, key: str) -> str:
    """What validate_logs does with a log file: stream it into a hash."""
    body = client.get_object(aws_retry=True, Bucket="logs", Key=key)["Body"]
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(CHUNK), b""):
        digest.update(chunk)
    return digest.hexdigest()


def expected(key: str, size: int) -> str:
    return hashlib.sha256(bytes([int(key) % 256]) * size).hexdigest()


def no_retry():
    return AWSRetry.jittered_backoff(retries=1)


@pytest.mark.parametrize("max_concurrency", [1, 2, 8, 16])
def test_results_come_back_in_the_callers_order(max_concurrency):
    fake = FakeS3()
    keys = [str(n) for n in range(300)]
    with ObjectReader(fake, max_concurrency, retry_decorator=no_retry) as reader:
        got = [(key, result()) for key, result in reader.ordered(sha256_of, keys)]
    assert [key for key, _value in got] == keys
    assert all(value == expected(key, fake.size) for key, value in got)
    assert fake.calls == 300


@pytest.mark.parametrize("max_concurrency", [2, 5, 10])
def test_no_more_reads_at_once_than_the_pool_allows(max_concurrency):
    fake = FakeS3()
    with ObjectReader(fake, max_concurrency, retry_decorator=no_retry) as reader:
        for _key, result in reader.ordered(sha256_of, [str(n) for n in range(200)]):
            result()
    assert 1 < fake.most_at_once <= max_concurrency
    assert len(fake.threads) <= max_concurrency


def test_a_pool_of_one_reads_in_the_callers_thread_one_at_a_time():
    fake = FakeS3()
    with ObjectReader(fake, 1, retry_decorator=no_retry) as reader:
        drawn = []
        for key, result in reader.ordered(sha256_of, (drawn.append(str(n)) or str(n) for n in range(20))):
            # Nothing is read ahead: the item is drawn and read when the caller gets to it.
            assert drawn[-1] == key and fake.calls == len(drawn)
            result()
    assert fake.threads == {threading.get_ident()}
    assert fake.most_at_once == 1


def test_items_are_drawn_only_as_the_window_frees_up():
    """A lazy listing is listed as it is read, not all at once."""
    fake = FakeS3()
    drawn = []

    def listing():
        for n in range(1000):
            drawn.append(n)
            yield str(n)

    with ObjectReader(fake, 4, retry_decorator=no_retry) as reader:
        for consumed, (_key, result) in enumerate(reader.ordered(sha256_of, listing(), window=6), start=1):
            result()
            assert len(drawn) <= consumed + 6
            if consumed == 50:
                break
    # Leaving early cancels what had not started: at most the window was read beyond.
    assert fake.calls <= 50 + 6


def test_memory_is_flat_with_the_number_of_objects():
    """Ten times the objects, of 256 KiB each, and the peak stays put: nothing
    holds a body, and only a window of results is kept."""

    def peak(count: int) -> int:
        fake = FakeS3(size=256 * 1024)
        tracemalloc.start()
        with ObjectReader(fake, 8, retry_decorator=no_retry) as reader:
            for _key, result in reader.ordered(sha256_of, (str(n) for n in range(count))):
                result()
        _current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(100), peak(1000)
    assert large < small * 1.5 + 64 * 1024, (small, large)
    # Far below what holding the objects would take (1000 x 256 KiB).
    assert large < 8 * 1024 * 1024


def test_an_error_comes_back_at_its_items_place_and_the_rest_are_still_read():
    def read(_client, key: str) -> str:
        if key in ("3", "7"):
            raise LookupError(key)
        return key

    with ObjectReader(FakeS3(), 4) as reader:
        outcomes = []
        for _key, result in reader.ordered(read, [str(n) for n in range(10)]):
            try:
                outcomes.append(result())
            except LookupError as error:
                outcomes.append(f"error {error}")
    assert outcomes == ["0", "1", "2", "error 3", "4", "5", "6", "error 7", "8", "9"]


@pytest.mark.parametrize("max_concurrency", [1, 8])
def test_slow_down_is_retried_with_backoff_and_every_object_is_read(monkeypatch, max_concurrency):
    sleeps: list[float] = []
    monkeypatch.setattr(cloud, "time", types.SimpleNamespace(sleep=sleeps.append))
    fake = FakeS3(slow_down_every=4)

    def policy():
        return AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=30, catch_extra_error_codes=["SlowDown"])

    keys = [str(n) for n in range(120)]
    with ObjectReader(RetryingBotoClientWrapper(fake, policy()), max_concurrency, retry_decorator=policy) as reader:
        got = {key: result() for key, result in reader.ordered(sha256_of, keys)}
    assert got == {key: expected(key, fake.size) for key in keys}
    # Every fourth call answered SlowDown and was made again after a wait.
    assert fake.calls == 120 + len(sleeps)
    assert len(sleeps) == fake.calls // 4
    assert all(0 <= wait <= 30 for wait in sleeps)


def test_each_thread_backs_off_on_its_own():
    """AWSRetry keeps its backoff in the decorator: one per thread, so one thread's
    first retry does not reset another's growing wait."""
    made = []

    def policy():
        made.append(threading.get_ident())
        return AWSRetry.jittered_backoff(retries=2)

    with ObjectReader(FakeS3(), 4, retry_decorator=policy) as reader:
        for _key, result in reader.ordered(sha256_of, [str(n) for n in range(100)]):
            result()
    assert len(made) == len(set(made)) <= 4


def test_without_a_retry_policy_the_given_client_is_used_as_it_is():
    fake = FakeS3()

    def read(client, key):
        assert client is fake
        return client.get_object(Bucket="logs", Key=key)["Body"].read(4)

    with ObjectReader(fake, 3) as reader:
        assert [result() for _key, result in reader.ordered(read, ["1", "2"])] == [b"\x01" * 4, b"\x02" * 4]


@pytest.mark.parametrize("max_concurrency", [1, 4])
def test_items_that_pass_are_not_read_and_come_back_in_their_place(max_concurrency):
    """validate_logs sends a digest's findings through the stream of log file reads:
    they are not read, and they keep their place among the reads."""
    fake = FakeS3()
    items = ["1", "note a", "2", "3", "note b", "note c", "4"]
    with ObjectReader(fake, max_concurrency, retry_decorator=no_retry) as reader:
        got = [(item, result()) for item, result in reader.ordered(sha256_of, items, passes=lambda item: item.startswith("note"))]
    assert [item for item, _value in got] == items
    assert all(value is None if item.startswith("note") else value == expected(item, fake.size) for item, value in got)
    assert fake.calls == 4


def test_items_that_pass_still_take_their_place_in_the_window():
    """A long run of items that are not read (the findings of many invalid digests)
    is not drawn all at once behind a slow read."""
    fake = FakeS3()
    drawn = []

    def stream():
        for n in range(1000):
            drawn.append(n)
            yield str(n) if n % 100 == 0 else f"note {n}"

    with ObjectReader(fake, 4, retry_decorator=no_retry) as reader:
        for consumed, (_item, result) in enumerate(reader.ordered(sha256_of, stream(), window=6, passes=lambda item: item.startswith("note")), start=1):
            result()
            assert len(drawn) <= consumed + 6
    assert fake.calls == 10


@pytest.mark.parametrize(
    "value, problem",
    [
        (1, None),
        (10, None),
        (64, None),
        (0, "max_concurrency: must be a whole number from 1 to 64 (got 0)"),
        (65, "max_concurrency: must be a whole number from 1 to 64 (got 65)"),
        (-3, "max_concurrency: must be a whole number from 1 to 64 (got -3)"),
        (True, "max_concurrency: must be a whole number from 1 to 64 (got True)"),
        ("8", "max_concurrency: must be a whole number from 1 to 64 (got '8')"),
    ],
)
def test_max_concurrency_rule(value, problem):
    assert s3_objects.max_concurrency_error(value) == problem


def test_client_config_keeps_a_connection_per_thread():
    assert s3_objects.client_config(4) == {"max_pool_connections": 10}
    assert s3_objects.client_config(32) == {"max_pool_connections": 32}
