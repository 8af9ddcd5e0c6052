# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
name: fleet_dashboard
short_description: Summarize a fleet's trails and event history for the dashboard
version_added: 1.0.0
description:
  - Takes what C(playbooks/dashboard.yml) gathered per account (the trails of M(trailops.cloudtrail.trail_info) and the
    events of the P(trailops.cloudtrail.event_history#lookup) lookup) and returns what the dashboard draws, ready for a
    template (per account rows, fleet totals, events per time slot, top event names, top users and error calls).
  - Counting is done here rather than in Jinja so that it is tested on its own and the template only draws.
author:
  - trailops.cloudtrail contributors (@trailops)
positional: now
options:
  _input:
    description:
      - One dictionary per account, with C(account_id), C(account_name), C(status), C(error) (V(null) when the account
        was read), C(trails) (RV(trailops.cloudtrail.trail_info#module:trails) of each region read) and C(events), and
        optionally C(insights) (Insights events), both lists as the event_history lookup returns them.
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
"""

EXAMPLES = r"""
- name: Render the dashboard from what each account gathered
  ansible.builtin.template:
    src: dashboard.html.j2
    dest: build/reports/dashboard.html
    mode: "0644"
  vars:
    dashboard: "{{ accounts | trailops.cloudtrail.fleet_dashboard(now=now(utc=true).isoformat(), hours=24) }}"
"""

RETURN = r"""
_value:
  description: What the dashboard draws.
  type: dict
  contains:
    accounts:
      description:
        - The accounts, unreadable ones first, then by name and id, each as given with C(readable), C(trail_rows) (one row per trail, deduplicated across
          regions, with C(encryption), C(selectors) and C(insights) summarized as text), C(event_count) and C(error_count).
      type: list
      elements: dict
    totals:
      description: Counts over the fleet (accounts, unreadable accounts, trails, logging, validated, encrypted, with Insights, events, errors).
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
    recent_events:
      description: The newest events of the fleet, each with its C(account_id).
      type: list
      elements: dict
    insights_events:
      description: The Insights events of the fleet, newest first, each with its C(account_id).
      type: list
      elements: dict
"""

import datetime
from collections import Counter

from ansible.errors import AnsibleFilterError


def _parse_time(value):
    if isinstance(value, datetime.datetime):
        parsed = value
    else:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def encryption(trail):
    """CloudTrail encrypts log files with SSE-S3 unless a KMS key is set."""
    key = trail.get("kms_key_id")
    if not key:
        return "SSE-S3"
    return "SSE-KMS " + key.split("/")[-1]


def _resource_kind(resource_type):
    return {"AWS::S3::Object": "S3", "AWS::Lambda::Function": "Lambda", "AWS::DynamoDB::Table": "DynamoDB"}.get(resource_type, resource_type)


def selectors_summary(trail):
    """One line in the console's words: which management events, which data events."""
    advanced = trail.get("advanced_event_selectors") or []
    if advanced:
        names = [selector.get("name") or "unnamed" for selector in advanced]
        return "Advanced: " + ", ".join(names)
    basic = trail.get("event_selectors") or []
    if not basic:
        return "Management: All"
    parts = []
    management = sorted({s.get("read_write_type", "All") for s in basic if s.get("include_management_events", True)})
    parts.append("Management: " + ("/".join(management) if management else "none"))
    kinds = Counter()
    for selector in basic:
        for resource in selector.get("data_resources") or []:
            kinds[_resource_kind(resource.get("type"))] += len(resource.get("values") or [])
    if kinds:
        parts.append("Data: " + ", ".join("%s (%d)" % (kind, count) for kind, count in sorted(kinds.items())))
    return "; ".join(parts)


def insights_summary(trail):
    types = [selector.get("insight_type", "") for selector in trail.get("insight_selectors") or []]
    return ", ".join(name.replace("Insight", "") for name in types) if types else "Off"


def trail_rows(trails):
    """Each trail once: trail_info in several regions shows a multi-region trail in each."""
    rows, seen = [], set()
    for trail in trails or []:
        if trail.get("trail_arn") in seen:
            continue
        seen.add(trail.get("trail_arn"))
        row = dict(trail)
        row["encryption"] = encryption(trail)
        row["selectors"] = selectors_summary(trail)
        row["insights"] = insights_summary(trail)
        rows.append(row)
    return sorted(rows, key=lambda row: (row.get("home_region") or "", row.get("name") or ""))


def time_slots(events, now, hours):
    """Counts per slot, oldest first; one slot an hour up to a day, 24 slots beyond."""
    slot_count = min(hours, 24)
    width = datetime.timedelta(hours=hours) / slot_count
    start = now - datetime.timedelta(hours=hours)
    slots = []
    for index in range(slot_count):
        begin = start + width * index
        slots.append({"start": begin.isoformat(), "label": begin.strftime("%H:%M" if hours <= 24 else "%m-%d %H:%M"), "count": 0, "errors": 0})
    for event in events:
        offset = _parse_time(event["event_time"]) - start
        if offset < datetime.timedelta(0) or offset > datetime.timedelta(hours=hours):
            continue
        slot = slots[min(int(offset / width), slot_count - 1)]
        slot["count"] += 1
        if event.get("error_code"):
            slot["errors"] += 1
    return slots


def _ranked(counter, top):
    return [{"name": name, "count": count} for name, count in sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:top]]


def fleet_dashboard(accounts, now=None, hours=24, top=10, recent=25):
    if not isinstance(accounts, list):
        raise AnsibleFilterError("fleet_dashboard expects a list of accounts, got %s" % type(accounts).__name__)
    if int(hours) < 1:
        raise AnsibleFilterError("fleet_dashboard: hours must be at least 1, got %s" % hours)
    hours, top, recent = int(hours), int(top), int(recent)
    end = _parse_time(now) if now else datetime.datetime.now(datetime.timezone.utc)

    rows, all_events, insights = [], [], []
    # Unreadable accounts first: they are what a person has to act on.
    for account in sorted(accounts, key=lambda a: (not a.get("error"), str(a.get("account_name") or ""), str(a.get("account_id")))):
        row = dict(account)
        row["readable"] = not account.get("error")
        row["trail_rows"] = trail_rows(account.get("trails"))
        events = [dict(event, account_id=account.get("account_id")) for event in account.get("events") or []]
        row["event_count"] = len(events)
        row["error_count"] = sum(1 for event in events if event.get("error_code"))
        all_events.extend(events)
        insights.extend(dict(event, account_id=account.get("account_id")) for event in account.get("insights") or [])
        rows.append(row)

    trails = [trail for row in rows for trail in row["trail_rows"]]
    newest_first = sorted(all_events, key=lambda event: _parse_time(event["event_time"]), reverse=True)
    return {
        "generated": end.isoformat(),
        "hours": hours,
        "accounts": rows,
        "totals": {
            "accounts": len(rows),
            "unreadable": sum(1 for row in rows if not row["readable"]),
            "trails": len(trails),
            "logging": sum(1 for trail in trails if trail.get("is_logging")),
            "validated": sum(1 for trail in trails if trail.get("log_file_validation_enabled")),
            "encrypted_kms": sum(1 for trail in trails if trail.get("kms_key_id")),
            "insights": sum(1 for trail in trails if trail.get("insight_selectors")),
            "events": len(all_events),
            "errors": sum(1 for event in all_events if event.get("error_code")),
        },
        "slots": time_slots(all_events, end, hours),
        "top_event_names": _ranked(Counter(event.get("event_name") for event in all_events), top),
        "top_users": _ranked(Counter(event.get("username") or "(unknown)" for event in all_events), top),
        "error_calls": _ranked(
            Counter("%s: %s" % (event.get("event_name"), event.get("error_code")) for event in all_events if event.get("error_code")), top
        ),
        "recent_events": newest_first[:recent],
        "insights_events": sorted(insights, key=lambda event: _parse_time(event["event_time"]), reverse=True)[:recent],
    }


class FilterModule:
    def filters(self):
        return {"fleet_dashboard": fleet_dashboard}
