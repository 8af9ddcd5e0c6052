# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One trail's life cycle, for the ``trail`` module.

The pure part: validate the parameters, normalize the trail CloudTrail returns
and the trail the user asks for into the same snake_case dict, and turn the
difference into the CloudTrail calls that close it. Each trail setting is one
``TrailSetting`` row of ``SETTINGS`` (option, API names, check, normalizers,
default, how each request sends it, the errors that blame it); every one of
those steps walks the rows. The rest: one wrapper per write call, plus the KMS
and S3 reads that resolve and check what the user named before anything is
written. What ``trail_info`` reads is in ``trail_info.py``.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from typing import Callable
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
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import get_trail
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import get_trail_status
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import home_region_client
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import home_region_of
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import list_tags
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import caller_account_error
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import foreign_trail_error
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import parse_trail_reference
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import read_caller
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import trail_arn
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import check_account_id
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import s3_key_prefix_rule
from ansible_collections.trailops.cloudtrail.plugins.module_utils.retries import transient_retry

try:
    from botocore.exceptions import ClientError
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

TAGS_MAX = 50
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SNS_TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_KMS_KEY_ID = re.compile(r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})$")
_KMS_ALIAS_NAME = re.compile(r"^alias/[A-Za-z0-9/_-]{1,250}$")

# CloudTrail's error codes that blame the trail's name rather than a setting
# (those are in each setting's row).
_NAME_ERRORS: tuple[tuple[str, str], ...] = (
    ("TrailAlreadyExistsException", "a trail with this name already exists"),
    ("InvalidTrailNameException", "not a valid trail name"),
)


# ---------------------------------------------------------------------------
# What one setting's row uses: checks (no API call) and normalizers
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


def _quoting(check: Callable[[str], Optional[str]]) -> Callable[[str], Optional[str]]:
    """A check whose message follows the value it refused."""

    def quoted(value: str) -> Optional[str]:
        problem = check(value)
        return f"'{value}' {problem}" if problem else None

    return quoted


def _bucket_name_error(value: str) -> Optional[str]:
    if _BUCKET_NAME.match(value):
        return None
    return f"'{value}' is not a valid bucket name: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"


def sns_topic_arn(topic: str, trail_arn_: str) -> str:
    """A topic named without its ARN lives in the trail's home region and account."""
    if topic.startswith("arn:"):
        return topic
    details = parse_aws_arn(trail_arn_)
    return f"arn:{details['partition']}:sns:{details['region']}:{details['account_id']}:{topic}"


@dataclasses.dataclass(frozen=True)
class Resolved:
    """What the plan knows beyond the options: the key ARN ``kms_key_id``
    resolves to, and the trail's ARN (``None`` for a trail not created yet,
    outside check mode)."""

    kms_key_arn: Optional[str]
    trail_arn: Optional[str]


def _unset_as_none(value: Any) -> Any:
    # CloudTrail leaves an unset setting out, or answers "" after a clear.
    return value or None


def _as_given(value: Any, resolved: Resolved) -> Any:  # pylint: disable=unused-argument
    return value


def _prefix_without_trailing_slash(value: str, resolved: Resolved) -> Optional[str]:  # pylint: disable=unused-argument
    # A trailing slash would give object keys with '//' in them.
    return value.rstrip("/") or None


def _resolved_kms_key(value: str, resolved: Resolved) -> Optional[str]:  # pylint: disable=unused-argument
    return resolved.kms_key_arn


def _topic_arn(value: str, resolved: Resolved) -> str:
    # Without the trail's ARN the topic's account and region are unknown: kept
    # as given, CloudTrail resolves it.
    return sns_topic_arn(value, resolved.trail_arn) if resolved.trail_arn else value


def _topic_name(arn: str) -> str:
    return arn.split(":")[-1]


CREATE = "CreateTrail"
UPDATE = "UpdateTrail"


