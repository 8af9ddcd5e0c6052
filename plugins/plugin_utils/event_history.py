# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The event_history lookup's logic, free of Ansible and boto3: option
validation (raising ``ParameterError``, the collection's one parameter error,
named after the option), time parsing, the 90-day window, LookupEvents request building,
pacing (a token bucket per account and region shared by every reader in the
process), paging with throttling retries, and shaping and merging events.

Clocks, sleeps and API calls are passed in, so all of it is testable without
AWS and without waiting.
"""

from __future__ import annotations

import datetime
import json
import random
import re
import threading
import time
from typing import Any
from typing import Callable
from typing import Iterable
from typing import Optional

from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError

LOOKUP_ATTRIBUTE_KEYS = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)
EVENT_CATEGORIES = ("management", "insight")
# CloudTrail's limits for LookupEvents.
MAX_RESULTS = 50
RETENTION = datetime.timedelta(days=90)
REQUESTS_PER_SECOND = 2.0
# Error codes after which the same request is sent again, after a pause.
RETRYABLE_CODES = frozenset(
    (
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "InternalFailure",
        "ServiceUnavailable",
        "RequestTimeout",
    )
)
MAX_ATTEMPTS = 10
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0

_RELATIVE = re.compile(r"^-\s*(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


# -- options ----------------------------------------------------------------


def parse_time(value: Any, option: str, now: datetime.datetime) -> Optional[datetime.datetime]:
    """``now``, a relative time (``-30m``, ``-2h``, ``-7d``, ``-1w``, ``-90s``) or ISO 8601.

    A time without a zone is UTC. ``None`` or ``""`` means not given.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    text = str(value).strip()
    if text.lower() == "now":
        return now
    relative = _RELATIVE.match(text.lower())
    if relative:
        return now - datetime.timedelta(**{_UNITS[relative[2]]: int(relative[1])})
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ParameterError(
            option,
            f"cannot parse {text!r}; use ISO 8601 (2024-05-01T12:00:00Z), 'now', or a relative time"
            " such as -30m, -2h, -7d, -1w (units s, m, h, d, w)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def resolve_window(
    start_time: Any, end_time: Any, now: datetime.datetime
) -> tuple[Optional[datetime.datetime], Optional[datetime.datetime], Optional[str]]:
    """(start, end, warning): both parsed, start clamped to the 90 days CloudTrail keeps."""
    start = parse_time(start_time, "start_time", now)
    end = parse_time(end_time, "end_time", now)
    if start is not None and end is not None and start > end:
        raise ParameterError("start_time", f"{start.isoformat()} must not be after end_time ({end.isoformat()})")
    warning = None
    oldest = now - RETENTION
    if start is not None and start < oldest:
        warning = (
            f"start_time {start.isoformat()} is older than the 90 days of event history CloudTrail keeps;"
            f" reading from {oldest.isoformat()} instead"
        )
        start = oldest
        if end is not None and end < start:
            raise ParameterError("end_time", f"{end.isoformat()} is older than the 90 days of event history CloudTrail keeps")
    return start, end, warning


def lookup_attribute(value: Any) -> Optional[dict[str, str]]:
    """``{Key: value}`` with exactly one key among LOOKUP_ATTRIBUTE_KEYS, as LookupEvents' LookupAttribute."""
    if value is None or value == {}:
        return None
    allowed = ", ".join(LOOKUP_ATTRIBUTE_KEYS)
    if not isinstance(value, dict):
        raise ParameterError("lookup_attribute", f"must be a dictionary with one key, one of {allowed}")
    if len(value) != 1:
        raise ParameterError(
            "lookup_attribute",
            f"takes exactly one key (LookupEvents accepts one attribute per call), got {len(value)}:"
            f" {', '.join(sorted(map(str, value)))}; allowed keys: {allowed}"
        )
    key, attribute_value = next(iter(value.items()))
    if key not in LOOKUP_ATTRIBUTE_KEYS:
        raise ParameterError("lookup_attribute", f"unknown key {key!r}; allowed keys: {allowed}")
    if isinstance(attribute_value, bool):
        attribute_value = "true" if attribute_value else "false"
    if attribute_value is None or str(attribute_value) == "":
        raise ParameterError("lookup_attribute", f"the value of {key} must not be empty")
    attribute_value = str(attribute_value)
    if key == "ReadOnly" and attribute_value.lower() not in ("true", "false"):
        raise ParameterError("lookup_attribute", f"ReadOnly must be true or false, got {attribute_value!r}")
    if key == "ReadOnly":
        attribute_value = attribute_value.lower()
    return {"AttributeKey": key, "AttributeValue": attribute_value}


def event_category(value: Any) -> str:
    category = str(value or "management").lower()
    if category not in EVENT_CATEGORIES:
        raise ParameterError("event_category", f"must be one of {', '.join(EVENT_CATEGORIES)}, got {value!r}")
    return category


def _not_a_count(value: Any) -> ParameterError:
    return ParameterError("max_events", f"must be a whole number greater than 0, got {value!r}")


