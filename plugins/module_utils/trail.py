# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One trail's life cycle, for the ``trail`` module.

The pure part: validate the parameters, normalize the trail CloudTrail returns
and the trail the user asks for into the same snake_case dict, and turn the
difference into the CloudTrail calls that close it. The rest: one wrapper per
write call, plus the KMS and S3 reads that resolve and check what the user
named before anything is written.
"""

from __future__ import annotations

import re
from typing import Any
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.arn import validate_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import CloudTrailErrorHandler
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import client_for_region
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import describe_trails
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import get_event_selectors
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import get_insight_selectors
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import get_trail
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import get_trail_status
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import home_region_client
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import home_region_of
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import list_tags
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import TrailReferenceError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import caller_account_error
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import foreign_trail_error
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import parse_trail_reference
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import read_caller
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import transient_retry
from ansible_collections.trailops.cloudtrail.plugins.module_utils.event_selectors import insights_from_api
from ansible_collections.trailops.cloudtrail.plugins.module_utils.event_selectors import selection_from_api

try:
    from botocore.exceptions import ClientError
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

# The trail settings a user can set, as
# (module option, key in the normalized trail, CreateTrail/UpdateTrail parameter).
SETTINGS: tuple[tuple[str, str, str], ...] = (
    ("s3_bucket_name", "s3_bucket_name", "S3BucketName"),
    ("s3_key_prefix", "s3_key_prefix", "S3KeyPrefix"),
    ("sns_topic_name", "sns_topic_arn", "SnsTopicName"),
    ("kms_key_id", "kms_key_id", "KmsKeyId"),
    ("cloudwatch_logs_log_group_arn", "cloud_watch_logs_log_group_arn", "CloudWatchLogsLogGroupArn"),
    ("cloudwatch_logs_role_arn", "cloud_watch_logs_role_arn", "CloudWatchLogsRoleArn"),
    ("include_global_service_events", "include_global_service_events", "IncludeGlobalServiceEvents"),
    ("is_multi_region_trail", "is_multi_region_trail", "IsMultiRegionTrail"),
    ("is_organization_trail", "is_organization_trail", "IsOrganizationTrail"),
    ("enable_log_file_validation", "log_file_validation_enabled", "EnableLogFileValidation"),
)

# Options that an explicit empty string clears.
CLEARABLE = ("s3_key_prefix", "sns_topic_name", "kms_key_id", "cloudwatch_logs_log_group_arn", "cloudwatch_logs_role_arn")

# What a new trail gets for an option that is omitted: CloudTrail's own
# CreateTrail defaults, except logging, which CreateTrail leaves off but a
# trail exists to do (amazon.aws.cloudtrail and the console turn it on too).
NEW_TRAIL_DEFAULTS: dict[str, Any] = {
    "s3_key_prefix": None,
    "sns_topic_arn": None,
    "kms_key_id": None,
    "cloud_watch_logs_log_group_arn": None,
    "cloud_watch_logs_role_arn": None,
    "include_global_service_events": True,
    "is_multi_region_trail": False,
    "is_organization_trail": False,
    "log_file_validation_enabled": False,
    "has_custom_event_selectors": False,
    "has_insight_selectors": False,
    "is_logging": True,
    "tags": {},
}

S3_PREFIX_MAX = 200
TAGS_MAX = 50
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256

_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SNS_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_KMS_KEY_ID = re.compile(r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})$")
_KMS_ALIAS_NAME = re.compile(r"^alias/[A-Za-z0-9/_-]{1,250}$")

# CloudTrail's error codes for a setting it refused, and the option to name.
_ERROR_OPTIONS: dict[str, tuple[str, str]] = {
    "S3BucketDoesNotExistException": ("s3_bucket_name", "the bucket does not exist"),
    "InsufficientS3BucketPolicyException": ("s3_bucket_name", "the bucket policy does not let CloudTrail write to the bucket"),
    "InvalidS3BucketNameException": ("s3_bucket_name", "not a valid bucket name"),
    "InvalidS3PrefixException": ("s3_key_prefix", "not a valid key prefix"),
    "KmsKeyNotFoundException": ("kms_key_id", "the KMS key does not exist in the trail's region"),
    "InvalidKmsKeyIdException": ("kms_key_id", "not a usable KMS key"),
    "KmsKeyDisabledException": ("kms_key_id", "the KMS key is disabled"),
    "InsufficientEncryptionPolicyException": ("kms_key_id", "the key policy does not let CloudTrail use the KMS key"),
    "KmsException": ("kms_key_id", "KMS refused the key"),
    "InsufficientSnsTopicPolicyException": ("sns_topic_name", "the topic does not exist or its policy does not let CloudTrail publish"),
    "InvalidSnsTopicNameException": ("sns_topic_name", "not a valid SNS topic"),
    "InvalidCloudWatchLogsLogGroupArnException": ("cloudwatch_logs_log_group_arn", "not a usable log group"),
    "InvalidCloudWatchLogsRoleArnException": ("cloudwatch_logs_role_arn", "not a role CloudTrail can use"),
    "CloudWatchLogsDeliveryUnavailableException": ("cloudwatch_logs_log_group_arn", "CloudTrail cannot deliver to the log group"),
    "TrailAlreadyExistsException": ("name", "a trail with this name already exists"),
    "InvalidTrailNameException": ("name", "not a valid trail name"),
}


class TrailParameterError(Exception):
    """A parameter broke a rule; the message names the parameter and the rule."""


# ---------------------------------------------------------------------------
# Validation (no API call)
# ---------------------------------------------------------------------------


def is_kms_key_arn(value: str) -> bool:
    return validate_aws_arn(value, service="kms", resource_type="key")


def kms_key_error(value: str) -> Optional[str]:
    if is_kms_key_arn(value) or validate_aws_arn(value, service="kms", resource_type="alias"):
        details = parse_aws_arn(value)
        if details["region"] and details["account_id"] and details["resource_id"]:
            return None
        return "must be a KMS key or alias ARN with a region and an account"
    if _KMS_KEY_ID.match(value) or _KMS_ALIAS_NAME.match(value):
        return None
    return "must be a key id, a key ARN, an alias name (alias/...) or an alias ARN"


def _arn_error(value: str, service: str, resource_type: str, what: str) -> Optional[str]:
    details = parse_aws_arn(value) if value.startswith("arn:") else None
    if not details or details["service"] != service or details["resource_type"] != resource_type or not details["resource_id"]:
        return f"must be {what} ARN (arn:<partition>:{service}:...:{resource_type}...)"
    if not details["account_id"]:
        return f"must be {what} ARN with an account id"
    return None


def sns_topic_error(value: str) -> Optional[str]:
    if value.startswith("arn:"):
        details = parse_aws_arn(value)
        if not details or details["service"] != "sns" or not details["region"] or not details["account_id"]:
            return "must be an SNS topic name or an SNS topic ARN (arn:<partition>:sns:<region>:<account>:<name>)"
        if not _SNS_TOPIC_NAME.match(details["resource"]):
            return "the topic name in the ARN may contain only letters, digits, '_' and '-'"
        return None
    if not _SNS_TOPIC_NAME.match(value):
        return "must be an SNS topic ARN or a topic name of 1 to 256 letters, digits, '_' and '-'"
    return None


def validate_trail_names(names: list[str]) -> None:
    """For ``trail_info``: each entry a trail name or a trail ARN."""
    for entry in names:
        try:
            validate_params({"name": entry, "state": "absent"})
        except TrailParameterError as e:
            raise TrailParameterError("trail_names" + str(e)[len("name"):]) from None


def validate_params(params: dict[str, Any]) -> None:
    """Raise ``TrailParameterError`` for the first parameter that breaks a
    rule CloudTrail would enforce; called before any API call."""
    try:
        reference = parse_trail_reference(params["name"], "name")
    except TrailReferenceError as e:
        raise TrailParameterError(str(e)) from None
    account_id = params.get("account_id")
    if account_id is not None and not _ACCOUNT_ID.fullmatch(account_id):
        raise TrailParameterError(f"account_id: an AWS account id is 12 digits (got {account_id!r})")
    problem = foreign_trail_error(reference, "name", account_id, None)
    if problem:
        raise TrailParameterError(problem)

    if params["state"] == "absent":
        return

    bucket = params.get("s3_bucket_name")
    if bucket is not None and not _BUCKET_NAME.match(bucket):
        raise TrailParameterError(
            f"s3_bucket_name: '{bucket}' is not a valid bucket name: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"
        )
    prefix = params.get("s3_key_prefix")
    if prefix and len(prefix) > S3_PREFIX_MAX:
        raise TrailParameterError(f"s3_key_prefix: must be at most {S3_PREFIX_MAX} characters long, not {len(prefix)}")

    checks = (
        ("kms_key_id", kms_key_error),
        ("sns_topic_name", sns_topic_error),
        ("cloudwatch_logs_log_group_arn", lambda v: _arn_error(v, "logs", "log-group", "a CloudWatch Logs log group")),
        ("cloudwatch_logs_role_arn", lambda v: _arn_error(v, "iam", "role", "an IAM role")),
    )
    for option, check in checks:
        value = params.get(option)
        if value:
            problem = check(value)
            if problem:
                raise TrailParameterError(f"{option}: '{value}' {problem}")

    group, role = params.get("cloudwatch_logs_log_group_arn"), params.get("cloudwatch_logs_role_arn")
    if (group is None) != (role is None) or (group == "") != (role == ""):
        raise TrailParameterError(
            "cloudwatch_logs_log_group_arn and cloudwatch_logs_role_arn go together:"
            " give both to deliver to CloudWatch Logs, both as '' to stop, or neither to leave delivery as it is"
        )

    if params.get("is_multi_region_trail") and params.get("include_global_service_events") is False:
        raise TrailParameterError("include_global_service_events: a multi-region trail (is_multi_region_trail=true) must include global service events")

    tags = params.get("tags") or {}
    if len(tags) > TAGS_MAX:
        raise TrailParameterError(f"tags: a trail takes at most {TAGS_MAX} tags, not {len(tags)}")
    for key, value in tags.items():
        if not 1 <= len(key) <= TAG_KEY_MAX:
            raise TrailParameterError(f"tags: key '{key}' must be 1 to {TAG_KEY_MAX} characters long")
        if value is not None and len(str(value)) > TAG_VALUE_MAX:
            raise TrailParameterError(f"tags: the value of '{key}' must be at most {TAG_VALUE_MAX} characters long")


def trail_name(name_or_arn: str) -> str:
    return parse_trail_reference(name_or_arn, "name").name


# ---------------------------------------------------------------------------
# Normalization: both sides become the same snake_case dict
# ---------------------------------------------------------------------------


def trail_arn(partition: str, region: str, account: str, name: str) -> str:
    return f"arn:{partition}:cloudtrail:{region}:{account}:trail/{name}"


def sns_topic_arn(topic: str, trail_arn_: str) -> str:
    """A topic named without its ARN lives in the trail's home region and account."""
    if topic.startswith("arn:"):
        return topic
    details = parse_aws_arn(trail_arn_)
    return f"arn:{details['partition']}:sns:{details['region']}:{details['account_id']}:{topic}"