@dataclasses.dataclass(frozen=True)
class TrailSetting:
    """One trail setting: how the user gives it, how CloudTrail returns it
    and takes it, and how both become the normalized trail. Every function
    below walks these rows, so a new setting is a new row (plus its docs).

    - ``option``: the module option; ``key``: its key in the normalized trail;
      ``api``: the CreateTrail/UpdateTrail parameter; ``field``: the member of
      GetTrail's answer.
    - ``new_trail_default``: what a new trail gets when the option is omitted
      (CloudTrail's CreateTrail default).
    - ``clearable``: ``""`` clears the setting (``None`` in the normalized
      trail, ``""`` to UpdateTrail).
    - ``check``: the rule a given value breaks, as the message after
      ``"<option>: "``; run before any API call.
    - ``normalize``: GetTrail's value as the normalized trail holds it;
      ``desire``: the option's value (set, not cleared) likewise.
    - ``given_in``: the calls that get the option as the user gave it rather
      than normalized, because CloudTrail resolves it itself there.
    - ``sent_with``: the key of a setting UpdateTrail must get together with
      this one whenever either changes.
    - ``shown_as``: a second key of the normalized trail derived from this one.
    - ``errors``: CloudTrail's error codes that blame this option, with the rule.
    """

    option: str
    key: str
    api: str
    field: str
    new_trail_default: Any = None
    clearable: bool = False
    check: Optional[Callable[[str], Optional[str]]] = None
    normalize: Callable[[Any], Any] = _unset_as_none
    desire: Callable[[Any, Resolved], Any] = _as_given
    given_in: frozenset[str] = frozenset()
    sent_with: Optional[str] = None
    shown_as: Optional[tuple[str, Callable[[Any], Any]]] = None
    errors: tuple[tuple[str, str], ...] = ()

    def normalized(self, value: Any) -> dict[str, Any]:
        """This setting's keys of the normalized trail, for ``value``."""
        entry = {self.key: value}
        if self.shown_as:
            shown_key, derive = self.shown_as
            entry[shown_key] = derive(value) if value is not None else None
        return entry


SETTINGS: tuple[TrailSetting, ...] = (
    TrailSetting(
        "s3_bucket_name",
        "s3_bucket_name",
        "S3BucketName",
        "S3BucketName",
        check=_bucket_name_error,
        errors=(
            ("S3BucketDoesNotExistException", "the bucket does not exist"),
            ("InsufficientS3BucketPolicyException", "the bucket policy does not let CloudTrail write to the bucket"),
            ("InvalidS3BucketNameException", "not a valid bucket name"),
        ),
    ),
    TrailSetting(
        "s3_key_prefix",
        "s3_key_prefix",
        "S3KeyPrefix",
        "S3KeyPrefix",
        clearable=True,
        check=s3_key_prefix_rule,
        desire=_prefix_without_trailing_slash,
        errors=(("InvalidS3PrefixException", "not a valid key prefix"),),
    ),
    TrailSetting(
        "kms_key_id",
        "kms_key_id",
        "KmsKeyId",
        "KmsKeyId",
        clearable=True,
        check=_quoting(kms_key_error),
        desire=_resolved_kms_key,
        # The normalized trail holds the key ARN (what GetTrail returns, and
        # the only form that compares); CreateTrail resolves an alias itself.
        given_in=frozenset({CREATE}),
        errors=(
            ("KmsKeyNotFoundException", "the KMS key does not exist in the trail's region"),
            ("InvalidKmsKeyIdException", "not a usable KMS key"),
            ("KmsKeyDisabledException", "the KMS key is disabled"),
            ("InsufficientEncryptionPolicyException", "the key policy does not let CloudTrail use the KMS key"),
            ("KmsException", "KMS refused the key"),
        ),
    ),
    TrailSetting(
        "sns_topic_name",
        "sns_topic_arn",
        "SnsTopicName",
        "SnsTopicARN",
        clearable=True,
        check=_quoting(sns_topic_error),
        desire=_topic_arn,
        # CloudTrail takes a topic name or ARN and places a name in the
        # trail's account and region itself.
        given_in=frozenset({CREATE, UPDATE}),
        shown_as=("sns_topic_name", _topic_name),
        errors=(
            ("InsufficientSnsTopicPolicyException", "the topic does not exist or its policy does not let CloudTrail publish"),
            ("InvalidSnsTopicNameException", "not a valid SNS topic"),
        ),
    ),
    TrailSetting(
        "cloudwatch_logs_log_group_arn",
        "cloud_watch_logs_log_group_arn",
        "CloudWatchLogsLogGroupArn",
        "CloudWatchLogsLogGroupArn",
        clearable=True,
        check=_quoting(lambda value: _arn_error(value, "logs", "log-group", "a CloudWatch Logs log group")),
        # CloudTrail wants the log group and the role together, or neither.
        sent_with="cloud_watch_logs_role_arn",
        errors=(
            ("InvalidCloudWatchLogsLogGroupArnException", "not a usable log group"),
            ("CloudWatchLogsDeliveryUnavailableException", "CloudTrail cannot deliver to the log group"),
        ),
    ),
    TrailSetting(
        "cloudwatch_logs_role_arn",
        "cloud_watch_logs_role_arn",
        "CloudWatchLogsRoleArn",
        "CloudWatchLogsRoleArn",
        clearable=True,
        check=_quoting(lambda value: _arn_error(value, "iam", "role", "an IAM role")),
        sent_with="cloud_watch_logs_log_group_arn",
        errors=(("InvalidCloudWatchLogsRoleArnException", "not a role CloudTrail can use"),),
    ),
    TrailSetting(
        "include_global_service_events",
        "include_global_service_events",
        "IncludeGlobalServiceEvents",
        "IncludeGlobalServiceEvents",
        new_trail_default=True,
        normalize=bool,
    ),
    TrailSetting("is_multi_region_trail", "is_multi_region_trail", "IsMultiRegionTrail", "IsMultiRegionTrail", new_trail_default=False, normalize=bool),
    TrailSetting("is_organization_trail", "is_organization_trail", "IsOrganizationTrail", "IsOrganizationTrail", new_trail_default=False, normalize=bool),
    TrailSetting(
        "enable_log_file_validation",
        "log_file_validation_enabled",
        "EnableLogFileValidation",
        "LogFileValidationEnabled",
        new_trail_default=False,
        normalize=bool,
    ),
)


