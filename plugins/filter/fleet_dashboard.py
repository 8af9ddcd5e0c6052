# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_dashboard
short_description: Summarize a fleet's trails and event history for the dashboard
version_added: 1.0.0
description:
  - Takes what C(playbooks/dashboard.yml) gathered per account (the trails of M(trailops.cloudtrail.trail_info) and the
    events of the P(trailops.cloudtrail.event_history#lookup) lookup) and returns what the dashboard draws, ready for a
    template (per account rows, fleet totals, events per time slot, top event names, top users, error calls, the
    security-relevant changes and the recent events).
  - The collection's own role sessions (O(own_sessions)) are left out of every count, chart and table unless O(include_own);
    how many were left out is returned per account and in the totals.
  - The security-relevant changes are those of the fleet event search's default query
    (P(trailops.cloudtrail.event_search_events#filter)), with the same event names, and bucket and key events only on
    the fleet's log buckets and trail keys.
  - Counting is done here rather than in Jinja so that it is tested on its own and the template only draws.
author:
  - trailops.cloudtrail contributors (@trailops)
positional: now
options:
  _input:
    description:
      - One dictionary per account, with C(account_id), C(account_name), C(status), C(error) (V(null) when the account
        was read), C(trails) (RV(trailops.cloudtrail.trail_info#module:trails) of each region read) and C(events), and
        optionally C(regions) (the regions read), C(insights) (Insights events) and C(security_events) (the events of the
        security-relevant queries, when they were read apart; otherwise they are picked from C(events)), the event lists
        as the event_history lookup returns them.
    type: list
    elements: dict
    required: true
  now:
    description:
      - The end of the time window, ISO 8601. Defaults to the current time, UTC.
    type: str
  hours:
    description:
      - The length of the time window in hours; the events-over-time chart has one slot per hour, or per
        O(hours) / 24 hours beyond a day.
    type: int
    default: 24
  top:
    description:
      - How many event names, users and error calls to rank.
    type: int
    default: 10
  recent:
    description:
      - How many of the newest events to list.
    type: int
    default: 25
  own_sessions:
    description:
      - The role session names the collection uses; events of an assumed role with one of these session names are its own.
    type: list
    elements: str
    default: [trailops-cloudtrail]
  include_own:
    description:
      - Count and show the collection's own events too.
    type: bool
    default: false
  drift_report:
    description:
      - The content of C(drift_report.json) (C(playbooks/drift_report.yml)), for the drift column; V(null) when there is none,
        and every account is then V(not checked).
    type: dict
  max_events:
    description:
      - The most events read per account (C(dashboard_max_events)). An account with that many was cut short, so its event
        rate is taken over the time its events cover, not the whole window.
    type: int
"""

EXAMPLES = r"""
- name: Render the dashboard from what each account gathered
  ansible.builtin.template:
    src: dashboard.html.j2
    dest: build/reports/dashboard.html
    mode: "0644"
  vars:
    dashboard: >-
      {{ accounts | trailops.cloudtrail.fleet_dashboard(now=now(utc=true).isoformat(), hours=24,
                                                       own_sessions=['trailops-cloudtrail'], include_own=false,
                                                       drift_report=drift_report_json | default(none)) }}
"""

RETURN = r"""
_value:
  description: What the dashboard draws.
  type: dict
  contains:
    accounts:
      description:
        - The accounts, unreadable ones first, then by name and id, each as given with C(readable), C(trail_rows) (one row per
          trail, deduplicated across regions, with C(encryption), C(selectors), C(data_selectors), C(management_scope) (C(label), C(narrowed),
          C(reasons)), C(sns_topic), C(log_group) and C(insights) summarized, and C(costs) when the cost estimate is available),
          C(event_count) and C(error_count) (without the hidden own events), C(own_count) (the collection's own events read),
          C(drift) (C(status) V(clean), V(drifted), V(unreadable) or V(not checked), C(count), C(settings), C(error)),
          C(events_per_hour) (per region read, from all events, own ones included, as they are billed too) and C(costs).
      type: list
      elements: dict
    totals:
      description:
        - Counts over the fleet (accounts, unreadable accounts, trails, logging, validated, encrypted, with Insights, narrowed,
          events, errors, own events hidden, security changes, drift per status, billed duplicate copies).
      type: dict
    slots:
      description: The events per time slot, oldest first, each with C(start), C(label), C(count) and C(errors).
      type: list
      elements: dict
    top_event_names:
      description: The most frequent event names, each with C(name) and C(count).
      type: list
      elements: dict
    top_users:
      description: The users with the most events, each with C(name) and C(count).
      type: list
      elements: dict
    error_calls:
      description: The most frequent failed calls, each with C(name) (event name and error code) and C(count).
      type: list
      elements: dict
    security_changes:
      description:
        - The security-relevant changes of the fleet, newest first, as the event search reports them (C(account_id),
          C(account_name), C(region), C(event_time), C(event_name), C(actor), C(resources), C(error_code), ...).
      type: list
      elements: dict
    recent_events:
      description: The newest events of the fleet, each with its C(account_id) and C(account_name).
      type: list
      elements: dict
    insights_events:
      description: The Insights events of the fleet, newest first, each with its C(account_id) and C(account_name).
      type: list
      elements: dict
    include_own:
      description: Whether the collection's own events are counted.
      type: bool
    own_sessions:
      description: The session names taken as the collection's own.
      type: list
      elements: str
    drift_generated:
      description: When C(drift_report.json) was written, or V(null).
      type: str
    price_date:
      description: The date of the prices the cost estimates use, or V(null) when there are none.
      type: str
"""

import datetime
from collections import Counter
from typing import Any
from typing import Iterable
from typing import Optional

from ansible.errors import AnsibleFilterError

# The security-relevant changes and what is the collection's own session are the
# fleet event search's rules: one definition, used by both reports.
from ansible_collections.trailops.cloudtrail.plugins.filter.event_search import event_search_events
from ansible_collections.trailops.cloudtrail.plugins.filter.event_search import is_own_session
from ansible_collections.trailops.cloudtrail.plugins.module_utils.event_selectors import logged_management_events
from ansible_collections.trailops.cloudtrail.plugins.module_utils.event_selectors import logs_data_events
from ansible_collections.trailops.cloudtrail.plugins.module_utils.event_selectors import normalize_selection
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.trail_costs import CostInputError
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.trail_costs import event_rates
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.trail_costs import trail_costs
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.trail_costs import utc_time

OWN_SESSIONS = ("trailops-cloudtrail",)
NOT_CHECKED = "not checked"


def encryption(trail: dict[str, Any]) -> str:
    """CloudTrail encrypts log files with SSE-S3 unless a KMS key is set."""
    key = trail.get("kms_key_id")
    if not key:
        return "SSE-S3"
    return "SSE-KMS " + key.split("/")[-1]


def _resource_kind(resource_type: Optional[str]) -> Optional[str]:
    return {"AWS::S3::Object": "S3", "AWS::Lambda::Function": "Lambda", "AWS::DynamoDB::Table": "DynamoDB"}.get(resource_type, resource_type)


def selectors_summary(trail: dict[str, Any]) -> str:
    """One line in the console's words: which management events, which data events."""
    if trail.get("advanced_event_selectors"):
        return data_summary(trail)
    basic = trail.get("event_selectors") or []
    if not basic:
        return "Management: All"
    management = sorted({s.get("read_write_type", "All") for s in basic if s.get("include_management_events", True)})
    data = data_summary(trail)
    return "; ".join(["Management: " + ("/".join(management) if management else "none")] + ([data] if data else []))


def data_summary(trail: dict[str, Any]) -> str:
    """The data events part of the selectors, beside the management scope: the
    advanced selectors' names (their fields say more than a line can), or the
    basic selectors' resources by kind; "" for none."""
    advanced = trail.get("advanced_event_selectors") or []
    if advanced:
        return "Advanced: " + ", ".join(selector.get("name") or "unnamed" for selector in advanced)
    kinds: Counter = Counter()
    for selector in trail.get("event_selectors") or []:
        for resource in selector.get("data_resources") or []:
            kinds[_resource_kind(resource.get("type"))] += len(resource.get("values") or [])
    return ("Data: " + ", ".join("%s (%d)" % (kind, count) for kind, count in sorted(kinds.items()))) if kinds else ""


def management_scope(trail: dict[str, Any]) -> dict[str, Any]:
    """Which management events the trail records, and whether that is narrower
    than all of them, reads and writes (the console's default, and the fleet
    baseline's): a narrowed trail misses what an investigation needs. Reads and
    writes as the selectors module reads them; the filters (excluded sources,
    other advanced fields) are what it leaves out of that question. A trail of
    data events only is a trail kept for them, beside a management one, not a
    narrowed one."""
    selection = normalize_selection(trail.get("event_selectors"), trail.get("advanced_event_selectors"))
    recorded = logged_management_events(selection)
    filters: list[str] = []
    for selector in selection["event_selectors"]:
        if selector["include_management_events"]:
            filters.extend(f"excludes {source}" for source in selector["exclude_management_event_sources"])
    for selector in selection["advanced_event_selectors"]:
        fields = {field["field"]: field for field in selector["field_selectors"]}
        if "Management" in (fields.get("eventCategory") or {}).get("equals", []):
            filters.extend(f"filtered by {name}" for name in sorted(set(fields) - {"eventCategory", "readOnly"}))
    filters = list(dict.fromkeys(filters)) if recorded else []
    base, missing = {
        frozenset(): ("None", ["no management events"]),
        frozenset({"read"}): ("Read-only", ["no write events"]),
        frozenset({"write"}): ("Write-only", ["no read events"]),
    }.get(frozenset(recorded), ("All (read + write)", []))
    if not recorded and logs_data_events(selection):
        return {"label": "None (data events trail)", "narrowed": False, "reasons": []}
    label = base + (" · " + ", ".join(filters) if filters else "")
    return {"label": label, "narrowed": bool(missing or filters), "reasons": missing + filters}


def insights_summary(trail: dict[str, Any]) -> str:
    types = [selector.get("insight_type", "") for selector in trail.get("insight_selectors") or []]
    return ", ".join(name.replace("Insight", "") for name in types) if types else "Off"


def log_group_name(arn: Optional[str]) -> Optional[str]:
    """The log group's name, as the console's trail list shows it, from
    CloudTrail's ``arn:aws:logs:<region>:<account>:log-group:<name>:*``."""
    if not arn:
        return None
    name = arn.split(":log-group:", 1)[-1]
    return name[:-2] if name.endswith(":*") else name


def sns_topic(trail: dict[str, Any]) -> Optional[str]:
    arn = trail.get("sns_topic_arn")
    return trail.get("sns_topic_name") or (arn.rsplit(":", 1)[-1] if arn else None)


def trail_rows(trails: Optional[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Each trail once: trail_info in several regions shows a multi-region trail in each."""
    rows, seen = [], set()
    for trail in trails or []:
        if trail.get("trail_arn") in seen:
            continue
        seen.add(trail.get("trail_arn"))
        row = dict(trail)
        row["encryption"] = encryption(trail)
        row["selectors"] = selectors_summary(trail)
        row["management_scope"] = management_scope(trail)
        row["data_selectors"] = data_summary(trail)
        row["insights"] = insights_summary(trail)
        row["sns_topic"] = sns_topic(trail)
        row["log_group"] = log_group_name(trail.get("cloud_watch_logs_log_group_arn"))
        rows.append(row)
    return sorted(rows, key=lambda row: (row.get("home_region") or "", row.get("name") or ""))


def time_slots(events: list[dict[str, Any]], now: datetime.datetime, hours: int) -> list[dict[str, Any]]:
    """Counts per slot, oldest first; one slot an hour up to a day, 24 slots beyond."""
    slot_count = min(hours, 24)
    width = datetime.timedelta(hours=hours) / slot_count
    start = now - datetime.timedelta(hours=hours)
    slots = []
    for index in range(slot_count):
        begin = start + width * index
        slots.append({"start": begin.isoformat(), "label": begin.strftime("%H:%M" if hours <= 24 else "%m-%d %H:%M"), "count": 0, "errors": 0})
    for event in events:
        offset = utc_time(event["event_time"]) - start
        if offset < datetime.timedelta(0) or offset > datetime.timedelta(hours=hours):
            continue
        slot = slots[min(int(offset / width), slot_count - 1)]
        slot["count"] += 1
        if event.get("error_code"):
            slot["errors"] += 1
    return slots


def is_own(event: dict[str, Any], own_sessions: Iterable[str]) -> bool:
    return any(is_own_session(event, name) for name in own_sessions)


def drift_by_account(report: Optional[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each account's cell of the drift column, from drift_report.json."""
    cells = {}
    for account in (report or {}).get("accounts") or []:
        drift = account.get("drift") or []
        cells[str(account.get("account_id"))] = {
            "status": account.get("status") or NOT_CHECKED,
            "count": len(drift),
            "settings": ["%s %s" % (item.get("resource"), item.get("setting")) for item in drift],
            "error": account.get("error"),
        }
    return cells


def _unique_trails(trails: Optional[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    seen, unique = set(), []
    for trail in trails or []:
        if trail.get("trail_arn") not in seen:
            seen.add(trail.get("trail_arn"))
            unique.append(trail)
    return unique


def _ranked(counter: Counter, top: int) -> list[dict[str, Any]]:
    return [{"name": name, "count": count} for name, count in sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:top]]


def _newest_first(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(events, key=lambda event: utc_time(event["event_time"]), reverse=True)


def _check(accounts: Any, hours: Any, own_sessions: Any) -> list[str]:
    if not isinstance(accounts, list):
        raise AnsibleFilterError("fleet_dashboard expects a list of accounts, got %s" % type(accounts).__name__)
    if int(hours) < 1:
        raise AnsibleFilterError("fleet_dashboard: hours must be at least 1, got %s" % hours)
    sessions = OWN_SESSIONS if own_sessions is None else own_sessions
    if isinstance(sessions, str) or not all(isinstance(name, str) and name for name in sessions):
        raise AnsibleFilterError("fleet_dashboard: own_sessions must be a list of non-empty session names, got %r" % (own_sessions,))
    return list(sessions)


def fleet_dashboard(
    accounts: list[dict[str, Any]],
    now: Optional[str] = None,
    hours: int = 24,
    top: int = 10,
    recent: int = 25,
    own_sessions: Optional[list[str]] = None,
    include_own: bool = False,
    drift_report: Optional[dict[str, Any]] = None,
    max_events: Optional[int] = None,
) -> dict[str, Any]:
    sessions = _check(accounts, hours, own_sessions)
    hours, top, recent = int(hours), int(top), int(recent)
    end = utc_time(now) if now else datetime.datetime.now(datetime.timezone.utc)
    drift = drift_by_account(drift_report)

    # A log bucket or trail key in another account (a log-archive account) counts
    # wherever its policy is changed, as in the fleet event search.
    fleet_trails = [trail for account in accounts for trail in account.get("trails") or []]
    log_buckets = sorted({trail["s3_bucket_name"] for trail in fleet_trails if trail.get("s3_bucket_name")})
    trail_keys = sorted({trail["kms_key_id"] for trail in fleet_trails if trail.get("kms_key_id")})

    rows, all_events, insights, changes = [], [], [], []
    # Unreadable accounts first: they are what a person has to act on.
    for account in sorted(accounts, key=lambda a: (not a.get("error"), str(a.get("account_name") or ""), str(a.get("account_id")))):
        row = dict(account)
        account_id, account_name = str(account.get("account_id")), account.get("account_name") or ""
        label = {"account_id": account_id, "account_name": account_name}
        row["readable"] = not account.get("error")
        row["trail_rows"] = trail_rows(account.get("trails"))
        read = account.get("events") or []
        own = [event for event in read if is_own(event, sessions)]
        shown = read if include_own else [event for event in read if not is_own(event, sessions)]
        events = [dict(event, **label) for event in shown]
        row["own_count"] = len(own)
        row["event_count"] = len(events)
        row["error_count"] = sum(1 for event in events if event.get("error_code"))
        row["drift"] = drift.get(account_id) or {"status": NOT_CHECKED, "count": 0, "settings": [], "error": None}
        # Every event read counts, the collection's own too: they are billed as well.
        regions = account.get("regions") or sorted({event["region"] for event in read if event.get("region")})
        row["events_per_hour"] = event_rates(read, regions, hours, end, max_events) if row["readable"] else {}
        row["costs"] = _costs(row) if row["readable"] else None
        candidates = account.get("security_events")
        candidates = read if candidates is None else candidates
        if not include_own:
            candidates = [event for event in candidates if not is_own(event, sessions)]
        row["security_changes"] = event_search_events(list(candidates), {}, account_id, account_name, log_buckets, trail_keys, include_own=True)
        changes.extend(row["security_changes"])
        all_events.extend(events)
        insights.extend(dict(event, **label) for event in account.get("insights") or [])
        rows.append(row)

    trails = [trail for row in rows for trail in row["trail_rows"]]
    drift_counts = Counter(row["drift"]["status"] for row in rows)
    return {
        "generated": end.isoformat(),
        "hours": hours,
        "include_own": bool(include_own),
        "own_sessions": sessions,
        "drift_generated": (drift_report or {}).get("generated"),
        "price_date": next((row["costs"]["price_date"] for row in rows if row.get("costs")), None),
        "accounts": rows,
        "totals": {
            "accounts": len(rows),
            "unreadable": sum(1 for row in rows if not row["readable"]),
            "trails": len(trails),
            "logging": sum(1 for trail in trails if trail.get("is_logging")),
            "validated": sum(1 for trail in trails if trail.get("log_file_validation_enabled")),
            "encrypted_kms": sum(1 for trail in trails if trail.get("kms_key_id")),
            "insights": sum(1 for trail in trails if trail.get("insight_selectors")),
            "narrowed": sum(1 for trail in trails if trail["management_scope"]["narrowed"]),
            "events": len(all_events),
            "errors": sum(1 for event in all_events if event.get("error_code")),
            "own": sum(row["own_count"] for row in rows),
            "security_changes": len(changes),
            "drift": dict(drift_counts),
            "billed_duplicates": sum(len(row["costs"]["duplicates"]) for row in rows if row.get("costs")),
        },
        "slots": time_slots(all_events, end, hours),
        "top_event_names": _ranked(Counter(event.get("event_name") for event in all_events), top),
        "top_users": _ranked(Counter(event.get("username") or "(unknown)" for event in all_events), top),
        "error_calls": _ranked(
            Counter("%s: %s" % (event.get("event_name"), event.get("error_code")) for event in all_events if event.get("error_code")), top
        ),
        "security_changes": sorted(changes, key=lambda entry: utc_time(entry["event_time"]), reverse=True),
        "recent_events": _newest_first(all_events)[:recent],
        "insights_events": _newest_first(insights)[:recent],
    }


def _costs(row: dict[str, Any]) -> Optional[dict[str, Any]]:
    """The account's cost estimate (trail_costs), with each trail's share put on its row."""
    try:
        costs = trail_costs(_unique_trails(row.get("trails")), events_per_hour=row["events_per_hour"])
    except CostInputError as error:
        raise AnsibleFilterError(f"fleet_dashboard: account {row.get('account_id')}: {error}") from None
    for trail in row["trail_rows"]:
        trail["costs"] = (costs.get("trails") or {}).get(trail.get("trail_arn"))
    return costs


class FilterModule:
    def filters(self):
        return {"fleet_dashboard": fleet_dashboard}
