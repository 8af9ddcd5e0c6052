"""event_search filters: which queries the fleet search sends, which events it
keeps (security-relevant changes, the collection's own session), and the
report, as case tables."""

from __future__ import annotations

import datetime

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.trailops.cloudtrail.plugins.filter.event_search import SECURITY_EVENT_NAMES
from ansible_collections.trailops.cloudtrail.plugins.filter.event_search import event_search_events
from ansible_collections.trailops.cloudtrail.plugins.filter.event_search import event_search_queries
from ansible_collections.trailops.cloudtrail.plugins.filter.event_search import event_search_regions
from ansible_collections.trailops.cloudtrail.plugins.filter.event_search import event_search_report
from ansible_collections.trailops.cloudtrail.plugins.filter.event_search import event_search_window

ACCOUNT = "111122223333"
LOG_BUCKET = "org-cloudtrail-logs"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = f"arn:aws:kms:us-east-1:444455556666:key/{KEY_ID}"
NOW = datetime.datetime(2024, 5, 8, 12, 0, tzinfo=datetime.timezone.utc)


def event(name, source, *, user="alice", identity_type="IAMUser", resources=(), time="2024-05-01T10:00:00Z", event_id=None, **record):
    return {
        "event_id": event_id or f"{name}-{user}-{time}",
        "event_name": name,
        "event_time": time,
        "event_source": source,
        "username": user,
        "resources": [{"resource_type": kind, "resource_name": value} for kind, value in resources],
        "region": "us-east-1",
        "error_code": record.get("errorCode"),
        "cloud_trail_event": dict(
            {"userIdentity": {"type": identity_type, "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}"}, "sourceIPAddress": "198.51.100.7"},
            **record,
        ),
    }


def kept(events, search=None, **options):
    options.setdefault("log_buckets", [LOG_BUCKET])
    options.setdefault("trail_keys", [KEY_ARN])
    return [e["event_name"] for e in event_search_events(events, search, ACCOUNT, "prod", **options)]


@pytest.mark.parametrize(
    "search, queries",
    [
        (None, [{"EventName": name} for name in SECURITY_EVENT_NAMES]),
        ({"event_names": [], "usernames": []}, [{"EventName": name} for name in SECURITY_EVENT_NAMES]),
        ({"event_names": ["DeleteTrail", "DeleteTrail", "StopLogging"]}, [{"EventName": "DeleteTrail"}, {"EventName": "StopLogging"}]),
        # The first search variable given is the one sent; the others narrow what comes back.
        ({"usernames": ["alice"], "resource_names": ["main"]}, [{"ResourceName": "main"}]),
        ({"usernames": "alice"}, [{"Username": "alice"}]),
        ({"event_sources": ["kms.amazonaws.com"]}, [{"EventSource": "kms.amazonaws.com"}]),
    ],
)
def test_queries_are_one_lookup_attribute_each(search, queries):
    assert event_search_queries(search) == queries


def test_the_default_query_covers_the_issues_list():
    assert set(SECURITY_EVENT_NAMES) == {
        "StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors",
        "PutBucketPolicy", "DeleteBucketPolicy", "ScheduleKeyDeletion", "DisableKey",
    }


@pytest.mark.parametrize(
    "search, message",
    [
        ({"users": ["alice"]}, "unknown search key users; allowed: event_names, resource_names, usernames, event_sources"),
        ({"event_names": [""]}, "event_search_event_names must be a list of non-empty strings"),
        ({"usernames": {"alice": 1}}, "event_search_usernames must be a list of strings"),
        ("alice", "the search must be a dictionary"),
    ],
)
def test_a_bad_search_names_the_variable(search, message):
    with pytest.raises(AnsibleFilterError, match=message):
        event_search_queries(search)