def new_trail_defaults() -> dict[str, Any]:
    """What a new trail gets for an omitted option: CloudTrail's own CreateTrail
    defaults, except logging, which CreateTrail leaves off but a trail exists
    to do (amazon.aws.cloudtrail and the console turn it on too)."""
    defaults: dict[str, Any] = {}
    for setting in SETTINGS:
        defaults.update(setting.normalized(setting.new_trail_default))
    defaults.update(has_custom_event_selectors=False, has_insight_selectors=False, is_logging=True, tags={})
    return defaults


# ---------------------------------------------------------------------------
# Validation (no API call)
# ---------------------------------------------------------------------------


def validate_params(params: dict[str, Any]) -> None:
    """Raise ``ParameterError`` for the first parameter that breaks a
    rule CloudTrail would enforce; called before any API call."""
    reference = parse_trail_reference(params["name"], "name")
    account_id = params.get("account_id")
    if account_id is not None:
        check_account_id(account_id)
    problem = foreign_trail_error(reference, "name", account_id, None)
    if problem:
        raise ParameterError.of([problem])

    if params["state"] == "absent":
        return

    for setting in SETTINGS:
        value = params.get(setting.option)
        if value is None or setting.check is None or (setting.clearable and value == ""):
            continue
        problem = setting.check(value)
        if problem:
            raise ParameterError(setting.option, problem)

    group, role = params.get("cloudwatch_logs_log_group_arn"), params.get("cloudwatch_logs_role_arn")
    if (group is None) != (role is None) or (group == "") != (role == ""):
        raise ParameterError(
            "cloudwatch_logs_log_group_arn and cloudwatch_logs_role_arn",
            "they go together:"
            " give both to deliver to CloudWatch Logs, both as '' to stop, or neither to leave delivery as it is"
        )

    if params.get("is_multi_region_trail") and params.get("include_global_service_events") is False:
        raise ParameterError("include_global_service_events", "a multi-region trail (is_multi_region_trail=true) must include global service events")

    tags = params.get("tags") or {}
    if len(tags) > TAGS_MAX:
        raise ParameterError("tags", f"a trail takes at most {TAGS_MAX} tags, not {len(tags)}")
    for key, value in tags.items():
        if not 1 <= len(key) <= TAG_KEY_MAX:
            raise ParameterError("tags", f"key '{key}' must be 1 to {TAG_KEY_MAX} characters long")
        if value is not None and len(str(value)) > TAG_VALUE_MAX:
            raise ParameterError("tags", f"the value of '{key}' must be at most {TAG_VALUE_MAX} characters long")


