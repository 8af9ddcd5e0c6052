"""Case tables for the pure part of the trail module: validation,
normalization, the desired and predicted trail, and the calls planned."""

from __future__ import annotations

from unittest.mock import MagicMock

import botocore.exceptions
import pytest

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.trailops.cloudtrail.plugins.module_utils import cloudtrail as ct
from ansible_collections.trailops.cloudtrail.plugins.module_utils import trail as tr
from ansible_collections.trailops.cloudtrail.plugins.module_utils import trail_info
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError

ACCOUNT = "123456789012"
ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/main-trail"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
OTHER_KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/66666666-2222-3333-4444-555555555555"
GROUP = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:CloudTrail/main:*"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/CloudTrailToLogs"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:deliveries"


def params(**overrides):
    base = {setting.option: None for setting in tr.SETTINGS}
    base.update(name="main-trail", state="present", enable_logging=None, tags=None, purge_tags=True)
    base.update(overrides)
    return base


def current(**overrides):
    """A normalized existing trail."""
    trail = tr.normalize_trail(
        {"Name": "main-trail", "TrailARN": ARN, "HomeRegion": "us-east-1", "S3BucketName": "logs", "IncludeGlobalServiceEvents": True},
        {"IsLogging": True},
        {},
    )
    trail.update(overrides)
    return trail


# -- validation ---------------------------------------------------------------
@pytest.mark.parametrize(
    "name, fragment",
    [
        ("abc", None),
        ("my-trail.v2_x", None),
        ("A" * 128, None),
        ("10.0.0", None),
        ("ab", "3 to 128"),
        ("a" * 129, "3 to 128"),
        ("my trail", "letters, digits"),
        ("-trail", "start and end"),
        ("trail.", "start and end"),
        ("my-_trail", "two punctuation"),
        ("my..trail", "two punctuation"),
        ("tr\u00e4il", "letters, digits"),
        ("192.168.0.1", "IP address"),
    ],
)
def test_trail_name_error(name, fragment):
    problem = ct.trail_name_error(name)
    if fragment is None:
        assert problem is None
    else:
        assert fragment in problem


@pytest.mark.parametrize(
    "value, valid",
    [
        (KEY_ARN, True),
        (f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/cloudtrail", True),
        ("alias/cloudtrail", True),
        ("11111111-2222-3333-4444-555555555555", True),
        ("mrk-0123456789abcdef0123456789abcdef", True),
        ("cloudtrail", False),
        ("alias/", False),
        (f"arn:aws:kms:us-east-1:{ACCOUNT}:keys/abc", False),
        ("arn:aws:kms:::key/abc", False),
        (f"arn:aws:s3:::{ACCOUNT}", False),
    ],
)
def test_kms_key_error(value, valid):
    assert (tr.kms_key_error(value) is None) is valid


@pytest.mark.parametrize(
    "value, valid",
    [
        ("deliveries", True),
        (TOPIC_ARN, True),
        ("bad topic", False),
        ("arn:aws:sqs:us-east-1:123456789012:q", False),
        ("arn:aws:sns::123456789012:q", False),
    ],
)
def test_sns_topic_error(value, valid):
    assert (tr.sns_topic_error(value) is None) is valid


@pytest.mark.parametrize(
    "overrides, option",
    [
        ({"name": "x"}, "name"),
        ({"name": "arn:aws:s3:::bucket"}, "name"),
        ({"name": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/a..b"}, "name"),
        ({"s3_bucket_name": "Bad_Bucket"}, "s3_bucket_name"),
        ({"s3_bucket_name": ""}, "s3_bucket_name"),
        ({"s3_key_prefix": "p" * 201}, "s3_key_prefix"),
        ({"kms_key_id": "nope"}, "kms_key_id"),
        ({"sns_topic_name": "no spaces"}, "sns_topic_name"),
        ({"cloudwatch_logs_log_group_arn": ROLE, "cloudwatch_logs_role_arn": ROLE}, "cloudwatch_logs_log_group_arn"),
        ({"cloudwatch_logs_log_group_arn": GROUP, "cloudwatch_logs_role_arn": GROUP}, "cloudwatch_logs_role_arn"),
        ({"cloudwatch_logs_log_group_arn": GROUP}, "cloudwatch_logs_log_group_arn and cloudwatch_logs_role_arn"),
        ({"cloudwatch_logs_role_arn": ROLE}, "cloudwatch_logs_log_group_arn and cloudwatch_logs_role_arn"),
        ({"cloudwatch_logs_log_group_arn": "", "cloudwatch_logs_role_arn": ROLE}, "cloudwatch_logs_log_group_arn and"),
        ({"is_multi_region_trail": True, "include_global_service_events": False}, "include_global_service_events"),
        ({"tags": {str(n): "v" for n in range(51)}}, "tags"),
        ({"tags": {"k" * 129: "v"}}, "tags"),
        ({"tags": {"k": "v" * 257}}, "tags"),
    ],
)
def test_validate_params_names_the_option(overrides, option):
    with pytest.raises(ParameterError) as error:
        tr.validate_params(params(**overrides))
    assert str(error.value).startswith(option)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"name": ARN},
        {"s3_bucket_name": "logs", "s3_key_prefix": "", "kms_key_id": "", "sns_topic_name": ""},
        {"cloudwatch_logs_log_group_arn": "", "cloudwatch_logs_role_arn": ""},
        {"cloudwatch_logs_log_group_arn": GROUP, "cloudwatch_logs_role_arn": ROLE},
        {"is_multi_region_trail": True},
        {"state": "absent", "kms_key_id": "nope"},
    ],
)
def test_validate_params_accepts(overrides):
    tr.validate_params(params(**overrides))


