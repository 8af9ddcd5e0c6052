"""The fault layer's own rules, as case tables (no server): which calls fail,
and how each service says it, as botocore parses it."""

from __future__ import annotations

import time

import botocore.session
import pytest
from botocore.parsers import create_parser

from tests.local_aws.fidelity.faults import decide, delay_of, fault_answer, fault_counts, inject_faults, rule_error, rule_state
from tests.local_aws.fidelity.wire import s3_action

CALL = {"service": "cloudtrail", "action": "PutEventSelectors", "region": "us-east-1", "access_key": "testing"}


@pytest.mark.parametrize(
    "rule, calls, expected",
    [
        ({"fault": "throttle"}, 3, [True, True, True]),
        ({"fault": "throttle", "every": 3}, 7, [True, False, False, True, False, False, True]),
        ({"fault": "throttle", "every": 3, "burst": 2}, 6, [True, True, False, True, True, False]),
        ({"fault": "throttle", "limit": 2}, 4, [True, True, False, False]),
        ({"fault": "throttle", "action": ["GetTrail", "PutEventSelectors"]}, 2, [True, True]),
        ({"fault": "throttle", "action": "GetTrail"}, 2, [False, False]),
        ({"fault": "throttle", "service": "s3"}, 2, [False, False]),
        ({"fault": "throttle", "region": "eu-west-1"}, 1, [False]),
        ({"fault": "throttle", "access_key": "reader"}, 1, [False]),
    ],
)
def test_which_calls_fail(rule, calls, expected):
    state = rule_state(rule)
    assert [decide(state, CALL) for _call in range(calls)] == expected
    assert state["injected"] == sum(expected)


def test_a_seeded_share_repeats():
    runs = []
    for _run in range(2):
        state = rule_state({"fault": "server_error", "share": 0.3, "seed": 11})
        runs.append([decide(state, CALL) for _call in range(200)])
    assert runs[0] == runs[1]
    assert 40 <= sum(runs[0]) <= 80


@pytest.mark.parametrize(
    "rule, error",
    [
        ({"fault": "slow"}, "fault must be one of"),
        ({"fault": "server_error", "status": 501}, "status must be one of"),
        ({"fault": "throttle", "every": 2, "burst": 3}, "1 <= burst <= every"),
        ({"fault": "throttle", "share": 1.5}, "share must be from 0 to 1"),
        ({"fault": "throttle", "servce": "s3"}, "unknown rule keys ['servce']"),
        ({"fault": "throttle", "every": 4, "burst": 2, "limit": 3}, None),
        ({"fault": "latency", "delay": 0.03}, None),
        ({"fault": "latency", "delay": [0.01, 0.05], "share": 0.5, "seed": 3}, None),
        ({"fault": "latency"}, "delay is required with fault latency"),
        ({"fault": "throttle", "delay": 0.03}, "delay is required with fault latency, and only there"),
        ({"fault": "latency", "delay": -1}, "delay must be seconds from 0 to 60"),
        ({"fault": "latency", "delay": [0.05, 0.01]}, "low <= high"),
        ({"fault": "latency", "delay": "30ms"}, "delay must be seconds"),
    ],
)
def test_rules_are_checked(rule, error):
    found = rule_error(rule)
    assert (found is None) if error is None else (error in found)


@pytest.mark.parametrize(
    "service, protocol, rule, code, status",
    [
        ("cloudtrail", "json", {"fault": "throttle"}, "ThrottlingException", 400),
        ("kms", "json", {"fault": "throttle"}, "ThrottlingException", 400),
        ("organizations", "json", {"fault": "throttle"}, "TooManyRequestsException", 400),
        ("sts", "query", {"fault": "throttle"}, "Throttling", 400),
        ("iam", "query", {"fault": "throttle"}, "Throttling", 400),
        ("sns", "query", {"fault": "throttle"}, "Throttled", 429),
        ("ec2", "ec2", {"fault": "throttle"}, "RequestLimitExceeded", 503),
        ("s3", "s3", {"fault": "throttle"}, "SlowDown", 503),
        ("cloudtrail", "json", {"fault": "server_error", "status": 500}, "InternalFailure", 500),
        ("sts", "query", {"fault": "server_error", "status": 503}, "ServiceUnavailable", 503),
        ("s3", "s3", {"fault": "server_error", "status": 500}, "InternalError", 500),
        ("s3", "s3", {"fault": "server_error", "status": 502}, "502", 502),
        ("cloudtrail", "json", {"fault": "server_error", "status": 504}, "504", 504),
        ("cloudtrail", "json", {"fault": "throttle", "code": "LimitExceededException"}, "LimitExceededException", 400),
    ],
)
def test_each_service_says_it_in_its_own_words(service, protocol, rule, code, status):
    answer_status, headers, body = fault_answer(service, protocol, rule)
    model = botocore.session.get_session().get_service_model(service)
    parsed = create_parser(model.protocol).parse(
        {"status_code": answer_status, "headers": headers, "body": body.encode()}, model.operation_model(model.operation_names[0]).output_shape
    )
    assert (parsed["Error"]["Code"], answer_status) == (code, status)