def trail_name(name_or_arn: str) -> str:
    return parse_trail_reference(name_or_arn, "name").name


# ---------------------------------------------------------------------------
# Normalization: both sides become the same snake_case dict
# ---------------------------------------------------------------------------


def normalize_trail(trail: dict[str, Any], status: Optional[dict[str, Any]], tags: Optional[dict[str, str]]) -> dict[str, Any]:
    """The trail as GetTrail, GetTrailStatus and ListTags describe it, in snake_case;
    an unset optional setting is ``None`` whatever way CloudTrail leaves it out."""
    normalized: dict[str, Any] = {"name": trail["Name"], "trail_arn": trail["TrailARN"], "home_region": home_region_of(trail)}
    for setting in SETTINGS:
        normalized.update(setting.normalized(setting.normalize(trail.get(setting.field))))
    normalized.update(
        has_custom_event_selectors=bool(trail.get("HasCustomEventSelectors")),
        has_insight_selectors=bool(trail.get("HasInsightSelectors")),
        is_logging=bool((status or {}).get("IsLogging")),
        tags=dict(tags or {}),
    )
    return normalized


def desired_settings(params: dict[str, Any], kms_key_arn: Optional[str], trail_arn_: Optional[str]) -> dict[str, Any]:
    """The settings the user asked for, keyed like the normalized trail; an
    omitted option is absent (left as it is), ``""`` is ``None`` (cleared).

    ``kms_key_arn`` is ``kms_key_id`` resolved to its key ARN. ``trail_arn_``
    places an SNS topic given by name; without it (a new trail outside check
    mode) the topic is kept as given, CloudTrail resolves it.
    """
    resolved = Resolved(kms_key_arn, trail_arn_)
    desired: dict[str, Any] = {}
    for setting in SETTINGS:
        value = params.get(setting.option)
        if value is None:
            continue
        desired[setting.key] = None if setting.clearable and value == "" else setting.desire(value, resolved)
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
        after = dict(new_trail_defaults(), **(new_trail or {}))
        after["tags"] = {}
    else:
        after = dict(before)
    after.update(desired)
    for setting in SETTINGS:
        after.update(setting.normalized(after.get(setting.key)))
    after["tags"] = desired_tags(after["tags"], tags, purge_tags)
    return after


# ---------------------------------------------------------------------------
# Planning: the difference as CloudTrail calls
# ---------------------------------------------------------------------------


def _request_value(setting: TrailSetting, call: str, after: dict[str, Any], params: dict[str, Any]) -> Any:
    """The value ``call`` gets for ``setting``: the normalized one, or the
    option as given where the row says CloudTrail resolves it itself. The raw
    ``params`` are read only for such rows."""
    given = params.get(setting.option) if call in setting.given_in else None
    return after[setting.key] if given is None else given


