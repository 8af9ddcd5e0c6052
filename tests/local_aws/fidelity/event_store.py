"""The event store: the events CloudTrail has recorded, per account and region.

One store feeds everything that reads CloudTrail's events back: LookupEvents
(``lookup_events``), log file delivery (``delivery``, and through it SNS and
CloudWatch Logs). The server's own calls come in through ``api_calls``, the
events a test seeds through ``lookup_events``. Each event is a dict of
LookupEvents' ``Event`` fields (``EventTime`` a datetime) plus the store's own
bookkeeping, which only the functions below read: ``category`` and
``arrival_order``. Events are kept in the order they were recorded, so an index
into ``events(account, region)`` stays valid until ``clear``.

All reads and writes take the store's lock; readers get copies. Importing this
module does not import moto.
"""

from __future__ import annotations

import datetime
import itertools
import json
import threading
import uuid
from typing import Any, Iterable

from tests.local_aws.fidelity import hooks

MANAGEMENT = "Management"
INSIGHT = "Insight"
# The store's bookkeeping keys: never part of a LookupEvents answer.
_CATEGORY = "_category"
_SEQUENCE_KEY = "_seq"

_LOCK = threading.Lock()
# Arrival order, for events of the same second (itertools.count is atomic under the GIL).
_SEQUENCE = itertools.count()
_EVENTS: dict[tuple[str, str], list[dict[str, Any]]] = {}
_INSTALLED: list[bool] = []


def now() -> datetime.datetime:
    """The store's clock: the time a call is recorded at (UTC)."""
    return datetime.datetime.now(datetime.timezone.utc)


def lookup_username(user_identity: dict[str, Any]) -> str:
    """LookupEvents' Username: the user name, the role session name, or root."""
    if user_identity.get("type") == "AssumedRole":
        return user_identity["arn"].rsplit("/", 1)[-1]
    if user_identity.get("type") == "Root":
        return "root"
    return user_identity.get("userName", "")


def new_event(
    *,
    account_id: str,
    region: str,
    event_name: str,
    event_source: str,
    event_time: datetime.datetime,
    user_identity: dict[str, Any],
    read_only: bool,
    request_parameters: dict[str, Any] | None,
    resources: list[dict[str, str]],
    error: tuple[str, str] | None = None,
    category: str = MANAGEMENT,
    username: str | None = None,
    response_elements: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One event: LookupEvents' summary fields plus the record behind CloudTrailEvent
    (``username`` overrides the Username derived from ``user_identity``)."""
    event_id = str(uuid.uuid4())
    # CloudTrail records whole seconds, and LookupEvents answers the record's own time:
    # a lookup that ends at a record's eventTime must find it.
    event_time = event_time.replace(microsecond=0)
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": user_identity,
        "eventTime": event_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": "127.0.0.1",
        "userAgent": "local-aws",
        "requestParameters": request_parameters,
        "responseElements": response_elements,
        "requestID": str(uuid.uuid4()),
        "eventID": event_id,
        "readOnly": read_only,
        "eventType": "AwsApiCall" if category == MANAGEMENT else "AwsCloudTrailInsight",
        "managementEvent": category == MANAGEMENT,
        "recipientAccountId": account_id,
        "eventCategory": category,
    }
    if error:
        record["errorCode"], record["errorMessage"] = error
    return {
        "EventId": event_id,
        "EventName": event_name,
        "ReadOnly": "true" if read_only else "false",
        "AccessKeyId": user_identity.get("accessKeyId", ""),
        "EventTime": event_time,
        "EventSource": event_source,
        "Username": username if username is not None else lookup_username(user_identity),
        "Resources": resources,
        "CloudTrailEvent": json.dumps(record),
        _CATEGORY: category,
        _SEQUENCE_KEY: next(_SEQUENCE),
    }


def record(account_id: str, region: str, events: Iterable[dict[str, Any]]) -> None:
    """Add ``events`` (from ``new_event``) to the history of ``account_id``/``region``."""
    with _LOCK:
        _EVENTS.setdefault((account_id, region), []).extend(events)


def events(account_id: str, region: str) -> list[dict[str, Any]]:
    """The events of ``account_id``/``region``, in the order they were recorded (a copy)."""
    with _LOCK:
        return list(_EVENTS.get((account_id, region), []))


def counts() -> dict[tuple[str, str], int]:
    """How many events each (account, region) holds: where the store has events, and how far each list reaches."""
    with _LOCK:
        return {place: len(stored) for place, stored in _EVENTS.items()}


def category(event: dict[str, Any]) -> str:
    """``Management`` or ``Insight`` (LookupEvents' EventCategory, as CloudTrail records it)."""
    return event[_CATEGORY]


def arrival_order(event: dict[str, Any]) -> tuple[datetime.datetime, int]:
    """Sort key: event time, then, for events of the same (whole) second, the order they were recorded in."""
    return event["EventTime"], event[_SEQUENCE_KEY]


def summary(event: dict[str, Any]) -> dict[str, Any]:
    """The event as LookupEvents' ``Event`` (``EventTime`` still a datetime)."""
    return {key: value for key, value in event.items() if key not in (_CATEGORY, _SEQUENCE_KEY)}


def clear() -> None:
    """Forget every event (``/moto-api/reset``)."""
    with _LOCK:
        _EVENTS.clear()


def install() -> None:
    """Forget every event on ``/moto-api/reset`` (inside the server)."""
    if not _INSTALLED:
        hooks.on_reset(clear)
        _INSTALLED.append(True)
