"""The `trail` module against the local AWS: each test runs the module, reads
the real trail back with boto3 and counts the calls the server received."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.setup_helpers import make_kms_key
from tests.integration.setup_helpers import make_log_bucket
from tests.integration.setup_helpers import make_log_group
from tests.integration.setup_helpers import make_sns_topic
from tests.local_aws.server import ACCOUNT_ID, REGION

OTHER_REGION = "eu-west-1"
NAME = "management-events"
BUCKET = "trailops-test-logs"
OTHER_BUCKET = "trailops-test-logs-2"
ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/{NAME}"


def writes(calls) -> list:
    return [c for c in calls if c.is_write]


def actions(calls, service: str) -> list[str]:
    return [c.action for c in calls if c.service == service]


def real_trail(aws, name_or_arn: str = ARN, region: str = REGION) -> dict[str, Any]:
    """What CloudTrail has, read with boto3: GetTrail plus status and tags."""
    cloudtrail = aws.client("cloudtrail", region)
    trail = cloudtrail.get_trail(Name=name_or_arn)["Trail"]
    home = aws.client("cloudtrail", trail.get("HomeRegion") or region)
    trail["IsLogging"] = home.get_trail_status(Name=trail["TrailARN"])["IsLogging"]
    (entry,) = home.list_tags(ResourceIdList=[trail["TrailARN"]])["ResourceTagList"]
    trail["Tags"] = {tag["Key"]: tag["Value"] for tag in entry.get("TagsList", [])}
    return trail


def trail_names(aws, region: str = REGION) -> list[str]:
    return [t["Name"] for t in aws.client("cloudtrail", region).describe_trails(includeShadowTrails=False)["trailList"]]


@pytest.fixture
def bucket(aws) -> str:
    make_log_bucket(aws, OTHER_BUCKET, prefixes=(None, "cloudtrail", "other"))
    return make_log_bucket(aws, BUCKET, prefixes=(None, "cloudtrail", "other"))


@pytest.fixture
def kms_key(aws):
    return make_kms_key(aws, "cloudtrail")


@pytest.fixture
def full(aws, bucket, kms_key) -> dict[str, Any]:
    """Every optional setting set, as a user would write them."""
    make_sns_topic(aws, "trail-deliveries")
    group_arn, role_arn = make_log_group(aws, "CloudTrail/management-events")
    return {
        "name": NAME,
        "s3_bucket_name": bucket,
        "s3_key_prefix": "cloudtrail",
        "sns_topic_name": "trail-deliveries",
        "kms_key_id": kms_key.alias_name,
        "cloudwatch_logs_log_group_arn": group_arn,
        "cloudwatch_logs_role_arn": role_arn,
        "is_multi_region_trail": True,
        "include_global_service_events": True,
        "enable_log_file_validation": True,
        "enable_logging": True,
        "tags": {"team": "security", "env": "test"},
    }


def assert_no_change(aws, run_module, params, *, region: str = REGION, kms_lookups: int = 0) -> dict[str, Any]:
    """The second run: changed false, no write, at most 3 CloudTrail calls."""
    aws.start_recording()
    result = run_module("trail", params, region=region)
    calls = aws.stop_recording()
    assert not result["failed"], result
    assert result["changed"] is False, result
    assert writes(calls) == []
    assert len(actions(calls, "cloudtrail")) <= 3, actions(calls, "cloudtrail")
    assert actions(calls, "kms") == ["DescribeKey"] * kms_lookups
    assert {c.service for c in calls} <= {"cloudtrail", "kms"}
    return result


# ---------------------------------------------------------------------------
# create, no change, check mode
# ---------------------------------------------------------------------------


def test_create_minimal_uses_documented_defaults(aws, run_module, bucket):
    result = run_module("trail", {"name": NAME, "s3_bucket_name": bucket})
    assert result["changed"] is True, result

    trail = real_trail(aws)
    assert trail["S3BucketName"] == bucket
    assert trail["IsMultiRegionTrail"] is False
    assert trail["IncludeGlobalServiceEvents"] is True
    assert trail["LogFileValidationEnabled"] is False
    assert trail["IsLogging"] is True
    assert result["trail"]["trail_arn"] == trail["TrailARN"] == ARN
    assert result["trail"]["is_logging"] is True
    assert result["exists"] is True

    assert_no_change(aws, run_module, {"name": NAME, "s3_bucket_name": bucket})


def test_create_everything_then_no_change(aws, run_module, full, kms_key):
    result = run_module("trail", full)
    assert result["changed"] is True, result

    trail = real_trail(aws)
    assert trail["S3KeyPrefix"] == "cloudtrail"
    assert trail["SnsTopicARN"] == f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:trail-deliveries"
    assert trail["KmsKeyId"] == kms_key.key_arn
    assert trail["CloudWatchLogsLogGroupArn"] == full["cloudwatch_logs_log_group_arn"]
    assert trail["CloudWatchLogsRoleArn"] == full["cloudwatch_logs_role_arn"]
    assert trail["IsMultiRegionTrail"] is True
    assert trail["LogFileValidationEnabled"] is True
    assert trail["IsLogging"] is True
    assert trail["Tags"] == full["tags"]

    again = assert_no_change(aws, run_module, full, kms_lookups=1)
    assert again["trail"] == result["trail"]


def test_check_mode_create_predicts_the_real_result(aws, run_module, full):
    aws.start_recording()
    predicted = run_module("trail", full, check=True)
    calls = aws.stop_recording()
    assert predicted["changed"] is True, predicted
    assert writes(calls) == []
    assert trail_names(aws) == []

    real = run_module("trail", full)
    assert real["changed"] is True, real
    assert predicted["trail"] == real["trail"]
    assert predicted["trail"]["trail_arn"] == ARN


def test_check_mode_update_predicts_the_real_result(aws, run_module, full, kms_key):
    run_module("trail", dict(full, kms_key_id=""))
    change = dict(full, s3_key_prefix="other", kms_key_id=kms_key.key_id, enable_logging=False, tags={"team": "ops"})

    aws.start_recording()
    predicted = run_module("trail", change, check=True)
    calls = aws.stop_recording()
    assert predicted["changed"] is True, predicted
    assert writes(calls) == []
    assert real_trail(aws)["S3KeyPrefix"] == "cloudtrail"

    real = run_module("trail", change)
    assert real["changed"] is True, real
    assert predicted["trail"] == real["trail"]
    assert real_trail(aws)["S3KeyPrefix"] == "other"


def test_check_mode_no_change_is_no_change(aws, run_module, full):
    run_module("trail", full)
    aws.start_recording()
    result = run_module("trail", full, check=True)
    calls = aws.stop_recording()
    assert result["changed"] is False, result
    assert writes(calls) == []


# ---------------------------------------------------------------------------
# updating and clearing each setting
# ---------------------------------------------------------------------------

UPDATES = {
    "s3_bucket_name": (OTHER_BUCKET, "S3BucketName", OTHER_BUCKET),
    "s3_key_prefix": ("other/", "S3KeyPrefix", "other"),
    "sns_topic_name": (f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:other-topic", "SnsTopicARN", f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:other-topic"),
    "is_multi_region_trail": (False, "IsMultiRegionTrail", False),
    "enable_log_file_validation": (False, "LogFileValidationEnabled", False),
}


@pytest.mark.parametrize("option", sorted(UPDATES))
def test_update_one_setting(aws, run_module, full, option):
    make_sns_topic(aws, "other-topic")
    run_module("trail", full)
    before = real_trail(aws)
    value, field, expected = UPDATES[option]

    result = run_module("trail", {"name": NAME, option: value}, diff=True)
    assert result["changed"] is True, result

    after = real_trail(aws)
    assert after[field] == expected
    untouched = {k: v for k, v in before.items() if k != field and not (option == "sns_topic_name" and k == "SnsTopicName")}
    assert {k: after.get(k) for k in untouched} == untouched
    assert_no_change(aws, run_module, {"name": NAME, option: value})


def test_update_kms_key(aws, run_module, full):
    other = make_kms_key(aws, "other")
    run_module("trail", full)
    result = run_module("trail", {"name": NAME, "kms_key_id": other.alias_arn})
    assert result["changed"] is True, result
    assert real_trail(aws)["KmsKeyId"] == other.key_arn
    assert result["trail"]["kms_key_id"] == other.key_arn


def test_update_cloudwatch_logs(aws, run_module, full):
    group_arn, role_arn = make_log_group(aws, "CloudTrail/other")
    run_module("trail", full)
    params = {"name": NAME, "cloudwatch_logs_log_group_arn": group_arn, "cloudwatch_logs_role_arn": role_arn}
    result = run_module("trail", params)
    assert result["changed"] is True, result
    trail = real_trail(aws)
    assert (trail["CloudWatchLogsLogGroupArn"], trail["CloudWatchLogsRoleArn"]) == (group_arn, role_arn)
    assert_no_change(aws, run_module, params)


def test_turn_multi_region_and_validation_on(aws, run_module, bucket):
    run_module("trail", {"name": NAME, "s3_bucket_name": bucket})
    params = {"name": NAME, "is_multi_region_trail": True, "enable_log_file_validation": True, "include_global_events": True}
    result = run_module("trail", params)
    assert result["changed"] is True, result
    trail = real_trail(aws)
    assert trail["IsMultiRegionTrail"] is True and trail["LogFileValidationEnabled"] is True
    assert_no_change(aws, run_module, params)


def test_omitted_options_are_left_alone(aws, run_module, full):
    """amazon.aws.cloudtrail turned a multi-region trail into a single-region one here."""
    run_module("trail", full)
    before = real_trail(aws)
    assert_no_change(aws, run_module, {"name": NAME})
    assert_no_change(aws, run_module, {"name": NAME, "s3_bucket_name": full["s3_bucket_name"]})
    assert real_trail(aws) == before


# setting: (options given as "", GetTrail fields that must go, keys of the returned trail that become null)
CLEARS = {
    "s3_key_prefix": (("s3_key_prefix",), ("S3KeyPrefix",), ("s3_key_prefix",)),
    "sns_topic_name": (("sns_topic_name",), ("SnsTopicARN", "SnsTopicName"), ("sns_topic_name", "sns_topic_arn")),
    "kms_key_id": (("kms_key_id",), ("KmsKeyId",), ("kms_key_id",)),
    "cloudwatch_logs": (
        ("cloudwatch_logs_log_group_arn", "cloudwatch_logs_role_arn"),
        ("CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn"),
        ("cloud_watch_logs_log_group_arn", "cloud_watch_logs_role_arn"),
    ),
}


@pytest.mark.parametrize("setting", sorted(CLEARS))
def test_clear_one_optional_setting(aws, run_module, full, setting):
    options, fields, keys = CLEARS[setting]
    created = run_module("trail", full)
    before = real_trail(aws)
    params = dict({option: "" for option in options}, name=NAME)

    result = run_module("trail", params)
    assert result["changed"] is True, result

    after = real_trail(aws)
    assert [after.get(field) or None for field in fields] == [None] * len(fields)
    assert {k: v for k, v in after.items() if k not in fields} == {k: v for k, v in before.items() if k not in fields}
    assert all(created["trail"][key] is not None for key in keys)
    assert {key: value for key, value in result["trail"].items() if key in keys} == {key: None for key in keys}
    assert {key: value for key, value in result["trail"].items() if key not in keys} == {
        key: value for key, value in created["trail"].items() if key not in keys
    }
    assert_no_change(aws, run_module, params)


# ---------------------------------------------------------------------------
# KMS key forms
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["alias_name", "alias_arn", "key_id", "key_arn"])
def test_kms_key_in_any_form_is_stable(aws, run_module, bucket, kms_key, form):
    params = {"name": NAME, "s3_bucket_name": bucket, "kms_key_id": getattr(kms_key, form)}
    created = run_module("trail", params)
    assert created["changed"] is True, created
    assert real_trail(aws)["KmsKeyId"] == kms_key.key_arn
    assert created["trail"]["kms_key_id"] == kms_key.key_arn

    assert_no_change(aws, run_module, params, kms_lookups=0 if form == "key_arn" else 1)


# ---------------------------------------------------------------------------
# tags and logging
# ---------------------------------------------------------------------------


def test_tags_added_changed_removed_purged(aws, run_module, bucket):
    base = {"name": NAME, "s3_bucket_name": bucket}
    run_module("trail", dict(base, tags={"a": "1", "b": "2"}))
    assert real_trail(aws)["Tags"] == {"a": "1", "b": "2"}

    steps = [
        ({"tags": {"a": "1", "b": "two", "c": "3"}}, {"a": "1", "b": "two", "c": "3"}),  # changed and added
        ({"tags": {"d": "4"}, "purge_tags": False}, {"a": "1", "b": "two", "c": "3", "d": "4"}),  # added, none purged
        ({"tags": {"a": "1", "d": "4"}}, {"a": "1", "d": "4"}),  # removed by purge
        ({"tags": {}}, {}),  # all purged
    ]
    for change, expected in steps:
        result = run_module("trail", dict(base, **change))
        assert result["changed"] is True, (change, result)
        assert real_trail(aws)["Tags"] == expected
        assert result["trail"]["tags"] == expected
        assert_no_change(aws, run_module, dict(base, **change))


def test_tags_omitted_are_left_alone(aws, run_module, bucket):
    run_module("trail", {"name": NAME, "s3_bucket_name": bucket, "tags": {"a": "1"}})
    assert_no_change(aws, run_module, {"name": NAME})
    assert real_trail(aws)["Tags"] == {"a": "1"}


def test_logging_off_and_on(aws, run_module, bucket):
    base = {"name": NAME, "s3_bucket_name": bucket}
    run_module("trail", base)
    for enabled, action in ((False, "StopLogging"), (True, "StartLogging")):
        aws.start_recording()
        result = run_module("trail", dict(base, enable_logging=enabled))
        calls = aws.stop_recording()
        assert result["changed"] is True, result
        assert [c.action for c in writes(calls)] == [action]
        assert real_trail(aws)["IsLogging"] is enabled
        assert result["trail"]["is_logging"] is enabled
        assert_no_change(aws, run_module, dict(base, enable_logging=enabled))


def test_new_trail_may_start_paused(aws, run_module, bucket):
    result = run_module("trail", {"name": NAME, "s3_bucket_name": bucket, "enable_logging": False})
    assert result["changed"] is True
    assert real_trail(aws)["IsLogging"] is False


def test_trail_named_by_arn(aws, run_module, bucket):
    run_module("trail", {"name": NAME, "s3_bucket_name": bucket})
    result = assert_no_change(aws, run_module, {"name": ARN, "s3_bucket_name": bucket})
    assert result["trail"]["name"] == NAME

    aws.start_recording()
    other = run_module("trail", {"name": ARN.replace(REGION, OTHER_REGION), "s3_bucket_name": bucket}, region=REGION)
    calls = aws.stop_recording()
    assert other["failed"] is True and other["msg"].startswith("name: the trail ARN"), other
    assert writes(calls) == []


# ---------------------------------------------------------------------------
# delete
# ---------------------------------------------------------------------------


def test_delete_keeps_the_bucket(aws, run_module, bucket):
    run_module("trail", {"name": NAME, "s3_bucket_name": bucket})

    aws.start_recording()
    predicted = run_module("trail", {"name": NAME, "state": "absent"}, check=True, diff=True)
    calls = aws.stop_recording()
    assert predicted["changed"] is True
    assert writes(calls) == []
    assert trail_names(aws) == [NAME]

    aws.start_recording()
    result = run_module("trail", {"name": NAME, "state": "absent"}, diff=True)
    calls = aws.stop_recording()
    assert result["changed"] is True
    assert [c.action for c in writes(calls)] == ["DeleteTrail"]
    assert trail_names(aws) == []
    assert aws.client("s3").head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    for outcome in (predicted, result):
        assert (outcome["exists"], outcome["trail"], outcome["diff"]["after"]) == (False, {}, {})
        assert outcome["diff"]["before"]["trail_arn"] == ARN


def test_delete_missing_trail_is_no_change(aws, run_module):
    aws.start_recording()
    result = run_module("trail", {"name": NAME, "state": "absent"})
    calls = aws.stop_recording()
    assert result["failed"] is False, result
    assert result["changed"] is False
    assert writes(calls) == []


def test_amazon_aws_state_names_still_work(aws, run_module, bucket):
    assert run_module("trail", {"name": NAME, "s3_bucket_name": bucket, "state": "enabled"})["changed"] is True
    assert trail_names(aws) == [NAME]
    assert run_module("trail", {"name": NAME, "state": "disabled"})["changed"] is True
    assert trail_names(aws) == []


# ---------------------------------------------------------------------------
# diff
# ---------------------------------------------------------------------------


def test_diff_shows_before_and_after(aws, run_module, full):
    created = run_module("trail", full, diff=True)
    assert created["diff"]["before"] == {}
    assert created["diff"]["after"] == created["trail"]

    result = run_module("trail", {"name": NAME, "enable_log_file_validation": False, "tags": {"team": "ops"}}, diff=True)
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert before == created["trail"]
    assert after == result["trail"]
    assert {key for key in before if before[key] != after[key]} == {"log_file_validation_enabled", "tags"}
    assert after["tags"] == {"team": "ops"}

    unchanged = run_module("trail", {"name": NAME}, diff=True)
    assert unchanged["diff"]["before"] == unchanged["diff"]["after"] == result["trail"]


# ---------------------------------------------------------------------------
# a multi-region trail seen from another region
# ---------------------------------------------------------------------------


def test_multi_region_trail_managed_from_another_region(aws, run_module, bucket):
    created = run_module("trail", {"name": NAME, "s3_bucket_name": bucket, "is_multi_region_trail": True})
    assert created["changed"] is True, created

    seen = assert_no_change(aws, run_module, {"name": NAME, "s3_bucket_name": bucket, "is_multi_region_trail": True}, region=OTHER_REGION)
    assert seen["trail"]["home_region"] == REGION
    assert seen["trail"]["trail_arn"] == ARN

    aws.start_recording()
    result = run_module("trail", {"name": NAME, "enable_log_file_validation": True, "tags": {"a": "1"}, "enable_logging": False}, region=OTHER_REGION)
    calls = aws.stop_recording()
    assert result["changed"] is True, result
    assert sorted(c.action for c in writes(calls)) == ["AddTags", "StopLogging", "UpdateTrail"]
    assert {c.region for c in writes(calls)} == {REGION}
    trail = real_trail(aws)
    assert (trail["LogFileValidationEnabled"], trail["Tags"], trail["IsLogging"]) == (True, {"a": "1"}, False)
    assert trail_names(aws, OTHER_REGION) == []

    aws.start_recording()
    result = run_module("trail", {"name": NAME, "state": "absent"}, region=OTHER_REGION)
    calls = aws.stop_recording()
    assert result["changed"] is True, result
    assert [(c.action, c.region) for c in writes(calls)] == [("DeleteTrail", REGION)]
    assert trail_names(aws) == []


# ---------------------------------------------------------------------------
# bad input: the message names the parameter, nothing is written
# ---------------------------------------------------------------------------

KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/11111111-2222-3333-4444-555555555555"
GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:CloudTrail/x:*"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/CloudTrailToLogs"

BAD_INPUT = {
    "name too short": ({"name": "ab"}, "name", "3 to 128"),
    "name too long": ({"name": "a" * 129}, "name", "3 to 128"),
    "name with a space": ({"name": "my trail"}, "name", "letters, digits"),
    "name starting with punctuation": ({"name": "-trail"}, "name", "start and end"),
    "name ending with punctuation": ({"name": "trail_"}, "name", "start and end"),
    "name with adjacent punctuation": ({"name": "my-_trail"}, "name", "two punctuation"),
    "name with two dots": ({"name": "my..trail"}, "name", "two punctuation"),
    "name is an IP address": ({"name": "192.168.10.1"}, "name", "IP address"),
    "name is a malformed ARN": ({"name": f"arn:aws:s3:::{BUCKET}"}, "name", "trail ARN"),
    "malformed KMS key ARN": ({"kms_key_id": f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:kee/abc"}, "kms_key_id", "key id"),
    "KMS key that is no id": ({"kms_key_id": "my-key"}, "kms_key_id", "alias name"),
    "malformed SNS ARN": ({"sns_topic_name": "arn:aws:sqs:us-east-1:123456789012:q"}, "sns_topic_name", "SNS topic"),
    "malformed log group ARN": (
        {"cloudwatch_logs_log_group_arn": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:group:x", "cloudwatch_logs_role_arn": ROLE_ARN},
        "cloudwatch_logs_log_group_arn",
        "log group",
    ),
    "malformed role ARN": (
        {"cloudwatch_logs_log_group_arn": GROUP_ARN, "cloudwatch_logs_role_arn": f"arn:aws:iam::{ACCOUNT_ID}:user/x"},
        "cloudwatch_logs_role_arn",
        "IAM role",
    ),
    "log group without role": ({"cloudwatch_logs_log_group_arn": GROUP_ARN}, "cloudwatch_logs_role_arn", "go together"),
    "role without log group": ({"cloudwatch_logs_role_arn": ROLE_ARN}, "cloudwatch_logs_log_group_arn", "go together"),
    "log group cleared, role kept": ({"cloudwatch_logs_log_group_arn": "", "cloudwatch_logs_role_arn": ROLE_ARN}, "cloudwatch_logs_role_arn", "go together"),
    "prefix too long": ({"s3_key_prefix": "p" * 201}, "s3_key_prefix", "200"),
    "invalid bucket name": ({"s3_bucket_name": "Not_A_Bucket"}, "s3_bucket_name", "bucket name"),
    "multi-region without global events": (
        {"is_multi_region_trail": True, "include_global_service_events": False},
        "include_global_service_events",
        "multi-region",
    ),
    "new trail without bucket": ({"s3_bucket_name": None}, "s3_bucket_name", "required"),
    "bucket that does not exist": ({"s3_bucket_name": "no-such-bucket-here"}, "s3_bucket_name", "does not exist"),
    "KMS alias that does not exist": ({"kms_key_id": "alias/no-such-key"}, "kms_key_id", "does not exist"),
    "KMS key ARN that does not exist": ({"kms_key_id": KEY_ARN}, "kms_key_id", "does not exist"),
    "KMS key id that does not exist": ({"kms_key_id": KEY_ARN.rsplit("/", 1)[1]}, "kms_key_id", "does not exist"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
def test_bad_input_fails_before_any_write(aws, run_module, bucket, case):
    change, option, rule = BAD_INPUT[case]
    params = {key: value for key, value in dict({"name": NAME, "s3_bucket_name": bucket}, **change).items() if value is not None}

    aws.start_recording()
    result = run_module("trail", params)
    calls = aws.stop_recording()
    assert result["failed"] is True, result
    assert result["msg"].startswith(option) or f" {option}" in result["msg"], result["msg"]
    assert rule in result["msg"], result["msg"]
    assert writes(calls) == []
    assert trail_names(aws) == []


def test_bad_input_on_an_existing_trail_changes_nothing(aws, run_module, bucket):
    run_module("trail", {"name": NAME, "s3_bucket_name": bucket, "is_multi_region_trail": True})
    before = real_trail(aws)
    for params, option in (
        ({"name": NAME, "include_global_service_events": False}, "include_global_service_events"),
        ({"name": NAME, "s3_bucket_name": "no-such-bucket-here"}, "s3_bucket_name"),
        ({"name": NAME, "kms_key_id": "alias/no-such-key"}, "kms_key_id"),
    ):
        aws.start_recording()
        result = run_module("trail", params)
        calls = aws.stop_recording()
        assert result["failed"] is True and result["msg"].startswith(option), result
        assert writes(calls) == []
    assert real_trail(aws) == before


def test_bucket_policy_refused_by_cloudtrail_names_the_bucket(aws, run_module):
    """CloudTrail checks the bucket policy itself: its refusal is reported
    against s3_bucket_name, without a traceback."""
    aws.client("s3").create_bucket(Bucket="no-policy-bucket")
    result = run_module("trail", {"name": NAME, "s3_bucket_name": "no-policy-bucket"})
    assert result["failed"] is True, result
    assert result["msg"].startswith("s3_bucket_name: the bucket policy"), result["msg"]
    assert trail_names(aws) == []