@pytest.mark.parametrize(
    "events, expected",
    [
        ([event("StopLogging", "cloudtrail.amazonaws.com", resources=[("AWS::CloudTrail::Trail", "main")])], ["StopLogging"]),
        ([event(name, "cloudtrail.amazonaws.com") for name in ("DeleteTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors")],
         ["DeleteTrail", "UpdateTrail", "PutEventSelectors", "PutInsightSelectors"]),
        # Same name, another service: not CloudTrail's.
        ([event("StopLogging", "example.amazonaws.com")], []),
        # Bucket policies: only on a bucket a trail delivers to, by resource or by request parameter.
        ([event("PutBucketPolicy", "s3.amazonaws.com", resources=[("AWS::S3::Bucket", LOG_BUCKET)])], ["PutBucketPolicy"]),
        ([event("DeleteBucketPolicy", "s3.amazonaws.com", bucketName=None, requestParameters={"bucketName": LOG_BUCKET})], ["DeleteBucketPolicy"]),
        ([event("PutBucketPolicy", "s3.amazonaws.com", resources=[("AWS::S3::Bucket", "website-assets")])], []),
        # Keys: the trail's key ARN matches an event naming the key by ARN or by id; another key does not.
        ([event("ScheduleKeyDeletion", "kms.amazonaws.com", resources=[("AWS::KMS::Key", KEY_ARN)])], ["ScheduleKeyDeletion"]),
        ([event("DisableKey", "kms.amazonaws.com", requestParameters={"keyId": KEY_ID})], ["DisableKey"]),
        ([event("DisableKey", "kms.amazonaws.com", resources=[("AWS::KMS::Key", "arn:aws:kms:us-east-1:444455556666:key/other")])], []),
    ],
)
def test_the_default_query_keeps_security_relevant_changes(events, expected):
    assert kept(events) == expected


def test_without_trails_no_bucket_or_key_event_counts():
    events = [
        event("PutBucketPolicy", "s3.amazonaws.com", resources=[("AWS::S3::Bucket", LOG_BUCKET)]),
        event("DisableKey", "kms.amazonaws.com", resources=[("AWS::KMS::Key", KEY_ARN)]),
    ]
    assert kept(events, log_buckets=[], trail_keys=[]) == []


@pytest.mark.parametrize(
    "user, identity_type, include_own, expected",
    [
        ("trailops-cloudtrail", "AssumedRole", False, []),
        ("trailops-cloudtrail", "AssumedRole", True, ["StopLogging"]),
        # An IAM user of the same name is not the collection's role session.
        ("trailops-cloudtrail", "IAMUser", False, ["StopLogging"]),
        ("alice", "AssumedRole", False, ["StopLogging"]),
    ],
)
def test_the_collections_own_session_is_left_out_unless_asked(user, identity_type, include_own, expected):
    events = [event("StopLogging", "cloudtrail.amazonaws.com", user=user, identity_type=identity_type)]
    assert kept(events, include_own=include_own) == expected


def test_another_session_name_is_the_collections_when_the_fleet_uses_it():
    events = [event("StopLogging", "cloudtrail.amazonaws.com", user="platform-bot", identity_type="AssumedRole")]
    assert kept(events, session_name="platform-bot") == []


def test_a_search_keeps_events_matching_every_variable_given():
    events = [
        event("StopLogging", "cloudtrail.amazonaws.com", user="alice", resources=[("AWS::CloudTrail::Trail", "main")], time="2024-05-01T10:00:00Z"),
        event("StopLogging", "cloudtrail.amazonaws.com", user="bob", resources=[("AWS::CloudTrail::Trail", "main")], time="2024-05-01T10:01:00Z"),
        event("CreateBucket", "s3.amazonaws.com", user="alice", time="2024-05-01T10:02:00Z"),
    ]
    assert kept(events, {"usernames": ["alice"]}) == ["CreateBucket", "StopLogging"]
    assert kept(events, {"usernames": ["alice", "bob"], "resource_names": ["main"]}) == ["StopLogging", "StopLogging"]
    assert kept(events, {"event_names": ["StopLogging"], "usernames": ["bob"]}) == ["StopLogging"]
    assert kept(events, {"event_sources": ["s3.amazonaws.com"]}) == ["CreateBucket"]


def test_an_event_found_by_two_queries_is_reported_once_newest_first():
    older = event("StopLogging", "cloudtrail.amazonaws.com", time="2024-05-01T09:00:00Z", event_id="e1")
    newer = event("UpdateTrail", "cloudtrail.amazonaws.com", time="2024-05-01T11:00:00Z", event_id="e2")
    assert kept([older, newer, older]) == ["UpdateTrail", "StopLogging"]


def test_an_entry_names_account_actor_time_source_ip_resources_and_error():
    raw = event(
        "StopLogging", "cloudtrail.amazonaws.com", user="alice", resources=[("AWS::CloudTrail::Trail", "main")],
        errorCode="AccessDenied",
    )
    (entry,) = event_search_events([raw], None, ACCOUNT, "prod", [], [])
    assert entry == {
        "account_id": ACCOUNT,
        "account_name": "prod",
        "region": "us-east-1",
        "event_time": "2024-05-01T10:00:00Z",
        "event_name": "StopLogging",
        "event_source": "cloudtrail.amazonaws.com",
        "actor": {"user_name": "alice", "type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/alice"},
        "source_ip": "198.51.100.7",
        "resources": [{"type": "AWS::CloudTrail::Trail", "name": "main"}],
        "error_code": "AccessDenied",
        "event_id": raw["event_id"],
    }


