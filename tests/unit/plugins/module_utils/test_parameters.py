"""One validation style: every module's validator (and the accounts
inventory's) raises the same ParameterError, and the checks they share (account id, region, S3 key
prefix, trail reference) say the same thing in every module."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.trailops.cloudtrail.plugins.module_utils import baseline
from ansible_collections.trailops.cloudtrail.plugins.module_utils import bucket_policy
from ansible_collections.trailops.cloudtrail.plugins.module_utils import event_selectors
from ansible_collections.trailops.cloudtrail.plugins.module_utils import log_bucket
from ansible_collections.trailops.cloudtrail.plugins.module_utils import parameters
from ansible_collections.trailops.cloudtrail.plugins.module_utils import trail
from ansible_collections.trailops.cloudtrail.plugins.module_utils import trail_info
from ansible_collections.trailops.cloudtrail.plugins.module_utils import validate_logs
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import parse_trail_reference
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils import accounts
from tests.unit.plugins.module_utils.test_baseline import options as baseline_options

ACCOUNT = "123456789012"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main"
NOW = datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc)
# Baseline parts end each message with what happened; the rule before it is shared.
NOTHING_WRITTEN = "; nothing was written"


def trail_params(**given):
    params = {setting.option: None for setting in trail.SETTINGS}
    params.update(name="main", state="present", enable_logging=None, tags=None, purge_tags=True)
    params.update(given)
    return params


def bucket_policy_params(**given):
    params = {
        "bucket": "trail-logs",
        "trails": [TRAIL_ARN],
        "account_id": None,
        "s3_key_prefix": None,
        "organization_id": None,
        "sid_suffix": bucket_policy.DEFAULT_SID_SUFFIX,
        "state": "present",
    }
    params.update(given)
    return params


def log_bucket_spec(**given):
    spec = {"name": "trail-logs", "state": "present", "trails": [TRAIL_ARN], "lifecycle_storage_class": "GLACIER", "sid_suffix": "20150319"}
    spec.update(given)
    return spec


def baseline_params(**given):
    """The baseline module's options as AnsibleModule fills them in."""
    return baseline_options(**dict({"name": "main"}, **given))


def validate_logs_params(**given):
    params = {"trail_name": "main", "start_time": "2026-01-01T00:00:00Z", "end_time": None, "account_ids": [], "regions": []}
    params.update(given)
    return params


def error_of(check, *args) -> ParameterError:
    with pytest.raises(ParameterError) as raised:
        check(*args)
    return raised.value


def rule_of(error: ParameterError) -> str:
    message = error.message
    return message[: -len(NOTHING_WRITTEN)] if message.endswith(NOTHING_WRITTEN) else message


# Each module's validator, given one bad value: (option named, the call).
BAD_ACCOUNT_ID = "12345678901a"
ACCOUNT_ID_VALIDATORS = {
    "trail": ("account_id", lambda: trail.validate_params(trail_params(account_id=BAD_ACCOUNT_ID))),
    "bucket_policy": ("account_id", lambda: bucket_policy.validate_params(bucket_policy_params(account_id=BAD_ACCOUNT_ID))),
    "log_bucket": ("account_id", lambda: log_bucket.check(log_bucket_spec(account_id=BAD_ACCOUNT_ID))),
    "baseline": ("account_id", lambda: baseline.check(baseline_params(account_id=BAD_ACCOUNT_ID))),
    "validate_logs": ("account_ids", lambda: validate_logs.check_parameters(validate_logs_params(account_ids=[BAD_ACCOUNT_ID]), NOW)),
    "accounts inventory": ("exclude_accounts", lambda: accounts.check_options({"exclude_accounts": [BAD_ACCOUNT_ID]})),
}

BAD_PREFIXES = ["/logs", "p" * 201]
PREFIX_VALIDATORS = {
    "trail": lambda prefix: trail.validate_params(trail_params(s3_bucket_name="trail-logs", s3_key_prefix=prefix)),
    "bucket_policy": lambda prefix: bucket_policy.validate_params(bucket_policy_params(s3_key_prefix=prefix)),
    "log_bucket": lambda prefix: log_bucket.check(log_bucket_spec(s3_key_prefix=prefix)),
    "baseline": lambda prefix: baseline.check(baseline_params(s3_key_prefix=prefix)),
}

