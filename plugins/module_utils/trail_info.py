# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the ``trail_info`` module reads: every trail of a region (or the
named ones), each normalized like ``trail`` returns it, with its delivery
status, event selectors and Insights. Read only; the trail's own settings are
normalized by ``trail.py`` and the selectors by ``event_selectors.py``, so a
trail reads the same through either module.
"""

from __future__ import annotations

from typing import Any
from typing import Optional

from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import client_for_region
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import describe_trails
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import get_event_selectors
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import get_insight_selectors
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import get_trail_status
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import home_region_of
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import list_tags
from ansible_collections.trailops.cloudtrail.plugins.module_utils.event_selectors import insights_from_api
from ansible_collections.trailops.cloudtrail.plugins.module_utils.event_selectors import selection_from_api
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.trail import normalize_trail
from ansible_collections.trailops.cloudtrail.plugins.module_utils.trail import validate_params


def validate_trail_names(names: list[str]) -> None:
    """Each entry a trail name or a trail ARN, checked as ``trail`` checks its
    ``name``; the error names ``trail_names``."""
    for entry in names:
        try:
            validate_params({"name": entry, "state": "absent"})
        except ParameterError as e:
            raise ParameterError("trail_names", e.message) from None


def _iso_time(value: Any) -> Optional[str]:
    if not value:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def delivery_status(status: Optional[dict[str, Any]]) -> dict[str, Any]:
    """What GetTrailStatus says of log file delivery; kept apart from
    ``normalize_trail`` because it changes by itself and must never count as drift."""
    status = status or {}
    return {
        "latest_delivery_time": _iso_time(status.get("LatestDeliveryTime")),
        "latest_delivery_error": status.get("LatestDeliveryError") or None,
        "latest_notification_error": status.get("LatestNotificationError") or None,
        "latest_cloudwatch_logs_delivery_error": status.get("LatestCloudWatchLogsDeliveryError") or None,
        "start_logging_time": _iso_time(status.get("StartLoggingTime")),
        "stop_logging_time": _iso_time(status.get("StopLoggingTime")),
    }


def describe_trail_details(module, names: Optional[list[str]], include_shadow_trails: bool) -> list[dict[str, Any]]:
    """Every trail DescribeTrails shows in the module's region (or the named
    ones), each normalized like ``trail`` returns it, with its event selectors,
    insight selectors, status and tags read through its home region."""
    region = module.region
    clients = {region: client_for_region(module, region)}

    def home_client(home: str):
        if home not in clients:
            clients[home] = client_for_region(module, home)
        return clients[home]

    trails = describe_trails(clients[region], names or None, include_shadow_trails)
    arns_by_home: dict[str, list[str]] = {}
    for trail in trails:
        arns_by_home.setdefault(home_region_of(trail), []).append(trail["TrailARN"])
    tags: dict[str, dict[str, str]] = {}
    for home, arns in arns_by_home.items():
        tags.update(list_tags(home_client(home), arns))

    details = []
    for trail in trails:
        client = home_client(home_region_of(trail))
        arn = trail["TrailARN"]
        status = get_trail_status(client, arn)
        entry = normalize_trail(trail, status, tags.get(arn, {}))
        entry.update(delivery_status(status))
        entry.update(selection_from_api(get_event_selectors(client, arn) or {}))
        # Asked only of a trail DescribeTrails says has Insights (as the baseline
        # reads them): otherwise CloudTrail answers InsightNotEnabledException,
        # an error event in the account's own history on every read.
        entry["insight_selectors"] = insights_from_api(get_insight_selectors(client, arn)) if trail.get("HasInsightSelectors") else []
        details.append(entry)
    return details


def run(module) -> dict[str, Any]:
    """The trail_info module's result: ``trail_names`` checked before any call, then read."""
    names = module.params["trail_names"]
    validate_trail_names(names)
    return {"changed": False, "trails": describe_trail_details(module, names, module.params["include_shadow_trails"])}