def test_validate_trail_names_names_the_option():
    trail_info.validate_trail_names(["abc", ARN])
    with pytest.raises(ParameterError, match=r"^trail_names: 'a\.\.b'"):
        trail_info.validate_trail_names(["abc", "a..b"])


# -- normalization --------------------------------------------------------------
def test_normalize_trail_fills_unset_settings_with_none():
    trail = tr.normalize_trail(
        {"Name": "main-trail", "TrailARN": ARN, "S3BucketName": "logs", "S3KeyPrefix": "", "SnsTopicARN": TOPIC_ARN, "KmsKeyId": KEY_ARN},
        None,
        None,
    )
    assert trail["home_region"] == "us-east-1"  # from the ARN when HomeRegion is missing
    assert trail["s3_key_prefix"] is None
    assert (trail["sns_topic_arn"], trail["sns_topic_name"]) == (TOPIC_ARN, "deliveries")
    assert trail["kms_key_id"] == KEY_ARN
    assert trail["cloud_watch_logs_log_group_arn"] is None
    assert (trail["is_logging"], trail["tags"], trail["is_multi_region_trail"]) == (False, {}, False)


@pytest.mark.parametrize(
    "overrides, kms_arn, expected",
    [
        ({}, None, {}),
        ({"s3_key_prefix": "logs/"}, None, {"s3_key_prefix": "logs"}),
        ({"s3_key_prefix": "/"}, None, {"s3_key_prefix": None}),
        ({"s3_key_prefix": ""}, None, {"s3_key_prefix": None}),
        ({"sns_topic_name": "deliveries"}, None, {"sns_topic_arn": TOPIC_ARN}),
        ({"sns_topic_name": TOPIC_ARN}, None, {"sns_topic_arn": TOPIC_ARN}),
        ({"sns_topic_name": ""}, None, {"sns_topic_arn": None}),
        ({"kms_key_id": "alias/ct"}, KEY_ARN, {"kms_key_id": KEY_ARN}),
        ({"kms_key_id": ""}, None, {"kms_key_id": None}),
        (
            {"cloudwatch_logs_log_group_arn": "", "cloudwatch_logs_role_arn": ""},
            None,
            {"cloud_watch_logs_log_group_arn": None, "cloud_watch_logs_role_arn": None},
        ),
        ({"is_multi_region_trail": False}, None, {"is_multi_region_trail": False}),
        ({"enable_log_file_validation": True}, None, {"log_file_validation_enabled": True}),
        ({"enable_logging": False}, None, {"is_logging": False}),
    ],
)
def test_desired_settings(overrides, kms_arn, expected):
    assert tr.desired_settings(params(**overrides), kms_arn, ARN) == expected


def test_desired_topic_name_kept_without_a_trail_arn():
    assert tr.desired_settings(params(sns_topic_name="deliveries"), None, None) == {"sns_topic_arn": "deliveries"}


