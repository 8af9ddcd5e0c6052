"""The event_history lookup against the local AWS: it finds what playbooks did,
filters, pages, keeps the time window, merges regions, paces itself under the
throttled LookupEvents, and rejects bad input before any API call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import COLLECTIONS, REPO_ROOT
from tests.integration.seeded_events import WINDOW, ago, around_the_window, newest_first, one_of_each
from tests.integration.setup_helpers import make_log_bucket
from tests.local_aws.fidelity.lookup_events import seed_events, set_throttle
from tests.local_aws.server import REGION

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
TRAIL = "history-trail"
BUCKET = "history-trail-logs"


def run_lookups(aws, *runs: dict, region: str = REGION) -> tuple[list[dict], str]:
    """Each run's result (``events`` or ``error``) and the process's stderr (Ansible's warnings)."""
    env = dict(os.environ, **aws.env(region))
    env["PYTHONPATH"] = os.pathsep.join([COLLECTIONS, REPO_ROOT])
    proc = subprocess.run(
        [sys.executable, "-m", "tests.integration.event_history_runner"],
        input=json.dumps({"collections": COLLECTIONS, "runs": list(runs)}),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr


def lookup(aws, **options) -> list[dict]:
    (result,), _stderr = run_lookups(aws, options)
    assert "events" in result, result
    return result["events"]


def lookup_events_calls(calls) -> list:
    return [c for c in calls if c.service == "cloudtrail" and c.action == "LookupEvents"]


CHANGE_A_TRAIL = textwrap.dedent(
    f"""\
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: Create the trail
          trailops.cloudtrail.trail:
            name: {TRAIL}
            s3_bucket_name: {BUCKET}
        - name: Change it
          trailops.cloudtrail.trail:
            name: {TRAIL}
            s3_bucket_name: {BUCKET}
            enable_log_file_validation: true
        - name: Log write management events only
          trailops.cloudtrail.event_selectors:
            trail_name: {TRAIL}
            preset: management_write_events
    """
)


def test_finds_what_a_playbook_did_to_a_trail_with_the_callers_name(aws, run_playbook, tmp_path, account_id):
    make_log_bucket(aws, BUCKET)
    playbook = tmp_path / "change_a_trail.yml"
    playbook.write_text(CHANGE_A_TRAIL)
    done = run_playbook(str(playbook))
    assert done.returncode == 0, done.stdout + done.stderr
    caller = aws.client("sts").get_caller_identity()["Arn"].rsplit("/", 1)[-1]

    writes = lookup(aws, lookup_attribute={"ReadOnly": False}, start_time="-1h")
    trail_writes = [e for e in writes if e["event_source"] == "cloudtrail.amazonaws.com"]
    # The trail module turns logging on for a new trail, as the console does.
    assert [e["event_name"] for e in trail_writes] == ["PutEventSelectors", "UpdateTrail", "StartLogging", "CreateTrail"]
    assert {e["username"] for e in trail_writes} == {caller}
    assert all(e["error_code"] is None for e in trail_writes)
    assert trail_writes[-1]["cloud_trail_event"]["requestParameters"]["name"] == TRAIL
    assert trail_writes[1]["cloud_trail_event"]["requestParameters"]["enableLogFileValidation"] is True
    trail_arn = f"arn:aws:cloudtrail:{REGION}:{account_id}:trail/{TRAIL}"
    assert {"resource_type": "AWS::CloudTrail::Trail", "resource_name": trail_arn} in trail_writes[0]["resources"]

    names = ["CreateTrail", "UpdateTrail", "PutEventSelectors"]
    by_name, _stderr = run_lookups(aws, *[{"lookup_attribute": {"EventName": name}} for name in names])
    for name, result in zip(names, by_name):
        assert [(e["event_name"], e["username"]) for e in result["events"]] == [(name, caller)]

    # The console-like playbook shows and writes the same events.
    output = tmp_path / "events.json"
    shown = run_playbook(os.path.join(REPO_ROOT, "playbooks", "event_history.yml"), {"event_history_output": str(output)})
    assert shown.returncode == 0, shown.stdout + shown.stderr
    from_playbook = json.loads(output.read_text())
    assert [e["event_id"] for e in from_playbook if e["event_source"] == "cloudtrail.amazonaws.com"] == [e["event_id"] for e in trail_writes]
    for name in ("CreateTrail", "UpdateTrail", "PutEventSelectors"):
        assert f"{name} " in shown.stdout and f" {caller} " in shown.stdout


FILTERS = [
    ({"EventName": "StopLogging"}, ["StopLogging"]),
    ({"Username": "bob"}, ["GetBucketPolicy"]),
    ({"AccessKeyId": "AKIACAROL"}, ["Decrypt"]),
    ({"ReadOnly": True}, ["Decrypt", "GetBucketPolicy"]),
    ({"ReadOnly": "false"}, ["StopLogging"]),
    ({"EventSource": "kms.amazonaws.com"}, ["Decrypt"]),
    ({"ResourceType": "AWS::S3::Bucket"}, ["GetBucketPolicy"]),
    ({"ResourceName": "main"}, ["StopLogging"]),
]


def test_each_lookup_attribute_filters(aws):
    seed_events(aws, one_of_each())
    everything = lookup(aws)
    by_id = {"EventId": everything[1]["event_id"]}
    results, _stderr = run_lookups(aws, *[{"lookup_attribute": attribute} for attribute, _names in FILTERS], {"lookup_attribute": by_id})
    for (attribute, expected), result in zip(FILTERS, results):
        assert [e["event_name"] for e in result["events"]] == expected, attribute
    assert [e["event_id"] for e in results[-1]["events"]] == [by_id["EventId"]]
    assert everything[0]["username"] == "carol" and everything[0]["read_only"] is True


def test_paging_600_events_is_complete_and_newest_first(aws):
    seed_events(aws, newest_first(600))
    aws.start_recording()
    events = lookup(aws, lookup_attribute={"Username": "seeder"})
    calls = aws.stop_recording()
    assert [e["event_name"] for e in events] == [f"Call{i:04d}" for i in range(600)]
    assert len({e["event_id"] for e in events}) == 600
    assert len(lookup_events_calls(calls)) == 12 and len(calls) == 12


def test_max_events_stops_paging(aws):
    seed_events(aws, newest_first(200))
    aws.start_recording()
    events = lookup(aws, max_events=60)
    calls = aws.stop_recording()
    assert [e["event_name"] for e in events] == [f"Call{i:04d}" for i in range(60)]
    assert len(lookup_events_calls(calls)) == 2


def test_time_window_holds(aws):
    seed_events(aws, around_the_window())
    window = WINDOW
    results, stderr = run_lookups(
        aws,
        {"start_time": window[0].isoformat(), "end_time": window[1].isoformat()},
        {"start_time": window[0].strftime("%Y-%m-%dT%H:%M:%SZ"), "end_time": window[1].strftime("%Y-%m-%dT%H:%M:%SZ")},
        {"start_time": "-150m", "end_time": "-30m"},
        {"end_time": "-100m"},
        {"start_time": "-200d"},
    )
    names = [[e["event_name"] for e in result["events"]] for result in results]
    assert names[0] == names[1] == names[2] == ["AtEnd", "Inside", "AtStart"]
    assert names[3] == ["AtStart", "Before"]
    # 200 days back is clamped to the 90 days CloudTrail keeps.
    assert names[4] == ["After", "AtEnd", "Inside", "AtStart", "Before"]
    assert "older than the 90 days" in stderr


def test_insight_events(aws):
    seed_events(
        aws,
        [{"EventName": "CreateTrail", "EventTime": ago(minutes=2)}, {"EventName": "StopLogging", "EventCategory": "Insight", "EventTime": ago(minutes=1)}],
    )
    assert [e["event_name"] for e in lookup(aws, event_category="insight")] == ["StopLogging"]
    assert [e["event_name"] for e in lookup(aws)] == ["CreateTrail"]


def test_several_regions_merge_newest_first(aws):
    for offset, region in enumerate(REGIONS):
        seed_events(aws, [{"EventName": f"{region}-{i}", "EventTime": ago(minutes=3 * i + offset)} for i in range(40)], region=region)
    events = lookup(aws, regions=REGIONS)
    assert len(events) == 120
    assert [e["event_name"] for e in events[:4]] == ["us-east-1-0", "eu-west-1-0", "ap-southeast-2-0", "us-east-1-1"]
    times = [e["event_time"] for e in events]
    assert times == sorted(times, reverse=True)
    assert {e["region"] for e in events} == set(REGIONS)
    assert all(e["event_name"].startswith(e["region"]) for e in events)
    newest = lookup(aws, regions=REGIONS, max_events=5)
    assert [e["event_id"] for e in newest] == [e["event_id"] for e in events[:5]]


BAD_INPUT = [
    ({"lookup_attribute": {"EventName": "CreateTrail", "Username": "alice"}}, "lookup_attribute", "EventId, EventName, ReadOnly"),
    ({"lookup_attribute": {"Region": "us-east-1"}}, "lookup_attribute", "EventId, EventName, ReadOnly"),
    ({"max_events": 0}, "max_events", "greater than 0"),
    ({"max_events": -5}, "max_events", "greater than 0"),
    ({"start_time": "yesterday"}, "start_time", "ISO 8601"),
    ({"end_time": "2024-02-30T00:00:00Z"}, "end_time", "ISO 8601"),
    ({"start_time": "-1h", "end_time": "-2h"}, "start_time", "must not be after end_time"),
    ({"regions": ["us-east-1", "us-esat-1"]}, "regions", "us-east-2"),
    ({"region": "moon-1"}, "region", "eu-west-1"),
    ({"event_category": "data"}, "event_category", "management, insight"),
]


def test_bad_input_fails_naming_the_option_without_api_calls(aws):
    aws.start_recording()
    results, _stderr = run_lookups(aws, *[dict(case[0]) for case in BAD_INPUT])
    calls = aws.stop_recording()
    assert calls == []
    for (options, option, allowed), result in zip(BAD_INPUT, results):
        assert "error" in result, options
        assert option in result["error"] and allowed in result["error"], (options, result["error"])
        assert "Traceback" not in result["error"]


@pytest.fixture
def throttled(aws):
    set_throttle(aws, 2)
    return aws


def test_throttled_1000_events_take_20_paced_requests(throttled):
    aws = throttled
    seed_events(aws, newest_first(1000))
    aws.start_recording()
    (result,), _stderr = run_lookups(aws, {"lookup_attribute": {"Username": "seeder"}})
    calls = aws.stop_recording()
    assert "error" not in result, result
    assert len(result["events"]) == 1000
    # Paced below the server's 2 a second: not one request was throttled and sent again.
    assert len(lookup_events_calls(calls)) == 20 == len(calls)
    # 19 waits of half a second; loose bounds, timing belongs in benchmarks.
    assert 9.0 <= result["seconds"] < 20.0


def test_throttled_three_regions_read_concurrently(throttled):
    aws = throttled
    for region in REGIONS:
        seed_events(aws, newest_first(500), region=region)
    aws.start_recording()
    results, _stderr = run_lookups(aws, {"lookup_attribute": {"Username": "seeder"}}, {"lookup_attribute": {"Username": "seeder"}, "regions": REGIONS})
    calls = aws.stop_recording()
    one, three = results
    assert len(one["events"]) == 500 and len(three["events"]) == 1500
    assert len(lookup_events_calls(calls)) == 10 + 30 == len(calls)
    assert {c.region for c in calls} == set(REGIONS)
    # Each region has its own pace, so three regions take about as long as one.
    assert three["seconds"] < one["seconds"] * 1.6 + 1.0


def test_throttling_is_retried_not_surfaced(aws):
    seed_events(aws, newest_first(150))
    # Half CloudTrail's rate, as if another reader used the rest: the lookup's
    # second request is throttled for sure, and must be retried.
    set_throttle(aws, 1)
    aws.start_recording()
    (result,), _stderr = run_lookups(aws, {})
    calls = aws.stop_recording()
    assert "error" not in result, result
    assert len(result["events"]) == 150
    assert len(lookup_events_calls(calls)) >= 4


def test_reads_the_account_of_the_credentials_given(aws):
    credentials = aws.client("sts").assume_role(RoleArn="arn:aws:iam::111111111111:role/auditor", RoleSessionName="alice")["Credentials"]
    role = {"access_key": credentials["AccessKeyId"], "secret_key": credentials["SecretAccessKey"], "session_token": credentials["SessionToken"]}
    aws.client(
        "cloudtrail",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    ).describe_trails()
    as_role, as_default = (result["events"] for result in run_lookups(aws, dict(role), {})[0])
    assert [(e["event_name"], e["username"], e["cloud_trail_event"]["recipientAccountId"]) for e in as_role] == [
        ("DescribeTrails", "alice", "111111111111")
    ]
    assert [e["event_name"] for e in as_default] == ["AssumeRole"]