def normalize_trail(trail: dict[str, Any], status: Optional[dict[str, Any]], tags: Optional[dict[str, str]]) -> dict[str, Any]:
    """The trail as GetTrail, GetTrailStatus and ListTags describe it, in snake_case;
    an unset optional setting is ``None`` whatever way CloudTrail leaves it out."""
    topic_arn = trail.get("SnsTopicARN") or None
    return {
        "name": trail["Name"],
        "trail_arn": trail["TrailARN"],
        "home_region": home_region_of(trail),
        "s3_bucket_name": trail.get("S3BucketName"),
        "s3_key_prefix": trail.get("S3KeyPrefix") or None,
        "sns_topic_name": topic_arn.split(":")[-1] if topic_arn else None,
        "sns_topic_arn": topic_arn,
        "kms_key_id": trail.get("KmsKeyId") or None,
        "cloud_watch_logs_log_group_arn": trail.get("CloudWatchLogsLogGroupArn") or None,
        "cloud_watch_logs_role_arn": trail.get("CloudWatchLogsRoleArn") or None,
        "include_global_service_events": bool(trail.get("IncludeGlobalServiceEvents")),
        "is_multi_region_trail": bool(trail.get("IsMultiRegionTrail")),
        "is_organization_trail": bool(trail.get("IsOrganizationTrail")),
        "log_file_validation_enabled": bool(trail.get("LogFileValidationEnabled")),
        "has_custom_event_selectors": bool(trail.get("HasCustomEventSelectors")),
        "has_insight_selectors": bool(trail.get("HasInsightSelectors")),
        "is_logging": bool((status or {}).get("IsLogging")),
        "tags": dict(tags or {}),
    }