@pytest.mark.parametrize(
    "have, tags, purge, expected",
    [
        ({"a": "1"}, None, True, {"a": "1"}),
        ({"a": "1"}, {}, True, {}),
        ({"a": "1"}, {}, False, {"a": "1"}),
        ({"a": "1", "b": "2"}, {"b": "3"}, True, {"b": "3"}),
        ({"a": "1", "b": "2"}, {"b": "3"}, False, {"a": "1", "b": "3"}),
        ({"aws:managed": "x"}, {"c": 4}, True, {"aws:managed": "x", "c": "4"}),
    ],
)
def test_desired_tags(have, tags, purge, expected):
    assert tr.desired_tags(have, tags, purge) == expected


def test_predict_new_trail_uses_documented_defaults():
    identity = {"name": "main-trail", "trail_arn": ARN, "home_region": "us-east-1", "s3_bucket_name": "logs"}
    after = tr.predict_after(None, tr.desired_settings(params(s3_bucket_name="logs", tags={"a": "b"}), None, ARN), {"a": "b"}, True, identity)
    assert after == dict(tr.new_trail_defaults(), sns_topic_name=None, tags={"a": "b"}, **identity)


def test_predict_existing_trail_keeps_what_is_omitted():
    before = current(is_multi_region_trail=True, tags={"x": "y"})
    assert tr.predict_after(before, {}, None, True) == before
    after = tr.predict_after(before, {"sns_topic_arn": TOPIC_ARN}, {"z": "1"}, False)
    assert (after["is_multi_region_trail"], after["sns_topic_name"], after["tags"]) == (True, "deliveries", {"x": "y", "z": "1"})


# -- planning -----------------------------------------------------------------
@pytest.mark.parametrize(
    "change, request_",
    [
        ({}, {}),
        ({"s3_key_prefix": "p"}, {"S3KeyPrefix": "p"}),
        ({"kms_key_id": KEY_ARN}, {"KmsKeyId": KEY_ARN}),
        ({"is_multi_region_trail": True}, {"IsMultiRegionTrail": True}),
        ({"log_file_validation_enabled": True}, {"EnableLogFileValidation": True}),
        (
            {"cloud_watch_logs_log_group_arn": GROUP, "cloud_watch_logs_role_arn": ROLE},
            {"CloudWatchLogsLogGroupArn": GROUP, "CloudWatchLogsRoleArn": ROLE},
        ),
        ({"is_logging": False, "tags": {"a": "b"}}, {}),
    ],
)
def test_update_trail_params(change, request_):
    before = current()
    plan = tr.update_trail_params(before, dict(before, **change), params())
    assert plan == (dict(request_, Name=ARN) if request_ else {})


@pytest.mark.parametrize(
    "have, request_",
    [
        ({"s3_key_prefix": "p"}, {"S3KeyPrefix": ""}),
        ({"kms_key_id": KEY_ARN}, {"KmsKeyId": ""}),
        ({"sns_topic_arn": TOPIC_ARN}, {"SnsTopicName": ""}),
        (
            {"cloud_watch_logs_log_group_arn": GROUP, "cloud_watch_logs_role_arn": ROLE},
            {"CloudWatchLogsLogGroupArn": "", "CloudWatchLogsRoleArn": ""},
        ),
    ],
)
def test_update_trail_params_clears_with_empty_strings(have, request_):
    before = current(**have)
    after = dict(before, **{key: None for key in have})
    assert tr.update_trail_params(before, after, params()) == dict(request_, Name=ARN)


def test_update_sends_the_topic_as_given_and_one_kms_change():
    before = current(kms_key_id=KEY_ARN)
    after = dict(before, sns_topic_arn=TOPIC_ARN, kms_key_id=OTHER_KEY_ARN)
    plan = tr.update_trail_params(before, after, params(sns_topic_name="deliveries", kms_key_id="alias/other"))
    assert plan == {"Name": ARN, "SnsTopicName": "deliveries", "KmsKeyId": OTHER_KEY_ARN}


def test_create_trail_params():
    p = params(s3_bucket_name="logs", s3_key_prefix="p/", sns_topic_name="", kms_key_id="alias/ct", tags={"a": "b"})
    identity = {"name": "main-trail", "trail_arn": None, "home_region": "us-east-1", "s3_bucket_name": "logs"}
    after = tr.predict_after(None, tr.desired_settings(p, KEY_ARN, None), {"a": "b"}, True, identity)
    assert tr.create_trail_params("main-trail", p, after) == {
        "Name": "main-trail",
        "S3BucketName": "logs",
        "S3KeyPrefix": "p",
        "KmsKeyId": "alias/ct",
        "IncludeGlobalServiceEvents": True,
        "IsMultiRegionTrail": False,
        "IsOrganizationTrail": False,
        "EnableLogFileValidation": False,
        "TagsList": [{"Key": "a", "Value": "b"}],
    }