def create_trail_params(name: str, params: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """CreateTrail's parameters: every setting the predicted trail has (an
    unset one is left out), as each row says to send it."""
    request: dict[str, Any] = {"Name": name}
    for setting in SETTINGS:
        value = _request_value(setting, CREATE, after, params)
        if value is not None and value != "":
            request[setting.api] = value
    if after["tags"]:
        request["TagsList"] = ansible_dict_to_boto3_tag_list(after["tags"])
    return request


def update_trail_params(before: dict[str, Any], after: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """UpdateTrail's parameters for the settings that differ; ``{}`` when none.

    A cleared setting is sent as ``""``; a setting ``sent_with`` another is
    sent whenever either changes.
    """
    by_key = {setting.key: setting for setting in SETTINGS}
    changed = [setting for setting in SETTINGS if before[setting.key] != after[setting.key]]
    changed += [by_key[setting.sent_with] for setting in changed if setting.sent_with and by_key[setting.sent_with] not in changed]
    request: dict[str, Any] = {}
    for setting in changed:
        value = _request_value(setting, UPDATE, after, params) if after[setting.key] is not None else None
        request[setting.api] = "" if value is None else value
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
    blamed = {error: ("name", rule) for error, rule in _NAME_ERRORS}
    blamed.update({error: (setting.option, rule) for setting in SETTINGS for error, rule in setting.errors})
    if code not in blamed:
        return None
    option, rule = blamed[code]
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


def resolve_kms_key(kms_client_for: Callable[[], Any], kms_key_id: Optional[str], before: Optional[dict[str, Any]], region: str) -> Optional[str]:
    """The ARN of the key ``kms_key_id`` names (GetTrail names keys by ARN, so
    an alias would differ on every run): DescribeKey only for an alias or key
    id, or for an ARN that would change (to check that it exists).
    ``kms_client_for()`` makes the client only when it is needed."""
    if not kms_key_id:
        return None
    if not kms_key_needs_lookup(kms_key_id, before):
        return kms_key_id
    key = describe_key(kms_client_for(), kms_key_id)
    if key is None:
        raise ParameterError("kms_key_id", f"the KMS key '{kms_key_id}' does not exist in {region}; nothing was written")
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
            raise ParameterError.of([problem])
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
        raise ParameterError.of([problem])

    if params["state"] == "absent":
        if before is None:
            return False, {}, {}
        if not module.check_mode:
            delete_trail(write_client, before["name"])
        return True, before, {}

    name = trail_name(params["name"])
    if before is None and params["name"].startswith("arn:") and parse_aws_arn(params["name"])["region"] != region:
        raise ParameterError(
            "name", f"the trail ARN '{params['name']}' names another region than {region}, where the trail would be created"
        )
    if before is None and not params.get("s3_bucket_name"):
        raise ParameterError("s3_bucket_name", f"required to create the trail '{name}', which does not exist in {region}")

    home = before["home_region"] if before else region
    kms_key_arn = resolve_kms_key(lambda: _aws_client(module, "kms", home), params.get("kms_key_id"), before, home)
    bucket = params.get("s3_bucket_name")
    if bucket and (before is None or before["s3_bucket_name"] != bucket):
        if bucket_exists(_aws_client(module, "s3", home), bucket) is False:
            raise ParameterError("s3_bucket_name", f"the bucket '{bucket}' does not exist")

    new_trail = None if before else _new_trail_identity(module, params, name, region, bucket)
    after = plan_present(before, params, kms_key_arn, new_trail)
    changed = before != after
    if module.check_mode or not changed:
        return changed, before or {}, after

    arn = apply_present(client, write_client, name, params, before, after)
    return True, before or {}, read_trail(client, arn, home_client_for) or {}


def plan_present(
    before: Optional[dict[str, Any]], params: dict[str, Any], kms_key_arn: Optional[str], new_trail: Optional[dict[str, Any]]
) -> dict[str, Any]:
    """The normalized trail once ``params`` are applied to ``before`` (pure).
    ``new_trail`` names a trail that does not exist yet (see predict_after)."""
    arn = before["trail_arn"] if before else new_trail["trail_arn"]
    desired = desired_settings(params, kms_key_arn, arn)
    after = predict_after(before, desired, params.get("tags"), params["purge_tags"], new_trail)
    if after["is_multi_region_trail"] and not after["include_global_service_events"]:
        raise ParameterError("include_global_service_events", "a multi-region trail must include global service events")
    return after


def present_steps(before: Optional[dict[str, Any]], after: dict[str, Any], params: dict[str, Any]) -> list[str]:
    """The CloudTrail write calls apply_present makes, in order (pure)."""
    if before is None:
        steps = ["CreateTrail"]
    else:
        steps = ["UpdateTrail"] if update_trail_params(before, after, params) else []
        to_add, to_remove = tag_changes(before["tags"], after["tags"])
        steps += ["RemoveTags"] if to_remove else []
        steps += ["AddTags"] if to_add else []
    action = logging_change(before, after)
    steps += {"start": ["StartLogging"], "stop": ["StopLogging"]}.get(action or "", [])
    return steps


def apply_present(client, write_client, name: str, params: dict[str, Any], before: Optional[dict[str, Any]], after: dict[str, Any]) -> str:
    """Make the writes that take ``before`` to ``after``; the trail's ARN."""
    if before is None:
        arn = create_trail(client, create_trail_params(name, params, after))["TrailARN"]
    else:
        arn = before["trail_arn"]
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
    return arn
