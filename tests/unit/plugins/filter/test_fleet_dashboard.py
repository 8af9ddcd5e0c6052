"""fleet_dashboard: the numbers the dashboard draws, as case tables."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.trailops.cloudtrail.plugins.filter.fleet_dashboard import encryption
from ansible_collections.trailops.cloudtrail.plugins.filter.fleet_dashboard import fleet_dashboard
from ansible_collections.trailops.cloudtrail.plugins.filter.fleet_dashboard import data_summary
from ansible_collections.trailops.cloudtrail.plugins.filter.fleet_dashboard import drift_by_account
from ansible_collections.trailops.cloudtrail.plugins.filter.fleet_dashboard import insights_summary
from ansible_collections.trailops.cloudtrail.plugins.filter.fleet_dashboard import log_group_name
from ansible_collections.trailops.cloudtrail.plugins.filter.fleet_dashboard import management_scope
from ansible_collections.trailops.cloudtrail.plugins.filter.fleet_dashboard import selectors_summary
from ansible_collections.trailops.cloudtrail.plugins.filter.fleet_dashboard import time_slots
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils.trail_costs import utc_time

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
    # The data part alone, beside the management scope column.
    assert data_summary(settings) == ("; ".join(part for part in expected.split("; ") if not part.startswith("Management")))


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
    slots = time_slots([event(time) for time in times], utc_time(NOW), hours)
    assert [slot["count"] for slot in slots] == expected_counts


def test_time_slots_count_errors_apart():
    slots = time_slots([event("2024-05-01T11:10:00Z"), event("2024-05-01T11:20:00Z", error="AccessDenied")], utc_time(NOW), 1)
    assert [(slot["count"], slot["errors"]) for slot in slots] == [(2, 1)]


def assumed(time, name, session, source="cloudtrail.amazonaws.com", error=None, resources=(), event_id=None, region="us-east-1"):
    """An event as the event_history lookup returns it, made by an assumed role's session."""
    return {"event_time": time, "event_name": name, "username": session, "error_code": error, "region": region,
            "event_source": source, "event_id": event_id or f"{name}-{session}-{time}",
            "resources": [{"resource_type": kind, "resource_name": value} for kind, value in resources],
            "cloud_trail_event": {"userIdentity": {"type": "AssumedRole", "arn": f"arn:aws:sts::222222222222:assumed-role/Admin/{session}"}}}


MANAGEMENT = {"field": "eventCategory", "equals": ["Management"]}


@pytest.mark.parametrize(
    "settings, label, narrowed",
    [
        # No selectors read back: CloudTrail's default.
        ({}, "All (read + write)", False),
        ({"event_selectors": [{"read_write_type": "All", "include_management_events": True}]}, "All (read + write)", False),
        ({"event_selectors": [{"read_write_type": "WriteOnly", "include_management_events": True}]}, "Write-only", True),
        ({"event_selectors": [{"read_write_type": "ReadOnly"}]}, "Read-only", True),
        # A read-only and a write-only selector together record everything.
        ({"event_selectors": [{"read_write_type": "ReadOnly"}, {"read_write_type": "WriteOnly"}]}, "All (read + write)", False),
        ({"event_selectors": [{"read_write_type": "All", "exclude_management_event_sources": ["kms.amazonaws.com"]}]},
         "All (read + write) · excludes kms.amazonaws.com", True),
        ({"event_selectors": [{"include_management_events": False}]}, "None", True),
        # A data events trail (beside a management one) is not narrowed.
        ({"event_selectors": [{"include_management_events": False,
                               "data_resources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::b/"]}]}]},
         "None (data events trail)", False),
        ({"advanced_event_selectors": [{"name": "m", "field_selectors": [MANAGEMENT]}]}, "All (read + write)", False),
        ({"advanced_event_selectors": [{"name": "m", "field_selectors": [MANAGEMENT, {"field": "readOnly", "equals": ["false"]}]}]},
         "Write-only", True),
        ({"advanced_event_selectors": [{"name": "m", "field_selectors": [MANAGEMENT, {"field": "eventSource", "not_equals": ["kms.amazonaws.com"]}]}]},
         "All (read + write) · filtered by eventSource", True),
    ],
)
def test_management_scope(settings, label, narrowed):
    scope = management_scope(settings)
    assert (scope["label"], scope["narrowed"]) == (label, narrowed)
    assert bool(scope["reasons"]) == narrowed