@pytest.mark.parametrize(
    "have, want, to_add, to_remove",
    [
        ({}, {}, {}, {}),
        ({"a": "1"}, {"a": "1"}, {}, {}),
        ({"a": "1"}, {"a": "2"}, {"a": "2"}, {}),
        ({"a": "1", "b": "2"}, {"c": "3"}, {"c": "3"}, {"a": "1", "b": "2"}),
    ],
)
def test_tag_changes(have, want, to_add, to_remove):
    assert tr.tag_changes(have, want) == (to_add, to_remove)


@pytest.mark.parametrize(
    "before, after, action",
    [
        (None, True, "start"),
        (None, False, None),
        (True, True, None),
        (False, False, None),
        (True, False, "stop"),
        (False, True, "start"),
    ],
)
def test_logging_change(before, after, action):
    have = None if before is None else current(is_logging=before)
    assert tr.logging_change(have, current(is_logging=after)) == action


@pytest.mark.parametrize(
    "kms_key_id, have, lookup",
    [
        (None, KEY_ARN, False),
        ("", KEY_ARN, False),
        (KEY_ARN, KEY_ARN, False),
        (KEY_ARN, OTHER_KEY_ARN, True),
        (KEY_ARN, None, True),
        ("alias/ct", KEY_ARN, True),
        ("11111111-2222-3333-4444-555555555555", KEY_ARN, True),
    ],
)
def test_kms_key_needs_lookup(kms_key_id, have, lookup):
    assert tr.kms_key_needs_lookup(kms_key_id, current(kms_key_id=have)) is lookup


def test_kms_key_arn_is_looked_up_for_a_new_trail():
    assert tr.kms_key_needs_lookup(KEY_ARN, None) is True


def client_error(code: str) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": "refused"}}, "CreateTrail")


@pytest.mark.parametrize(
    "code, option",
    [
        ("InsufficientS3BucketPolicyException", "s3_bucket_name"),
        ("S3BucketDoesNotExistException", "s3_bucket_name"),
        ("KmsKeyNotFoundException", "kms_key_id"),
        ("InsufficientEncryptionPolicyException", "kms_key_id"),
        ("InsufficientSnsTopicPolicyException", "sns_topic_name"),
        ("InvalidCloudWatchLogsRoleArnException", "cloudwatch_logs_role_arn"),
        ("TrailAlreadyExistsException", "name"),
        ("ThrottlingException", None),
    ],
)
def test_explain_error(code, option):
    explanation = tr.explain_error(AnsibleAWSError(message="Failed to create trail", exception=client_error(code)))
    if option is None:
        assert explanation is None
    else:
        assert explanation.startswith(f"{option}: ") and code in explanation


@pytest.mark.parametrize(
    "trail, home",
    [
        ({"HomeRegion": "eu-west-1", "TrailARN": ARN}, "eu-west-1"),
        ({"TrailARN": ARN}, "us-east-1"),
        ({"Name": "main-trail"}, None),
    ],
)
def test_home_region_of(trail, home):
    assert ct.home_region_of(trail) == home


# -- the shared ListTags wrapper batches by 20 ------------------------------------
@pytest.mark.parametrize("count, calls", [(0, 0), (1, 1), (20, 1), (21, 2), (45, 3)])
def test_list_tags_batches_by_20(count, calls):
    arns = [f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/t{n:02d}" for n in range(count)]
    client = MagicMock()
    client.list_tags.side_effect = lambda aws_retry, ResourceIdList: {
        "ResourceTagList": [{"ResourceId": arn, "TagsList": [{"Key": "n", "Value": arn[-2:]}]} for arn in ResourceIdList]
    }
    tags = ct.list_tags(client, arns)
    assert client.list_tags.call_count == calls
    assert all(len(call.kwargs["ResourceIdList"]) <= ct.LIST_TAGS_BATCH for call in client.list_tags.call_args_list)
    assert tags == {arn: {"n": arn[-2:]} for arn in arns}