def test_the_report_lists_unreadable_accounts_first_and_merges_events_newest_first():
    first = {"account_id": "1", "event_time": "2024-05-01T09:00:00Z"}
    second = {"account_id": "2", "event_time": "2024-05-01T10:00:00Z"}
    report = event_search_report(
        [
            {"account_id": "2", "account_name": "b", "status": "searched", "regions": ["us-east-1"], "events": [second]},
            {"account_id": "1", "account_name": "a", "status": "searched", "regions": ["us-east-1"], "events": [first]},
            {"account_id": "3", "account_name": "c", "status": "unreadable", "error": "AccessDenied"},
            {"account_id": "4", "account_name": "d", "status": "unreadable"},
        ],
        None,
        generated="2024-05-08T12:00:00Z",
    )
    assert [(a["account_id"], a["status"], a["event_count"]) for a in report["accounts"]] == [
        ("3", "unreadable", 0), ("4", "unreadable", 0), ("1", "searched", 1), ("2", "searched", 1),
    ]
    assert report["accounts"][1]["error"] == "no result - the account's search did not finish"
    assert report["events"] == [second, first]
    assert report["query"] == "security-relevant changes" and report["generated"] == "2024-05-08T12:00:00Z"


def test_the_report_names_a_search_by_its_variables():
    assert event_search_report([], {"usernames": ["alice"], "event_names": []})["query"] == {"usernames": ["alice"]}


@pytest.mark.parametrize(
    "start, end, window",
    [
        ("-7d", "now", {"start_time": "2024-05-01T12:00:00Z", "end_time": "2024-05-08T12:00:00Z", "warning": None}),
        ("2024-05-02T00:00:00Z", "2024-05-03T00:00:00+02:00",
         {"start_time": "2024-05-02T00:00:00Z", "end_time": "2024-05-02T22:00:00Z", "warning": None}),
        ("", None, {"start_time": None, "end_time": "2024-05-08T12:00:00Z", "warning": None}),
    ],
)
def test_the_window_is_resolved_once_in_utc(start, end, window):
    assert event_search_window(start, end, NOW) == window


def test_a_window_older_than_90_days_is_shortened_with_a_warning():
    window = event_search_window("-120d", "now", NOW)
    assert window["start_time"] == "2024-02-08T12:00:00Z"
    assert window["warning"].startswith("event_search_start 2024-01-09T12:00:00+00:00 is older than the 90 days")


@pytest.mark.parametrize(
    "start, end, message",
    [
        ("last week", "now", "event_search: event_search_start: cannot parse 'last week'"),
        ("now", "-1d", "event_search_start: .* must not be after event_search_end"),
    ],
)
def test_a_bad_window_names_the_variable(start, end, message):
    with pytest.raises(AnsibleFilterError, match=message):
        event_search_window(start, end, NOW)


KNOWN = {"us-east-1", "eu-west-1", "us-gov-west-1"}


@pytest.mark.parametrize(
    "regions, expected",
    [
        (None, []),
        ([], []),
        ("eu-west-1", ["eu-west-1"]),
        (["us-east-1", "eu-west-1", "us-east-1"], ["us-east-1", "eu-west-1"]),
    ],
)
def test_regions_are_a_list_without_repeats(regions, expected):
    assert event_search_regions(regions, KNOWN) == expected


@pytest.mark.parametrize(
    "regions, message",
    [
        (["us-east-1", "mars-north-1"], "event_search_regions: unknown region 'mars-north-1'; CloudTrail's regions are: eu-west-1, us-east-1, us-gov-west-1"),
        ({"us-east-1": True}, "event_search_regions must be a list of regions, got dict"),
    ],
)
def test_a_bad_region_names_the_variable(regions, message):
    with pytest.raises(AnsibleFilterError, match=message):
        event_search_regions(regions, KNOWN)


def test_regions_are_checked_against_botocores_cloudtrail_regions():
    assert event_search_regions(["ap-southeast-2", "us-gov-west-1"]) == ["ap-southeast-2", "us-gov-west-1"]
    with pytest.raises(AnsibleFilterError, match="unknown region 'us-east-7'"):
        event_search_regions(["us-east-7"])
