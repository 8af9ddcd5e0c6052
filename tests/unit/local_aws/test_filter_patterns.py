"""The local AWS's CloudWatch Logs filter-pattern evaluator, against the
examples of CloudWatch Logs' "Filter pattern syntax" page (JSON log events)
and the CIS monitoring patterns the trail role installs."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.local_aws.fidelity.filter_patterns import FilterPatternError, dimensions, matches, metric_value

# The user guide's example JSON log event for single-condition patterns.
DOC_EVENT = json.dumps(
    {
        "eventType": "UpdateTrail",
        "sourceIPAddress": "111.111.111.111",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None,
        "ThisFlag": True,
    }
)
# The user guide's example for compound conditions.
DOC_COMPOUND_EVENT = json.dumps(
    {
        "user": {"id": 1, "email": "John.Stiles@example.com"},
        "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
        "actions": ["GET", "PUT", "DELETE"],
        "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
    }
)


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ('{ $.eventType = "UpdateTrail" }', True),
        ('{ $.eventType = "CreateTrail" }', False),
        ("{ $.sourceIPAddress != 123.123.* }", True),
        ("{ $.sourceIPAddress != 111.111.* }", False),
        ('{ $.arrayKey[0] = "value" }', True),
        ('{ $.arrayKey[1] = "value" }', False),
        ("{ $.objectList[1].id = 2 }", True),
        ("{ $.objectList[1].id > 1 }", True),
        ("{ $.objectList[0].id >= 2 }", False),
        ("{ $.SomeObject IS NULL }", True),
        ("{ $.eventType IS NULL }", False),
        ("{ $.SomeOtherObject NOT EXISTS }", True),
        ("{ $.SomeObject NOT EXISTS }", False),
        ("{ $.ThisFlag IS TRUE }", True),
        ("{ $.ThisFlag IS FALSE }", False),
        ('{ $.eventType = "Update*" }', True),
        ("{ $.eventType = *Trail }", True),
        ("{ $.eventType = * }", True),
        ("{ $.missing = * }", False),
        # a selector that names nothing makes != false too
        ('{ $.missing != "x" }', False),
    ],
)
def test_single_conditions_follow_the_user_guide(pattern: str, expected: bool) -> None:
    assert matches(pattern, DOC_EVENT) is expected


@pytest.mark.parametrize(
    "pattern, expected",
    [
        ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', True),
        ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', False),
        # && binds tighter than ||
        ('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }', True),
        ('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }', False),
        ("{ $.coordinates[1][2] = 6 }", True),
    ],
)
def test_compound_conditions_follow_the_user_guide(pattern: str, expected: bool) -> None:
    assert matches(pattern, DOC_COMPOUND_EVENT) is expected


@pytest.mark.parametrize(
    "pattern, message, expected",
    [
        ("", "anything", True),
        ("ERROR", "an ERROR here", True),
        ("ERROR Exception", "an ERROR here", False),
        ('"an ERROR"', "an ERROR here", True),
        ("ERROR -here", "an ERROR here", False),
        ("?ERROR ?WARN", "a WARN", True),
        ("{ $.a = 1 }", "not json", False),
    ],
)
def test_term_patterns_match_the_text(pattern: str, message: str, expected: bool) -> None:
    assert matches(pattern, message) is expected


@pytest.mark.parametrize("pattern", ["{ $.a = }", "{ ($.a = 1 }", "{ a = 1 }", "[ip, user]", "{ $.a = %err% }", "{ $.a IS MAYBE }"])
def test_unreadable_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(FilterPatternError):
        matches(pattern, DOC_EVENT)


def test_metric_value_and_dimensions_come_from_the_event() -> None:
    message = json.dumps({"latency": 250, "host": "a"})
    assert metric_value({"metricValue": "1"}, message) == 1.0
    assert metric_value({"metricValue": "$.latency"}, message) == 250.0
    assert metric_value({"metricValue": "$.nothing"}, message) is None
    assert dimensions({"dimensions": {"Host": "$.host"}}, message) == [{"Name": "Host", "Value": "a"}]


def _cis_patterns() -> dict[str, str]:
    with open(os.path.join(REPO_ROOT, "roles", "trail", "vars", "cis_alarms.yml"), encoding="utf-8") as handle:
        return {alarm["id"]: alarm["filter_pattern"] for alarm in yaml.safe_load(handle)["_trail_cis_alarms"]}


def _event(**fields: object) -> str:
    base: dict[str, object] = {
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice"},
        "eventSource": "cloudtrail.amazonaws.com",
        "eventName": "DescribeTrails",
        "sourceIPAddress": "192.0.2.1",
        "eventType": "AwsApiCall",
    }
    base.update(fields)
    return json.dumps(base)


@pytest.mark.parametrize(
    "control, event, expected",
    [
        ("4.1", _event(errorCode="AccessDenied"), True),
        ("4.1", _event(errorCode="Client.UnauthorizedOperation"), True),
        ("4.1", _event(), False),
        ("4.2", _event(eventName="ConsoleLogin", additionalEventData={"MFAUsed": "No"}, responseElements={"ConsoleLogin": "Success"}), True),
        ("4.2", _event(eventName="ConsoleLogin", additionalEventData={"MFAUsed": "Yes"}, responseElements={"ConsoleLogin": "Success"}), False),
        ("4.3", _event(userIdentity={"type": "Root"}), True),
        ("4.3", _event(userIdentity={"type": "Root", "invokedBy": "s3.amazonaws.com"}), False),
        ("4.4", _event(eventSource="iam.amazonaws.com", eventName="PutRolePolicy"), True),
        ("4.5", _event(eventName="StopLogging"), True),
        ("4.5", _event(eventName="LookupEvents"), False),
        ("4.6", _event(eventName="ConsoleLogin", errorMessage="Failed authentication"), True),
        ("4.7", _event(eventSource="kms.amazonaws.com", eventName="ScheduleKeyDeletion"), True),
        ("4.8", _event(eventSource="s3.amazonaws.com", eventName="PutBucketPolicy"), True),
        ("4.9", _event(eventSource="config.amazonaws.com", eventName="StopConfigurationRecorder"), True),
        ("4.10", _event(eventName="AuthorizeSecurityGroupIngress"), True),
        ("4.11", _event(eventName="CreateNetworkAclEntry"), True),
        ("4.12", _event(eventName="AttachInternetGateway"), True),
        ("4.13", _event(eventSource="ec2.amazonaws.com", eventName="CreateRoute"), True),
        ("4.14", _event(eventName="CreateVpcPeeringConnection"), True),
        ("4.15", _event(eventSource="organizations.amazonaws.com", eventName="LeaveOrganization"), True),
        ("4.15", _event(eventSource="organizations.amazonaws.com", eventName="DescribeOrganization"), False),
    ],
)
def test_cis_patterns_match_what_their_control_watches(control: str, event: str, expected: bool) -> None:
    assert matches(_cis_patterns()[control], event) is expected


def test_every_cis_pattern_parses() -> None:
    patterns = _cis_patterns()
    assert sorted(patterns, key=lambda c: int(c.split(".")[1])) == [f"4.{n}" for n in range(1, 16)]
    for pattern in patterns.values():
        matches(pattern, _event())
