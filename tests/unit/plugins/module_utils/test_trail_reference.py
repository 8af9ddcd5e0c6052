"""One parser for trail names and ARNs: every module that takes a trail
accepts and rejects the same names and ARNs, matched whole."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.trailops.cloudtrail.plugins.module_utils import bucket_policy as bp
from ansible_collections.trailops.cloudtrail.plugins.module_utils import cloudtrail as ct
from ansible_collections.trailops.cloudtrail.plugins.module_utils import event_selectors as es
from ansible_collections.trailops.cloudtrail.plugins.module_utils import trail as tr
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.validate_logs import check_parameters

ACCOUNT = "123456789012"

ACCEPTED = [
    "my-trail",
    "a.b_c-d",
    "abc",
    "x" * 128,
    f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/my-trail",
    f"arn:aws-cn:cloudtrail:cn-north-1:{ACCOUNT}:trail/my-trail",
    f"arn:aws-us-gov:cloudtrail:us-gov-west-1:{ACCOUNT}:trail/t1.x",
]

REJECTED = [
    "ab",
    "x" * 129,
    "my-_trail",
    "my..trail",
    "-trail",
    "trail-",
    "my trail",
    "192.168.5.4",
    # A YAML block scalar's trailing newline: `$` let it through.
    "trail-nl\n",
    "\ntrail-nl",
    f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/my-trail\n",
    # An S3 ARN with a trail-like resource: validate_logs accepted it.
    "arn:aws:s3:us-east-1:123456789012:trail/abc",
    "arn:aws:s3:::bucket",
    f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:eventdatastore/x",
    f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/a",
    f"arn:aws:cloudtrail::{ACCOUNT}:trail/my-trail",
    "arn:aws:cloudtrail:us-east-1::trail/my-trail",
    "arn:aws:cloudtrail:us-east-1:12345:trail/my-trail",
    f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/my..trail",
    f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/",
    f"arn:notaws:cloudtrail:us-east-1:{ACCOUNT}:trail/my-trail",
]


def trail_module_problem(value):
    try:
        tr.validate_params({"name": value, "state": "absent"})
    except ParameterError as e:
        return str(e)
    return None


def event_selectors_problem(value):
    return es.trail_name_problem(value)


def bucket_policy_problem(value):
    params = {
        "bucket": "trail-logs",
        "trails": [value],
        "account_id": None,
        "s3_key_prefix": None,
        "organization_id": None,
        "deny_insecure_transport": False,
        "sid_suffix": bp.DEFAULT_SID_SUFFIX,
        "state": "present",
    }
    try:
        bp.validate_params(params)
    except ParameterError as e:
        return str(e)
    return None


def validate_logs_problem(value):
    params = {"trail_name": value, "start_time": "2026-01-01T00:00:00Z", "end_time": None, "account_ids": [], "regions": []}
    try:
        check_parameters(params, datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc))
    except ParameterError as e:
        return str(e)
    return None


MODULES = {
    "trail": ("name", trail_module_problem),
    "event_selectors": ("trail_name", event_selectors_problem),
    "bucket_policy": ("trails", bucket_policy_problem),
    "validate_logs": ("trail_name", validate_logs_problem),
}


@pytest.mark.parametrize("module", sorted(MODULES))
@pytest.mark.parametrize("value", ACCEPTED)
def test_every_module_accepts(module, value):
    assert MODULES[module][1](value) is None


@pytest.mark.parametrize("module", sorted(MODULES))
@pytest.mark.parametrize("value", REJECTED)
def test_every_module_rejects_naming_its_option(module, value):
    option, problem = MODULES[module]
    message = problem(value)
    assert message is not None and message.startswith(f"{option}: ")


def test_parse_trail_reference_splits_an_arn():
    reference = ct.parse_trail_reference(f"arn:aws-cn:cloudtrail:cn-north-1:{ACCOUNT}:trail/main", "name")
    assert reference == ct.TrailReference("main", f"arn:aws-cn:cloudtrail:cn-north-1:{ACCOUNT}:trail/main", "aws-cn", "cn-north-1", ACCOUNT)
    assert ct.parse_trail_reference("main", "name") == ct.TrailReference("main")


@pytest.mark.parametrize(
    "value, account, partition, fragment",
    [
        ("main", ACCOUNT, "aws", None),
        (f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main", ACCOUNT, "aws", None),
        ("arn:aws:cloudtrail:us-east-1:999999999999:trail/main", ACCOUNT, "aws", "in account 999999999999"),
        (f"arn:aws-cn:cloudtrail:cn-north-1:{ACCOUNT}:trail/main", ACCOUNT, "aws", "in partition aws-cn"),
        # Nothing known about the caller: nothing to compare.
        ("arn:aws:cloudtrail:us-east-1:999999999999:trail/main", None, None, None),
    ],
)
def test_foreign_trail_error(value, account, partition, fragment):
    problem = ct.foreign_trail_error(ct.parse_trail_reference(value, "name"), "name", account, partition)
    if fragment is None:
        assert problem is None
    else:
        assert problem.startswith("name: ") and fragment in problem


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"name": "arn:aws:cloudtrail:us-east-1:999999999999:trail/main", "account_id": ACCOUNT}, "name: "),
        ({"name": "main", "account_id": "12345"}, "account_id: "),
        ({"name": "main", "account_id": f"{ACCOUNT}\n"}, "account_id: "),
    ],
)
def test_trail_module_checks_account_id_before_any_call(params, fragment):
    with pytest.raises(ParameterError, match=f"^{fragment}"):
        tr.validate_params(dict(params, state="present"))
