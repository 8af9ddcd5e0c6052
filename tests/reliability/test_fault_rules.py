"""The fault layer's own rules, as case tables (no server): which calls fail,
and how each service says it, as botocore parses it."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.parsers import create_parser

from tests.local_aws.fidelity.faults import _state, decide, fault_answer, rule_error

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
    state = _state(rule)
    assert [decide(state, CALL) for _call in range(calls)] == expected
    assert state["injected"] == sum(expected)


def test_a_seeded_share_repeats():
    runs = []
    for _run in range(2):
        state = _state({"fault": "server_error", "share": 0.3, "seed": 11})
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