@pytest.mark.parametrize(
    "arn, expected",
    [
        (None, None),
        ("arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/management:*", "CloudTrail/management"),
        ("arn:aws:logs:us-east-1:123456789012:log-group:aws-cloudtrail-logs-1234", "aws-cloudtrail-logs-1234"),
    ],
)
def test_log_group_name(arn, expected):
    assert log_group_name(arn) == expected


def test_drift_by_account():
    report = {"generated": "2024-05-01T11:00:00Z", "accounts": [
        {"account_id": "111111111111", "status": "drifted", "error": None,
         "drift": [{"resource": "trail main", "setting": "is_logging", "desired": True, "actual": False}]},
        {"account_id": 222222222222, "status": "unreadable", "error": "cannot assume the role", "drift": []},
    ]}
    assert drift_by_account(report) == {
        "111111111111": {"status": "drifted", "count": 1, "settings": ["trail main is_logging"], "error": None},
        "222222222222": {"status": "unreadable", "count": 0, "settings": [], "error": "cannot assume the role"},
    }
    assert drift_by_account(None) == {}


def test_own_session_is_hidden_and_counted():
    own = [assumed("2024-05-01T11:00:00Z", "GetTrailStatus", "trailops-cloudtrail"),
           assumed("2024-05-01T11:01:00Z", "GetBucketPolicy", "trailops-cloudtrail", "s3.amazonaws.com", "NoSuchBucketPolicy")]
    theirs = [assumed("2024-05-01T11:02:00Z", "StopLogging", "oncall", resources=[("AWS::CloudTrail::Trail", "main")])]
    # An IAM user who happens to share the session's name is not the collection.
    namesake = dict(assumed("2024-05-01T11:03:00Z", "DescribeTrails", "trailops-cloudtrail"),
                    cloud_trail_event={"userIdentity": {"type": "IAMUser"}})
    accounts = [{"account_id": "222222222222", "account_name": "prod", "error": None, "trails": [], "events": own + theirs + [namesake]}]

    board = fleet_dashboard(accounts, now=NOW)
    assert board["totals"]["own"] == 2 and board["accounts"][0]["own_count"] == 2
    assert [e["event_name"] for e in board["recent_events"]] == ["DescribeTrails", "StopLogging"]
    assert board["error_calls"] == [] and board["totals"]["events"] == 2
    assert {user["name"] for user in board["top_users"]} == {"oncall", "trailops-cloudtrail"}
    assert board["recent_events"][1]["account_name"] == "prod"

    shown = fleet_dashboard(accounts, now=NOW, include_own=True)
    assert shown["totals"]["events"] == 4 and shown["error_calls"] == [{"name": "GetBucketPolicy: NoSuchBucketPolicy", "count": 1}]
    # Other session names are the collection's when told so.
    renamed = fleet_dashboard(accounts, now=NOW, own_sessions=["oncall"])
    assert renamed["totals"]["own"] == 1 and renamed["security_changes"] == []


def test_security_changes_use_the_event_search_rules():
    bucket, key = "org-logs", "arn:aws:kms:us-east-1:222222222222:key/abcd"
    events = [
        assumed("2024-05-01T11:00:00Z", "StopLogging", "oncall", resources=[("AWS::CloudTrail::Trail", "main")]),
        assumed("2024-05-01T11:01:00Z", "PutBucketPolicy", "oncall", "s3.amazonaws.com", resources=[("AWS::S3::Bucket", bucket)]),
        # Not a log bucket: not the dashboard's business.
        assumed("2024-05-01T11:02:00Z", "PutBucketPolicy", "oncall", "s3.amazonaws.com", resources=[("AWS::S3::Bucket", "web")]),
        assumed("2024-05-01T11:03:00Z", "DisableKey", "oncall", "kms.amazonaws.com", resources=[("AWS::KMS::Key", "abcd")]),
        # The collection's own write of the baseline's selectors.
        assumed("2024-05-01T11:04:00Z", "PutEventSelectors", "trailops-cloudtrail", resources=[("AWS::CloudTrail::Trail", "main")]),
    ]
    # The log bucket and key are in another account (a log-archive account): they count here too.
    accounts = [
        {"account_id": "222222222222", "account_name": "prod", "error": None, "trails": [], "events": events},
        {"account_id": "333333333333", "account_name": "log-archive", "error": None, "events": [],
         "trails": [trail("main", s3_bucket_name=bucket, kms_key_id=key)]},
    ]
    board = fleet_dashboard(accounts, now=NOW)
    changes = [(c["event_name"], c["actor"]["user_name"], c["account_name"]) for c in board["security_changes"]]
    assert changes == [("DisableKey", "oncall", "prod"), ("PutBucketPolicy", "oncall", "prod"), ("StopLogging", "oncall", "prod")]
    assert board["totals"]["security_changes"] == 3
    shown = fleet_dashboard(accounts, now=NOW, include_own=True)
    assert [c["event_name"] for c in shown["security_changes"]][0] == "PutEventSelectors"