BAD_TRAIL_REFERENCES = ["my..trail", "arn:aws:s3:::bucket", f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/a"]
TRAIL_REFERENCE_VALIDATORS = {
    "trail": ("name", lambda value: trail.validate_params(trail_params(name=value, state="absent"))),
    "trail_info": ("trail_names", lambda value: trail_info.validate_trail_names(["main", value])),
    "bucket_policy": ("trails", lambda value: bucket_policy.validate_params(bucket_policy_params(trails=[value]))),
    "log_bucket": ("trails", lambda value: log_bucket.check(log_bucket_spec(trails=[value]))),
    "event_selectors": ("trail_name", lambda value: event_selectors.validate_params({"trail_name": value})),
    "validate_logs": ("trail_name", lambda value: validate_logs.check_parameters(validate_logs_params(trail_name=value), NOW)),
}


@pytest.mark.parametrize("module", sorted(ACCOUNT_ID_VALIDATORS))
def test_a_bad_account_id_gets_the_same_rule_from_every_module(module):
    option, call = ACCOUNT_ID_VALIDATORS[module]
    error = error_of(call)
    assert error.option == option
    assert rule_of(error) == f"an AWS account id is 12 digits (got {BAD_ACCOUNT_ID!r})"


@pytest.mark.parametrize("prefix", BAD_PREFIXES, ids=["leading slash", "too long"])
@pytest.mark.parametrize("module", sorted(PREFIX_VALIDATORS))
def test_a_bad_s3_key_prefix_gets_the_same_rule_from_every_module(module, prefix):
    error = error_of(PREFIX_VALIDATORS[module], prefix)
    assert error.option == "s3_key_prefix"
    assert rule_of(error) == parameters.s3_key_prefix_rule(prefix)


@pytest.mark.parametrize("module", sorted(PREFIX_VALIDATORS))
def test_every_module_takes_the_same_good_prefixes(module):
    for prefix in ("", "logs", "logs/", "a/b", "p" * 200):
        PREFIX_VALIDATORS[module](prefix)


@pytest.mark.parametrize("value", BAD_TRAIL_REFERENCES)
@pytest.mark.parametrize("module", sorted(TRAIL_REFERENCE_VALIDATORS))
def test_a_bad_trail_reference_gets_the_same_rule_from_every_module(module, value):
    option, call = TRAIL_REFERENCE_VALIDATORS[module]
    error = error_of(call, value)
    assert error.option == option
    assert rule_of(error) == error_of(parse_trail_reference, value, "any").message


def test_a_bad_region_names_the_option():
    error = error_of(validate_logs.check_parameters, validate_logs_params(regions=["us-east-1", "us-east"]), NOW)
    assert str(error) == "regions: not an AWS region name such as us-east-1 (got 'us-east')"
    validate_logs.check_parameters(validate_logs_params(regions=["us-east-1", "us-gov-west-1", "cn-north-1", "il-central-1"]), NOW)


@pytest.mark.parametrize("value", ["123456789012\n", "１２３４５６７８９０１２", "12345678901", 123456789012])
def test_account_ids_are_twelve_ascii_digits_matched_whole(value):
    assert not parameters.is_account_id(value)
    assert error_of(parameters.check_account_id, value).option == "account_id"


def test_selector_problems_come_in_one_error_naming_the_first_option():
    error = error_of(
        event_selectors.validate_params,
        {"trail_name": "a..b", "insight_selectors": [{"insight_type": "NoSuchInsight"}]},
    )
    assert error.option == "trail_name"
    problems = event_selectors.parameter_problems({"trail_name": "a..b", "insight_selectors": [{"insight_type": "NoSuchInsight"}]})
    assert len(problems) == 2 and str(error) == "; ".join(problems)


def test_a_missing_region_is_refused_naming_the_option_and_where_it_comes_from():
    for region in (None, ""):
        error = error_of(parameters.check_region_given, region)
        assert error.option == "region" and "module_defaults of group/trailops.cloudtrail.aws, or AWS_REGION" in error.message
    parameters.check_region_given("eu-west-1")
