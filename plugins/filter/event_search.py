# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The shaping behind ``playbooks/event_search.yml``, the fleet-wide event
search: which LookupEvents queries to send, which of the events they return to
keep, and the report (documentation: event_search_queries.yml,
event_search_events.yml, event_search_report.yml).

LookupEvents takes exactly one lookup attribute per request, so a search by
several names, users, resources or sources is several queries; this module
plans them, and applies the rest of the search to what comes back. It is plain
Python rather than Jinja so that the rules (what counts as a security-relevant
change, what is the collection's own session) are tested by case tables.
"""

from __future__ import annotations

import datetime
from typing import Any
from typing import Iterable
from typing import Optional

from ansible.errors import AnsibleFilterError

from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils import event_history

# The search variables, in the order in which the first one given is sent to
# LookupEvents (the rest are applied to the events that come back), with the
# lookup attribute each one is.
FILTER_ATTRIBUTES = (
    ("event_names", "EventName"),
    ("resource_names", "ResourceName"),
    ("usernames", "Username"),
    ("event_sources", "EventSource"),
)

# The default query, "security-relevant changes": calls that stop or narrow
# what CloudTrail records, by event source.
TRAIL_CHANGES = ("StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors")
# ... and calls that can stop delivery or destroy the logs, but only when they
# name a trail's log bucket or key (any other bucket policy is not our business).
LOG_BUCKET_CHANGES = ("PutBucketPolicy", "DeleteBucketPolicy")
TRAIL_KEY_CHANGES = ("ScheduleKeyDeletion", "DisableKey")
SECURITY_EVENT_NAMES = TRAIL_CHANGES + LOG_BUCKET_CHANGES + TRAIL_KEY_CHANGES
EVENT_SOURCES = {
    **{name: "cloudtrail.amazonaws.com" for name in TRAIL_CHANGES},
    **{name: "s3.amazonaws.com" for name in LOG_BUCKET_CHANGES},
    **{name: "kms.amazonaws.com" for name in TRAIL_KEY_CHANGES},
}


def _strings(value: Any, name: str) -> list[str]:
    """A search variable as a list of non-empty strings (a single string is one value)."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise AnsibleFilterError(f"event_search_{name} must be a list of strings, got {type(value).__name__}")
    items = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise AnsibleFilterError(f"event_search_{name} must be a list of non-empty strings, got {item!r}")
        if item.strip() not in items:
            items.append(item.strip())
    return items


def _search(search: Optional[dict[str, Any]]) -> dict[str, list[str]]:
    search = search or {}
    if not isinstance(search, dict):
        raise AnsibleFilterError("event_search: the search must be a dictionary of event_names, resource_names, usernames, event_sources")
    unknown = sorted(set(search) - {name for name, _attribute in FILTER_ATTRIBUTES})
    if unknown:
        allowed = ", ".join(name for name, _attribute in FILTER_ATTRIBUTES)
        raise AnsibleFilterError(f"event_search: unknown search key {', '.join(unknown)}; allowed: {allowed}")
    return {name: _strings(search.get(name), name) for name, _attribute in FILTER_ATTRIBUTES}


def is_default_search(search: Optional[dict[str, Any]]) -> bool:
    return not any(_search(search).values())


def event_search_queries(search: Optional[dict[str, Any]]) -> list[dict[str, str]]:
    """The ``lookup_attribute`` of each LookupEvents query, one per value of the
    first search variable given (LookupEvents takes one attribute per request),
    or one per event name of the default security query when none is given."""
    wanted = _search(search)
    for name, attribute in FILTER_ATTRIBUTES:
        if wanted[name]:
            return [{attribute: value} for value in wanted[name]]
    return [{"EventName": name} for name in SECURITY_EVENT_NAMES]


def event_search_window(start_time: Any, end_time: Any, now: Optional[datetime.datetime] = None) -> dict[str, Any]:
    """The search's window in absolute UTC times, resolved once for the whole
    fleet (so that ``-7d`` means the same week in every account), with the
    event_history lookup's own rules: the same forms, start clamped to the 90
    days CloudTrail keeps (``warning`` says so)."""
    now = now or event_history.utcnow()
    try:
        start, end, warning = event_history.resolve_window(start_time, end_time, now)
    except ParameterError as error:
        # The lookup's option names are start_time/end_time; the playbook's are event_search_*.
        raise AnsibleFilterError(f"event_search: {error}".replace("start_time", "event_search_start").replace("end_time", "event_search_end"))
    end = end or now
    if warning:
        warning = warning.replace("start_time", "event_search_start")
    return {"start_time": _utc_iso(start) if start else None, "end_time": _utc_iso(end), "warning": warning}


def event_search_regions(regions: Any, known: Optional[Iterable[str]] = None) -> list[str]:
    """``event_search_regions`` checked once for the whole fleet, before any
    account is touched: a list (a single region may be given as a string) of
    CloudTrail's regions, by the event_history lookup's own rule. Empty stays
    empty: each account then searches its own region."""
    if regions is None or regions == "" or regions == []:
        return []
    if isinstance(regions, str):
        regions = [regions]
    if not isinstance(regions, (list, tuple)):
        raise AnsibleFilterError(f"event_search_regions must be a list of regions, got {type(regions).__name__}")
    try:
        return event_history.regions(regions, None, known if known is not None else _cloudtrail_regions())
    except ParameterError as error:
        raise AnsibleFilterError(f"event_search_{error}")


def _cloudtrail_regions() -> set[str]:
    """botocore's CloudTrail regions in every partition, as the lookup checks them (no API call)."""
    import boto3  # pylint: disable=import-outside-toplevel  # only this check needs it

    session = boto3.session.Session()
    known: set[str] = set()
    for partition in session.get_available_partitions():
        known.update(session.get_available_regions("cloudtrail", partition_name=partition))
    return known


def _utc_iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _key_id(value: str) -> str:
    """A KMS key ARN or key id as the key id, so that the ARN a trail stores and
    the id or ARN an event names compare equal."""
    return value.rsplit(":key/", 1)[-1] if ":key/" in value else value


def _resource_names(event: dict[str, Any]) -> list[str]:
    names = [str(r.get("resource_name")) for r in event.get("resources") or [] if r.get("resource_name")]
    parameters = (event.get("cloud_trail_event") or {}).get("requestParameters") or {}
    for key in ("bucketName", "keyId"):
        if isinstance(parameters.get(key), str):
            names.append(parameters[key])
    return names


def is_security_relevant(event: dict[str, Any], log_buckets: Iterable[str], trail_keys: Iterable[str]) -> bool:
    name = event.get("event_name")
    if EVENT_SOURCES.get(name) != event.get("event_source"):
        return False
    if name in TRAIL_CHANGES:
        return True
    if name in LOG_BUCKET_CHANGES:
        return bool(set(_resource_names(event)) & set(log_buckets))
    keys = {_key_id(key) for key in trail_keys if key}
    return bool({_key_id(resource) for resource in _resource_names(event)} & keys)


def _identity(event: dict[str, Any]) -> dict[str, Any]:
    return (event.get("cloud_trail_event") or {}).get("userIdentity") or {}


def is_own_session(event: dict[str, Any], session_name: str) -> bool:
    """Made by the collection: its role session name (the Username of an
    assumed role's calls is the session name). An IAM user who happens to be
    called the same is not the collection."""
    if event.get("username") != session_name:
        return False
    return _identity(event).get("type") in (None, "AssumedRole")


def _matches(event: dict[str, Any], wanted: dict[str, list[str]]) -> bool:
    """Every search variable given holds (values of one variable are alternatives)."""
    checks = {
        "event_names": [event.get("event_name")],
        "resource_names": _resource_names(event),
        "usernames": [event.get("username")],
        "event_sources": [event.get("event_source")],
    }
    return all(not values or set(values) & set(checks[name]) for name, values in wanted.items())


def _entry(event: dict[str, Any], account_id: str, account_name: str) -> dict[str, Any]:
    identity = _identity(event)
    record = event.get("cloud_trail_event") or {}
    return {
        "account_id": str(account_id),
        "account_name": account_name,
        "region": event.get("region"),
        "event_time": event.get("event_time"),
        "event_name": event.get("event_name"),
        "event_source": event.get("event_source"),
        "actor": {
            "user_name": event.get("username"),
            "type": identity.get("type"),
            "arn": identity.get("arn"),
        },
        "source_ip": record.get("sourceIPAddress"),
        "resources": [{"type": r.get("resource_type"), "name": r.get("resource_name")} for r in event.get("resources") or []],
        "error_code": event.get("error_code"),
        "event_id": event.get("event_id"),
    }


def _time(entry: dict[str, Any]) -> datetime.datetime:
    return datetime.datetime.fromisoformat(str(entry["event_time"]).replace("Z", "+00:00"))


def event_search_events(
    events: list[dict[str, Any]],
    search: Optional[dict[str, Any]] = None,
    account_id: str = "",
    account_name: str = "",
    log_buckets: Optional[Iterable[str]] = None,
    trail_keys: Optional[Iterable[str]] = None,
    session_name: str = "trailops-cloudtrail",
    include_own: bool = False,
) -> list[dict[str, Any]]:
    """The report entries of one account, newest first: the events of all its
    queries (an event found by two queries once), kept when they match the whole
    search (or, for the default query, are a security-relevant change), without
    the collection's own session unless ``include_own``."""
    if not isinstance(events, list):
        raise AnsibleFilterError("event_search_events: expects the list of events of the event_history lookup")
    wanted = _search(search)
    default = not any(wanted.values())
    seen = set()
    entries = []
    for event in events:
        key = (event.get("event_id"), event.get("region"))
        if key in seen:
            continue
        seen.add(key)
        if default and not is_security_relevant(event, log_buckets or (), trail_keys or ()):
            continue
        if not default and not _matches(event, wanted):
            continue
        if not include_own and is_own_session(event, session_name):
            continue
        entries.append(_entry(event, account_id, account_name))
    entries.sort(key=_time, reverse=True)
    return entries


def event_search_report(accounts: list[Optional[dict[str, Any]]], search: Optional[dict[str, Any]] = None, **details: Any) -> dict[str, Any]:
    """The fleet's report: the accounts (searched or unreadable, with the
    reason), and every account's events merged, newest first."""
    rows = []
    events = []
    for account in accounts:
        if not isinstance(account, dict):
            raise AnsibleFilterError("event_search_report: every account must be a dictionary")
        row = {
            "account_id": str(account.get("account_id", "")),
            "account_name": account.get("account_name") or "",
            "status": account.get("status") or "unreadable",
            "error": account.get("error"),
            "regions": account.get("regions") or [],
            "event_count": len(account.get("events") or []),
        }
        if row["status"] == "unreadable" and not row["error"]:
            row["error"] = "no result - the account's search did not finish"
        rows.append(row)
        events.extend(account.get("events") or [])
    events.sort(key=_time, reverse=True)
    rows.sort(key=lambda row: (row["status"] != "unreadable", row["account_id"]))
    query = "security-relevant changes" if is_default_search(search) else {k: v for k, v in _search(search).items() if v}
    return dict(details, query=query, accounts=rows, events=events)


class FilterModule:
    def filters(self):
        return {
            "event_search_queries": event_search_queries,
            "event_search_events": event_search_events,
            "event_search_report": event_search_report,
            "event_search_regions": event_search_regions,
            "event_search_window": event_search_window,
        }