# -- latency ----------------------------------------------------------------


def test_a_fixed_delay_is_the_same_for_every_call():
    state = rule_state({"fault": "latency", "delay": 0.03})
    assert [decide(state, CALL) for _call in range(3)] == [True, True, True]
    assert [delay_of(state) for _call in range(3)] == [0.03, 0.03, 0.03]


def test_a_random_delay_stays_in_its_range_and_repeats_with_its_seed():
    runs = []
    for _run in range(2):
        state = rule_state({"fault": "latency", "delay": [0.01, 0.05], "seed": 5})
        runs.append([delay_of(state) for _call in range(100)])
    assert runs[0] == runs[1]
    assert all(0.01 <= delay <= 0.05 for delay in runs[0])
    assert len(set(runs[0])) > 50


@pytest.mark.parametrize(
    "method, path, query, action",
    [
        ("GET", "/logs/AWSLogs/123456789012/CloudTrail/x.json.gz", {}, "GetObject"),
        ("HEAD", "/logs/key", {}, "HeadObject"),
        ("PUT", "/logs/key", {}, "PutObject"),
        ("GET", "/logs", {"list-type": ["2"], "prefix": ["AWSLogs/"]}, "ListObjectsV2"),
        ("GET", "/logs", {"prefix": ["AWSLogs/"]}, "ListObjects"),
        ("GET", "/logs", {"versions": [""]}, "ListObjectVersions"),
        ("POST", "/logs", {"delete": [""]}, "DeleteObjects"),
        ("GET", "/logs", {"policy": [""]}, "GetBucketPolicy"),
        ("HEAD", "/logs", {}, "HeadBucket"),
        ("GET", "/", {}, "ListBuckets"),
    ],
)
def test_s3_calls_are_named_by_their_api_action(method, path, query, action):
    assert s3_action(method, path, query) == action


def test_latency_delays_chosen_s3_reads_and_changes_no_answer(aws):
    """Delayed calls still get moto's answer; only the chosen actions are delayed
    (counted by the rule); other rules still fault after the wait."""
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="slow-logs")
    for index in range(3):
        s3.put_object(Bucket="slow-logs", Key=f"AWSLogs/log-{index}.json.gz", Body=b"%d" % index)
    inject_faults(
        aws,
        [
            {"service": "s3", "action": ["GetObject", "ListObjectsV2"], "fault": "latency", "delay": 0.2},
            {"service": "s3", "action": "GetObject", "fault": "throttle", "every": 3, "limit": 1},
        ],
    )
    aws.start_recording()
    started = time.monotonic()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="slow-logs", Prefix="AWSLogs/")["Contents"]]
    bodies = [s3.get_object(Bucket="slow-logs", Key=key)["Body"].read() for key in keys]
    elapsed = time.monotonic() - started
    s3.head_bucket(Bucket="slow-logs")
    calls = aws.stop_recording()

    assert keys == [f"AWSLogs/log-{index}.json.gz" for index in range(3)]
    assert bodies == [b"0", b"1", b"2"]
    latency, throttle = fault_counts(aws)
    # 1 listing + 3 reads + the read botocore retried after SlowDown; HeadBucket and the puts are not delayed.
    assert (latency["matched"], latency["injected"]) == (5, 5)
    assert throttle["injected"] == 1
    assert len([c for c in calls if c.method == "GET"]) == 5
    # A lower bound only (the waits happened), never a speed limit.
    assert elapsed >= 5 * 0.2