def desired_settings(params: dict[str, Any], kms_key_arn: Optional[str], trail_arn_: Optional[str]) -> dict[str, Any]:
    """The settings the user asked for, keyed like the normalized trail; an
    omitted option is absent (left as it is), ``""`` is ``None`` (cleared).

    ``kms_key_arn`` is ``kms_key_id`` resolved to its key ARN. ``trail_arn_``
    places an SNS topic given by name; without it (a new trail outside check
    mode) the topic is kept as given, CloudTrail resolves it.
    """
    desired: dict[str, Any] = {}
    for option, key, _api in SETTINGS:
        value = params.get(option)
        if value is None:
            continue
        if option in CLEARABLE and value == "":
            desired[key] = None
        elif option == "s3_key_prefix":
            # A trailing slash would give object keys with '//' in them.
            desired[key] = value.rstrip("/") or None
        elif option == "kms_key_id":
            desired[key] = kms_key_arn
        elif option == "sns_topic_name":
            desired[key] = sns_topic_arn(value, trail_arn_) if trail_arn_ else value
        else:
            desired[key] = value
    if params.get("enable_logging") is not None:
        desired["is_logging"] = params["enable_logging"]
    return desired


def desired_tags(current: dict[str, str], tags: Optional[dict[str, Any]], purge_tags: bool) -> dict[str, str]:
    if tags is None:
        return dict(current)
    to_set, to_unset = compare_aws_tags(current, tags, purge_tags=purge_tags)
    after = {key: value for key, value in current.items() if key not in to_unset}
    after.update({key: str(value) for key, value in to_set.items()})
    return after