def test_security_events_read_apart_are_used_when_given():
    """A read cut short at max_events misses an older StopLogging; the security queries' events find it."""
    recent = [assumed("2024-05-01T11:59:00Z", "GetTrail", "auditor", event_id="1")]
    older = assumed("2024-05-01T01:00:00Z", "StopLogging", "oncall", resources=[("AWS::CloudTrail::Trail", "main")], event_id="2")
    account = {"account_id": "222222222222", "account_name": "prod", "error": None, "trails": [], "events": recent}
    assert fleet_dashboard([account], now=NOW, max_events=1)["security_changes"] == []
    board = fleet_dashboard([dict(account, security_events=[older, older])], now=NOW, max_events=1)
    assert [(c["event_name"], c["event_time"]) for c in board["security_changes"]] == [("StopLogging", "2024-05-01T01:00:00Z")]


def test_drift_column_and_cost_columns():
    events = [assumed("2024-05-01T11:%02d:00Z" % minute, "GetTrail", "auditor") for minute in range(60)]
    accounts = [
        {"account_id": "222222222222", "account_name": "prod", "error": None, "regions": ["us-east-1"], "events": events,
         "trails": [trail("all", is_multi_region_trail=True, is_logging=True), trail("second", is_logging=True)]},
        {"account_id": "333333333333", "account_name": "dev", "error": None, "regions": ["us-east-1"], "events": [],
         "trails": [trail("all", is_multi_region_trail=True, is_logging=True)]},
    ]
    report = {"generated": "2024-05-01T11:00:00Z", "accounts": [{"account_id": "222222222222", "status": "clean", "drift": []}]}
    board = fleet_dashboard(accounts, now=NOW, hours=24, drift_report=report)
    prod, dev = sorted(board["accounts"], key=lambda row: row["account_name"], reverse=True)
    assert (prod["drift"]["status"], dev["drift"]["status"]) == ("clean", "not checked")
    assert board["drift_generated"] == "2024-05-01T11:00:00Z" and board["totals"]["drift"] == {"clean": 1, "not checked": 1}
    # 60 events over the 24-hour window: 2.5 an hour.
    assert prod["events_per_hour"] == {"us-east-1": {"read": 0.0, "write": 2.5}}
    # The single-region trail beside the multi-region one is the billed extra copy, with an estimate.
    assert [d["region"] for d in prod["costs"]["duplicates"]] == ["us-east-1"] and dev["costs"]["duplicates"] == []
    second = next(row for row in prod["trail_rows"] if row["name"] == "second")
    assert second["costs"]["monthly_estimate"] > 0
    assert board["totals"]["billed_duplicates"] == 1 and board["price_date"]
    # Cut short at 60 events over the last hour: the rate is over that hour, not the window.
    capped = fleet_dashboard(accounts, now=NOW, hours=24, max_events=60)
    assert capped["accounts"][1]["events_per_hour"]["us-east-1"]["write"] == pytest.approx(60, rel=0.02)


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
                               "insights": 1, "narrowed": 0, "events": 3, "errors": 2, "own": 0, "security_changes": 0,
                               "drift": {"not checked": 2}, "billed_duplicates": 1}
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
        ([], {"own_sessions": "trailops-cloudtrail"}, "own_sessions must be a list of non-empty session names"),
        ([], {"own_sessions": [""]}, "own_sessions must be a list"),
    ],
)
def test_fleet_dashboard_bad_input(accounts, options, message):
    with pytest.raises(AnsibleFilterError, match=message):
        fleet_dashboard(accounts, now=NOW, **options)
