"""fleet_dashboard: the numbers the dashboard draws, as case tables."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.trailops.cloudtrail.plugins.filter.fleet_dashboard import encryption
from ansible_collections.trailops.cloudtrail.plugins.filter.fleet_dashboard import fleet_dashboard
from ansible_collections.trailops.cloudtrail.plugins.filter.fleet_dashboard import insights_summary
from ansible_collections.trailops.cloudtrail.plugins.filter.fleet_dashboard import selectors_summary
from ansible_collections.trailops.cloudtrail.plugins.filter.fleet_dashboard import time_slots
from ansible_collections.trailops.cloudtrail.plugins.filter.fleet_dashboard import _parse_time

NOW = "2024-05-01T12:00:00+00:00"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def trail(name, region="us-east-1", **settings):
    return dict({"name": name, "trail_arn": f"arn:aws:cloudtrail:{region}:123456789012:trail/{name}", "home_region": region}, **settings)


def event(time, name="DescribeTrails", user="alice", error=None):
    return {"event_time": time, "event_name": name, "username": user, "error_code": error, "region": "us-east-1"}


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({}, "SSE-S3"),
        ({"kms_key_id": None}, "SSE-S3"),
        ({"kms_key_id": KEY}, "SSE-KMS 1234abcd-12ab-34cd-56ef-1234567890ab"),
    ],
)
def test_encryption(settings, expected):
    assert encryption(settings) == expected


@pytest.mark.parametrize(
    "settings, expected",
    [
        ({}, "Management: All"),
        ({"event_selectors": [{"read_write_type": "WriteOnly", "include_management_events": True, "data_resources": []}]}, "Management: WriteOnly"),
        (
            {"event_selectors": [{"read_write_type": "All", "include_management_events": False,
                                  "data_resources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::a/", "arn:aws:s3:::b/"]},
                                                     {"type": "AWS::Lambda::Function", "values": ["arn:aws:lambda"]}]}]},
            "Management: none; Data: Lambda (1), S3 (2)",
        ),
        ({"advanced_event_selectors": [{"name": "Management events"}, {"name": None}]}, "Advanced: Management events, unnamed"),
    ],
)
def test_selectors_summary(settings, expected):
    assert selectors_summary(settings) == expected


@pytest.mark.parametrize(
    "selectors, expected",
    [
        ([], "Off"),
        ([{"insight_type": "ApiCallRateInsight"}, {"insight_type": "ApiErrorRateInsight"}], "ApiCallRate, ApiErrorRate"),
    ],
)
def test_insights_summary(selectors, expected):
    assert insights_summary({"insight_selectors": selectors}) == expected


@pytest.mark.parametrize(
    "hours, times, expected_counts",
    [
        # Hourly slots; an event on the window's start is in the first, one at "now" in the last.
        (3, ["2024-05-01T09:00:00Z", "2024-05-01T09:59:59Z", "2024-05-01T11:30:00Z", "2024-05-01T12:00:00Z"], [2, 0, 2]),
        # Outside the window, either side: not counted.
        (2, ["2024-05-01T09:59:59Z", "2024-05-01T12:00:01Z"], [0, 0]),
        # Beyond a day: 24 slots of hours / 24.
        (48, ["2024-04-29T12:30:00Z", "2024-05-01T11:00:00Z"], [1] + [0] * 22 + [1]),
    ],
)
def test_time_slots(hours, times, expected_counts):
    slots = time_slots([event(time) for time in times], _parse_time(NOW), hours)
    assert [slot["count"] for slot in slots] == expected_counts


def test_time_slots_count_errors_apart():
    slots = time_slots([event("2024-05-01T11:10:00Z"), event("2024-05-01T11:20:00Z", error="AccessDenied")], _parse_time(NOW), 1)
    assert [(slot["count"], slot["errors"]) for slot in slots] == [(2, 1)]


def test_fleet_dashboard_totals_and_rankings():
    accounts = [
        {"account_id": "222222222222", "account_name": "b", "error": None,
         # trail_info of two regions shows a multi-region trail twice
         "trails": [trail("all", is_multi_region_trail=True, is_logging=True, log_file_validation_enabled=True, kms_key_id=KEY),
                    trail("all", is_multi_region_trail=True, is_logging=True, log_file_validation_enabled=True, kms_key_id=KEY),
                    trail("local", region="eu-west-1", insight_selectors=[{"insight_type": "ApiCallRateInsight"}])],
         "events": [event("2024-05-01T11:00:00Z", "StopLogging", "mallory", "AccessDenied"),
                    event("2024-05-01T11:05:00Z", "StopLogging", "mallory", "AccessDenied"),
                    event("2024-05-01T11:06:00Z", "GetTrail", "bob")],
         "insights": [event("2024-05-01T10:00:00Z", "PutObject")]},
        {"account_id": "111111111111", "account_name": "a", "error": "cannot assume the role", "trails": [], "events": []},
    ]
    board = fleet_dashboard(accounts, now=NOW, hours=24, top=2, recent=2)
    assert [row["account_id"] for row in board["accounts"]] == ["111111111111", "222222222222"]
    assert [row["readable"] for row in board["accounts"]] == [False, True]
    # once each, by home region then name
    assert [t["name"] for t in board["accounts"][1]["trail_rows"]] == ["local", "all"]
    assert board["totals"] == {"accounts": 2, "unreadable": 1, "trails": 2, "logging": 1, "validated": 1, "encrypted_kms": 1,
                               "insights": 1, "events": 3, "errors": 2}
    assert board["top_event_names"] == [{"name": "StopLogging", "count": 2}, {"name": "GetTrail", "count": 1}]
    assert board["top_users"] == [{"name": "mallory", "count": 2}, {"name": "bob", "count": 1}]
    assert board["error_calls"] == [{"name": "StopLogging: AccessDenied", "count": 2}]
    assert [e["event_name"] for e in board["recent_events"]] == ["GetTrail", "StopLogging"]
    assert [e["account_id"] for e in board["insights_events"]] == ["222222222222"]
    assert sum(slot["count"] for slot in board["slots"]) == 3
    assert board["accounts"][1]["event_count"] == 3 and board["accounts"][1]["error_count"] == 2


@pytest.mark.parametrize(
    "accounts, options, message",
    [
        ({"account_id": "1"}, {}, "expects a list of accounts"),
        ([], {"hours": 0}, "hours must be at least 1"),
    ],
)
def test_fleet_dashboard_bad_input(accounts, options, message):
    with pytest.raises(AnsibleFilterError, match=message):
        fleet_dashboard(accounts, now=NOW, **options)