def predict_after(
    before: Optional[dict[str, Any]],
    desired: dict[str, Any],
    tags: Optional[dict[str, Any]],
    purge_tags: bool,
    new_trail: Optional[dict[str, Any]] = None,
) -> dict[str, Any]:
    """The normalized trail once the plan has run.

    ``new_trail`` gives ``name``, ``trail_arn`` and ``home_region`` for a trail
    that does not exist yet (``before`` is ``None``).
    """
    if before is None:
        after = dict(NEW_TRAIL_DEFAULTS, **(new_trail or {}))
        after["tags"] = {}
    else:
        after = dict(before)
    after.update(desired)
    after["sns_topic_name"] = after["sns_topic_arn"].split(":")[-1] if after.get("sns_topic_arn") else None
    after["tags"] = desired_tags(after["tags"], tags, purge_tags)
    return after


# ---------------------------------------------------------------------------
# Planning: the difference as CloudTrail calls
# ---------------------------------------------------------------------------


def create_trail_params(name: str, params: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """CreateTrail's parameters: the options as the user gave them (CloudTrail
    resolves aliases and topic names itself), booleans from the predicted trail."""
    request: dict[str, Any] = {"Name": name}
    for option, key, api in SETTINGS:
        if option in CLEARABLE:
            value = params.get(option)
            if value:
                request[api] = value.rstrip("/") if option == "s3_key_prefix" else value
        elif option == "s3_bucket_name":
            request[api] = params[option]
        else:
            request[api] = after[key]
    if after["tags"]:
        request["TagsList"] = ansible_dict_to_boto3_tag_list(after["tags"])
    return request


def update_trail_params(before: dict[str, Any], after: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """UpdateTrail's parameters for the settings that differ; ``{}`` when none.

    A cleared setting is sent as ``""``. The CloudWatch Logs pair is always
    sent together, as CloudTrail wants both or neither.
    """
    request: dict[str, Any] = {}
    for option, key, api in SETTINGS:
        if before[key] == after[key]:
            continue
        if after[key] is None:
            request[api] = ""
        elif option == "kms_key_id":
            request[api] = after[key]
        elif option == "sns_topic_name":
            request[api] = params[option]
        else:
            request[api] = after[key]
    pair = ("CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn")
    if any(api in request for api in pair):
        request[pair[0]] = after["cloud_watch_logs_log_group_arn"] or ""
        request[pair[1]] = after["cloud_watch_logs_role_arn"] or ""
    if request:
        request["Name"] = before["trail_arn"]
    return request


def tag_changes(before: dict[str, str], after: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(tags to add or change, tags to remove with their current values)."""
    to_add = {key: value for key, value in after.items() if before.get(key) != value}
    to_remove = {key: value for key, value in before.items() if key not in after}
    return to_add, to_remove


def logging_change(before: Optional[dict[str, Any]], after: dict[str, Any]) -> Optional[str]:
    """``"start"``, ``"stop"`` or ``None``. A new trail does not log until started."""
    was_logging = bool(before and before["is_logging"])
    if after["is_logging"] and not was_logging:
        return "start"
    if not after["is_logging"] and was_logging:
        return "stop"
    return None


def kms_key_needs_lookup(kms_key_id: Optional[str], before: Optional[dict[str, Any]]) -> bool:
    """Whether ``kms_key_id`` must be resolved with DescribeKey: any alias or key
    id, and a key ARN only when it would change (to check that it exists)."""
    if not kms_key_id:
        return False
    if is_kms_key_arn(kms_key_id):
        return before is None or before["kms_key_id"] != kms_key_id
    return True


def explain_error(error: AnsibleAWSError) -> Optional[str]:
    """The option to blame and why, when CloudTrail refused a setting."""
    exception = getattr(error, "exception", None)
    if not isinstance(exception, ClientError):
        return None
    code = exception.response.get("Error", {}).get("Code", "")
    if code not in _ERROR_OPTIONS:
        return None
    option, rule = _ERROR_OPTIONS[code]
    detail = exception.response.get("Error", {}).get("Message", "")
    return f"{option}: {rule} ({code}: {detail})"


# ---------------------------------------------------------------------------
# AWS calls
# ---------------------------------------------------------------------------


class KMSErrorHandler(AWSErrorHandler):
    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("NotFoundException")


@KMSErrorHandler.list_error_handler("describe KMS key")
def describe_key(kms_client, key_id: str) -> Optional[dict[str, Any]]:
    return kms_client.describe_key(aws_retry=True, KeyId=key_id)["KeyMetadata"]


@AWSErrorHandler.common_error_handler("check the S3 bucket")
def bucket_exists(s3_client, bucket: str) -> Optional[bool]:
    """``False`` when S3 says the bucket does not exist, ``None`` when S3 will
    not say (a bucket of another account answers 403: CloudTrail decides)."""
    try:
        s3_client.head_bucket(aws_retry=True, Bucket=bucket)
    except is_boto3_error_code(["404", "NoSuchBucket"]):
        return False
    except ClientError:  # pylint: disable=duplicate-except
        return None
    return True


@CloudTrailErrorHandler.common_error_handler("create trail")
def create_trail(client, request: dict[str, Any]) -> dict[str, Any]:
    return client.create_trail(aws_retry=True, **request)


@CloudTrailErrorHandler.common_error_handler("update trail")
def update_trail(client, request: dict[str, Any]) -> dict[str, Any]:
    return client.update_trail(aws_retry=True, **request)


@CloudTrailErrorHandler.deletion_error_handler("delete trail")
def delete_trail(home_client, name: str) -> bool:
    """Delete through the home region's client, where a trail's name is unique."""
    home_client.delete_trail(aws_retry=True, Name=name)
    return True


@CloudTrailErrorHandler.common_error_handler("start logging")
def start_logging(client, arn: str) -> None:
    client.start_logging(aws_retry=True, Name=arn)


@CloudTrailErrorHandler.common_error_handler("stop logging")
def stop_logging(client, arn: str) -> None:
    client.stop_logging(aws_retry=True, Name=arn)


@CloudTrailErrorHandler.common_error_handler("add tags")
def add_tags(client, arn: str, tags: dict[str, str]) -> None:
    client.add_tags(aws_retry=True, ResourceId=arn, TagsList=ansible_dict_to_boto3_tag_list(tags))


@CloudTrailErrorHandler.common_error_handler("remove tags")
def remove_tags(client, arn: str, tags: dict[str, str]) -> None:
    client.remove_tags(aws_retry=True, ResourceId=arn, TagsList=ansible_dict_to_boto3_tag_list(tags))


# ---------------------------------------------------------------------------
# The life cycle, as the module runs it
# ---------------------------------------------------------------------------


def _aws_client(module, service: str, region: Optional[str] = None):
    extra = {"region": region} if region else {}
    return module.client(service, retry_decorator=transient_retry(), **extra)


def read_trail(client, name_or_arn: str, home_client_for) -> Optional[dict[str, Any]]:
    """The normalized trail, or ``None``: GetTrail where we are (it finds a
    multi-region trail from any region), then its status and tags from its
    home region. Three CloudTrail calls."""
    trail = get_trail(client, name_or_arn)
    if trail is None:
        return None
    home = home_client_for(trail)
    arn = trail["TrailARN"]
    status = get_trail_status(home, arn)
    tags = list_tags(home, [arn]).get(arn, {})
    return normalize_trail(trail, status, tags)


def _resolve_kms_key(module, kms_key_id: Optional[str], before: Optional[dict[str, Any]], region: str) -> Optional[str]:
    if not kms_key_id:
        return None
    if not kms_key_needs_lookup(kms_key_id, before):
        return kms_key_id
    key = describe_key(_aws_client(module, "kms", region), kms_key_id)
    if key is None:
        raise TrailParameterError(f"kms_key_id: the KMS key '{kms_key_id}' does not exist in {region}")
    return key["Arn"]


def _new_trail_identity(module, params: dict[str, Any], name: str, region: str, bucket: str) -> dict[str, Any]:
    identity: dict[str, Any] = {"name": name, "trail_arn": None, "home_region": region, "s3_bucket_name": bucket}
    reference = parse_trail_reference(params["name"], "name")
    # CreateTrail makes the trail in the caller's account whatever account an
    # ARN or account_id names, so before creating one for either, the caller
    # is read. In check mode it is read anyway: the only way to predict a
    # truthful ARN without creating the trail.
    if module.check_mode or reference.arn or params.get("account_id"):
        caller = read_caller(_aws_client(module, "sts", region))
        problem = foreign_trail_error(reference, "name", caller["account"], caller["partition"]) or caller_account_error(
            params.get("account_id"), caller["account"]
        )
        if problem:
            raise TrailParameterError(problem)
        identity["trail_arn"] = trail_arn(caller["partition"], region, caller["account"], name)
    return identity


def _existing_trail_account_error(params: dict[str, Any], before: dict[str, Any]) -> Optional[str]:
    """The trail found is in another account than the task is meant for: its
    ARN tells, so this check costs no call."""
    account_id = params.get("account_id")
    found = parse_aws_arn(before["trail_arn"])["account_id"]
    if account_id and found != account_id:
        return (
            f"account_id: the task is meant for account {account_id}, but the trail {before['trail_arn']} it found is in account {found}:"
            " nothing was written (check the credentials the task gets)"
        )
    return None


def ensure_trail(module, params: dict[str, Any]) -> tuple[bool, dict[str, Any], dict[str, Any]]:
    """Bring the trail to ``params``; return ``(changed, before, after)`` with
    ``{}`` for a trail that does not exist. In check mode ``after`` is the
    prediction and no write call is made."""
    region = module.region
    client = client_for_region(module, region)

    def home_client_for(trail):
        return home_region_client(module, client, region, trail)

    before = read_trail(client, params["name"], home_client_for)
    write_client = home_client_for({"HomeRegion": before["home_region"]}) if before else client
    problem = _existing_trail_account_error(params, before) if before else None
    if problem:
        raise TrailParameterError(problem)

    if params["state"] == "absent":
        if before is None:
            return False, {}, {}
        if not module.check_mode:
            delete_trail(write_client, before["name"])
        return True, before, {}

    name = trail_name(params["name"])
    if before is None and params["name"].startswith("arn:") and parse_aws_arn(params["name"])["region"] != region:
        raise TrailParameterError(
            f"name: the trail ARN '{params['name']}' names another region than {region}, where the trail would be created"
        )
    if before is None and not params.get("s3_bucket_name"):
        raise TrailParameterError(f"s3_bucket_name: required to create the trail '{name}', which does not exist in {region}")

    home = before["home_region"] if before else region
    kms_key_arn = _resolve_kms_key(module, params.get("kms_key_id"), before, home)
    bucket = params.get("s3_bucket_name")
    if bucket and (before is None or before["s3_bucket_name"] != bucket):
        if bucket_exists(_aws_client(module, "s3", home), bucket) is False:
            raise TrailParameterError(f"s3_bucket_name: the bucket '{bucket}' does not exist")

    new_trail = None if before else _new_trail_identity(module, params, name, region, bucket)
    arn = before["trail_arn"] if before else new_trail["trail_arn"]
    desired = desired_settings(params, kms_key_arn, arn)
    after = predict_after(before, desired, params.get("tags"), params["purge_tags"], new_trail)
    if after["is_multi_region_trail"] and not after["include_global_service_events"]:
        raise TrailParameterError("include_global_service_events: a multi-region trail must include global service events")

    changed = before != after
    if module.check_mode or not changed:
        return changed, before or {}, after

    if before is None:
        created = create_trail(client, create_trail_params(name, params, after))
        arn = created["TrailARN"]
    else:
        request = update_trail_params(before, after, params)
        if request:
            update_trail(write_client, request)
        to_add, to_remove = tag_changes(before["tags"], after["tags"])
        if to_remove:
            remove_tags(write_client, arn, to_remove)
        if to_add:
            add_tags(write_client, arn, to_add)
    action = logging_change(before, after)
    if action == "start":
        start_logging(write_client, arn)
    elif action == "stop":
        stop_logging(write_client, arn)

    return True, before or {}, read_trail(client, arn, home_client_for) or {}


def _iso_time(value: Any) -> Optional[str]:
    if not value:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def delivery_status(status: Optional[dict[str, Any]]) -> dict[str, Any]:
    """What GetTrailStatus says of log file delivery; kept apart from
    ``normalize_trail`` because it changes by itself and must never count as drift."""
    status = status or {}
    return {
        "latest_delivery_time": _iso_time(status.get("LatestDeliveryTime")),
        "latest_delivery_error": status.get("LatestDeliveryError") or None,
        "latest_notification_error": status.get("LatestNotificationError") or None,
        "latest_cloudwatch_logs_delivery_error": status.get("LatestCloudWatchLogsDeliveryError") or None,
        "start_logging_time": _iso_time(status.get("StartLoggingTime")),
        "stop_logging_time": _iso_time(status.get("StopLoggingTime")),
    }


def describe_trail_details(module, names: Optional[list[str]], include_shadow_trails: bool) -> list[dict[str, Any]]:
    """Every trail DescribeTrails shows in the module's region (or the named
    ones), each normalized like ``trail`` returns it, with its event selectors,
    insight selectors, status and tags read through its home region."""
    region = module.region
    clients = {region: client_for_region(module, region)}

    def home_client(home: str):
        if home not in clients:
            clients[home] = client_for_region(module, home)
        return clients[home]

    trails = describe_trails(clients[region], names or None, include_shadow_trails)
    arns_by_home: dict[str, list[str]] = {}
    for trail in trails:
        arns_by_home.setdefault(home_region_of(trail), []).append(trail["TrailARN"])
    tags: dict[str, dict[str, str]] = {}
    for home, arns in arns_by_home.items():
        tags.update(list_tags(home_client(home), arns))

    details = []
    for trail in trails:
        client = home_client(home_region_of(trail))
        arn = trail["TrailARN"]
        status = get_trail_status(client, arn)
        entry = normalize_trail(trail, status, tags.get(arn, {}))
        entry.update(delivery_status(status))
        entry.update(selection_from_api(get_event_selectors(client, arn) or {}))
        entry["insight_selectors"] = insights_from_api(get_insight_selectors(client, arn))
        details.append(entry)
    return details