def max_events(value: Any) -> Optional[int]:
    """A positive whole number, or ``None`` for every event in the window."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise _not_a_count(value)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _not_a_count(value) from None
    if number <= 0 or str(number) != str(value).strip():
        raise _not_a_count(value)
    return number


def regions(values: Optional[Iterable[Any]], default: Optional[str], known: Iterable[str]) -> list[str]:
    """The regions to read, each a CloudTrail region, in the order given, without repeats."""
    known = sorted(set(known))
    wanted = [str(v) for v in values] if values else ([default] if default else [])
    if not wanted:
        raise ParameterError("regions", "no region given; set regions, or region (or AWS_REGION)")
    chosen: list[str] = []
    for region in wanted:
        if region not in known:
            option = "regions" if values else "region"
            raise ParameterError(option, f"unknown region {region!r}; CloudTrail's regions are: {', '.join(known)}")
        if region not in chosen:
            chosen.append(region)
    return chosen


def lookup_request(
    attribute: Optional[dict[str, str]],
    start: Optional[datetime.datetime],
    end: Optional[datetime.datetime],
    category: str,
    page_size: int,
) -> dict[str, Any]:
    """LookupEvents' parameters; every NextToken call repeats them unchanged."""
    params: dict[str, Any] = {"MaxResults": page_size}
    if attribute:
        params["LookupAttributes"] = [attribute]
    if start is not None:
        params["StartTime"] = start
    if end is not None:
        params["EndTime"] = end
    if category == "insight":
        params["EventCategory"] = "insight"
    return params


def page_size(limit: Optional[int]) -> int:
    return MAX_RESULTS if limit is None else min(MAX_RESULTS, limit)


# -- pacing -----------------------------------------------------------------


class TokenBucket:
    """``rate`` requests a second, one at a time (no bursts, so a reader never
    trips a server-side bucket of the same rate), shared by threads."""

    def __init__(
        self,
        rate: float = REQUESTS_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next: Optional[float] = None

    def reserve(self) -> float:
        """Take the next free slot; how long to wait for it."""
        with self._lock:
            now = self._clock()
            slot = now if self._next is None or self._next <= now else self._next
            self._next = slot + self.interval
            return slot - now

    def acquire(self) -> None:
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)


_BUCKETS: dict[tuple[str, str], TokenBucket] = {}
_BUCKETS_LOCK = threading.Lock()


def bucket_for(identity: str, region: str) -> TokenBucket:
    """The one bucket of (identity, region) in this process, whoever reads."""
    with _BUCKETS_LOCK:
        key = (identity, region)
        if key not in _BUCKETS:
            _BUCKETS[key] = TokenBucket()
        return _BUCKETS[key]


def error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def backoff(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """Full jitter: a random pause up to BACKOFF_BASE * 2**attempt, capped."""
    return rand() * min(BACKOFF_CAP, BACKOFF_BASE * (2**attempt))


def call_paced(
    call: Callable[..., dict[str, Any]],
    params: dict[str, Any],
    bucket: TokenBucket,
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
    max_attempts: int = MAX_ATTEMPTS,
) -> dict[str, Any]:
    """One request: wait for the bucket, send, and on throttling back off and
    go through the bucket again; other errors go to the caller."""
    for attempt in range(max_attempts):
        bucket.acquire()
        try:
            return call(**params)
        except Exception as error:  # botocore's ClientError, without importing botocore here
            if error_code(error) not in RETRYABLE_CODES or attempt == max_attempts - 1:
                raise
        sleep(backoff(attempt, rand))
    raise AssertionError("unreachable")


def read_events(
    call: Callable[..., dict[str, Any]],
    params: dict[str, Any],
    limit: Optional[int],
    bucket: TokenBucket,
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
) -> tuple[list[dict[str, Any]], int]:
    """Every page (up to ``limit`` events) of one region: (raw events, requests sent)."""
    events: list[dict[str, Any]] = []
    requests = 0
    token = None
    while True:
        page_params = dict(params, NextToken=token) if token else dict(params)
        page = call_paced(call, page_params, bucket, sleep=sleep, rand=rand)
        requests += 1
        events.extend(page.get("Events") or [])
        token = page.get("NextToken")
        if not token or (limit is not None and len(events) >= limit):
            break
    return (events if limit is None else events[:limit]), requests


# -- results ----------------------------------------------------------------


def _iso(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
        return moment.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    return str(value)


def shape_event(event: dict[str, Any], region: str) -> dict[str, Any]:
    """One LookupEvents event in snake_case, ``cloud_trail_event`` parsed, and the region read."""
    try:
        record = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        record = {"unparsed": event.get("CloudTrailEvent")}
    read_only = event.get("ReadOnly")
    return {
        "event_id": event.get("EventId"),
        "event_name": event.get("EventName"),
        "event_time": _iso(event.get("EventTime")),
        "event_source": event.get("EventSource"),
        "username": event.get("Username"),
        "read_only": None if read_only is None else str(read_only).lower() == "true",
        "access_key_id": event.get("AccessKeyId"),
        "resources": [
            {"resource_type": resource.get("ResourceType"), "resource_name": resource.get("ResourceName")}
            for resource in event.get("Resources") or []
        ],
        "region": region,
        "error_code": record.get("errorCode"),
        "error_message": record.get("errorMessage"),
        "cloud_trail_event": record,
    }


def _newest_first_key(event: dict[str, Any]) -> datetime.datetime:
    return datetime.datetime.fromisoformat(str(event["event_time"]).replace("Z", "+00:00"))


def merge_newest_first(per_region: Iterable[list[dict[str, Any]]], limit: Optional[int]) -> list[dict[str, Any]]:
    """All regions' shaped events, newest first, at most ``limit``.

    EventTime has whole seconds, so calls made in the same second tie. The sort
    is stable: tied events keep the order CloudTrail returned them in (its own
    newest-first order within a region), not an order made up from event ids."""
    merged = [event for events in per_region for event in events]
    merged.sort(key=_newest_first_key, reverse=True)
    return merged if limit is None else merged[:limit]
