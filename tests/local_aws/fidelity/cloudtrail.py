"""CloudTrail fidelity patches for moto's CloudTrail backend.

moto 5.2.5 answers many CloudTrail calls differently from CloudTrail (see the
foundation issue). ``install()`` replaces a few methods of moto's ``Trail``,
``CloudTrailBackend`` and ``CloudTrailResponse`` so that they answer as the
CloudTrail API reference and user guide say; everything else stays moto's.
Errors are ``JsonRESTError``s with CloudTrail's error codes, so botocore
raises the real exception names. moto's server records every request before
dispatching it, so failed calls are counted like successful ones.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from typing import Any, Callable, Iterable

from moto.cloudtrail.exceptions import TrailNotFoundException
from moto.cloudtrail.models import CloudTrailBackend, Trail, cloudtrail_backends
from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.exceptions import JsonRESTError
from moto.utilities.utils import get_partition

from tests.local_aws.fidelity import delivery, hooks
from tests.local_aws.fidelity.policy_eval import policy_allows, request_context

MAX_TRAILS_PER_REGION = 5
MAX_TAGS = 50
MAX_S3_PREFIX = 200
MAX_BASIC_SELECTORS = 5
MAX_DATA_RESOURCES = 250
MAX_ADVANCED_VALUES = 500
DEFAULT_EVENT_SELECTOR: dict[str, Any] = {
    "ReadWriteType": "All",
    "IncludeManagementEvents": True,
    "DataResources": [],
    "ExcludeManagementEventSources": [],
}
READ_WRITE_TYPES = {"All": {"read", "write"}, "ReadOnly": {"read"}, "WriteOnly": {"write"}}
# basic selector data resource types, and the service their values (ARNs or ARN prefixes, no wildcards) must name
BASIC_DATA_RESOURCE_TYPES = {"AWS::S3::Object": "s3", "AWS::Lambda::Function": "lambda", "AWS::DynamoDB::Table": "dynamodb"}
EXCLUDABLE_MANAGEMENT_SOURCES = ("kms.amazonaws.com", "rdsdata.amazonaws.com")
ADVANCED_FIELDS = (
    "eventCategory",
    "eventSource",
    "eventName",
    "eventType",
    "readOnly",
    "resources.type",
    "resources.ARN",
    "errorCode",
    "sessionCredentialFromConsole",
    "userIdentity.arn",
    "vpcEndpointId",
)
ADVANCED_OPERATORS = ("Equals", "StartsWith", "EndsWith", "NotEquals", "NotStartsWith", "NotEndsWith")
INSIGHT_PREREQUISITES = {
    # the user guide: call-rate Insights need write management events, error-rate Insights read or write
    "ApiCallRateInsight": ({"write"}, "write management events"),
    "ApiErrorRateInsight": ({"read", "write"}, "read or write management events"),
}

_TRAIL_ARN = re.compile(r"^arn:(aws[a-z-]*):cloudtrail:([a-z0-9-]+):(\d{12}):trail/(.+)$")
_TRAIL_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|[._-](?=[A-Za-z0-9]))*$")
_LOG_GROUP_ARN = re.compile(r"^arn:aws[a-z-]*:logs:([a-z0-9-]+):(\d{12}):log-group:([^:]+)(?::\*)?$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")

_ORIGINAL: dict[str, Callable[..., Any]] = {}


class CloudTrailError(JsonRESTError):
    """An error with one of CloudTrail's error codes."""

    code = 400

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(error_type, message)


# -- trail names and lookup -----------------------------------------------


def check_trail_name(name: str) -> None:
    """CloudTrail's trail name rules (InvalidTrailNameException)."""
    if not 3 <= len(name) <= 128:
        raise CloudTrailError("InvalidTrailNameException", f"Trail name must be 3 to 128 characters long: {name}")
    if not _TRAIL_NAME.match(name):
        raise CloudTrailError(
            "InvalidTrailNameException",
            "Trail name can only contain letters, numbers, periods, underscores and dashes, must start and end"
            f" with a letter or number, and must not have adjacent periods, underscores or dashes: {name}",
        )
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return
    raise CloudTrailError("InvalidTrailNameException", f"Trail name must not be in IP address format: {name}")


def _other_backends(backend: CloudTrailBackend) -> list[CloudTrailBackend]:
    return [b for b in cloudtrail_backends[backend.account_id].values() if b is not backend]


def _trail_named(backend: CloudTrailBackend, name: str) -> Trail | None:
    """A name means this region's trail, or a multi-region trail's shadow in this region."""
    if name in backend.trails:
        return backend.trails[name]
    for other in _other_backends(backend):
        trail = other.trails.get(name)
        if trail is not None and trail.is_multi_region:
            return trail
    return None


def find_trail(backend: CloudTrailBackend, name_or_arn: str) -> Trail | None:
    """An ARN names a trail of any region; a name is looked up as ``_trail_named``."""
    if not name_or_arn.startswith("arn:"):
        check_trail_name(name_or_arn)
        return _trail_named(backend, name_or_arn)
    match = _TRAIL_ARN.match(name_or_arn)
    if not match:
        raise CloudTrailError("CloudTrailARNInvalidException", f"Invalid trail ARN: {name_or_arn}")
    home = cloudtrail_backends[match[3]].get(match[2])
    trail = home.trails.get(match[4]) if home is not None else None
    return trail if trail is not None and trail.arn == name_or_arn else None


def _home_backend(trail: Trail) -> CloudTrailBackend:
    return cloudtrail_backends[trail.account_id][trail.region_name]


def _home_trail(backend: CloudTrailBackend, name_or_arn: str) -> Trail:
    """Writes to a trail must be made in its home region (InvalidHomeRegionException)."""
    trail = backend.get_trail(name_or_arn)
    if trail.region_name != backend.region_name:
        raise CloudTrailError(
            "InvalidHomeRegionException",
            f"This operation must be called from the trail's home region, {trail.region_name}.",
        )
    return trail


def _tagged_trail(backend: CloudTrailBackend, resource_id: str) -> Trail:
    """Tag calls on a trail that does not exist fail with ResourceNotFoundException."""
    trail = find_trail(backend, resource_id)
    if trail is None:
        raise CloudTrailError("ResourceNotFoundException", f"Resource not found: {resource_id}")
    return trail


def _trails_in_region(backend: CloudTrailBackend) -> int:
    """A multi-region trail counts as one trail in every region."""
    shadows = sum(1 for other in _other_backends(backend) for t in other.trails.values() if t.is_multi_region)
    return len(backend.trails) + shadows


def _check_trail_limit(backend: CloudTrailBackend, regions: list[CloudTrailBackend]) -> None:
    """At most 5 trails per region (MaximumNumberOfTrailsExceededException)."""
    for region_backend in regions:
        if _trails_in_region(region_backend) >= MAX_TRAILS_PER_REGION:
            raise CloudTrailError(
                "MaximumNumberOfTrailsExceededException",
                f"User: {backend.account_id} already has {MAX_TRAILS_PER_REGION} trails in {region_backend.region_name}.",
            )


def _check_tags(tags: list[dict[str, Any]], existing_keys: Iterable[str]) -> None:
    """Tag keys up to 128 and values up to 256 characters, at most 50 tags."""
    for tag in tags:
        key, value = tag.get("Key") or "", tag.get("Value") or ""
        if not 1 <= len(key) <= 128 or len(value) > 256:
            raise CloudTrailError("InvalidTagParameterException", f"Invalid tag: key must be 1-128 and value up to 256 characters: {key}")
    if len(set(existing_keys) | {tag["Key"] for tag in tags}) > MAX_TAGS:
        raise CloudTrailError("TagsLimitExceededException", f"A trail can have up to {MAX_TAGS} tags.")


# -- delivery settings (bucket, KMS key, SNS topic, CloudWatch Logs) -------


def _check_bucket(account_id: str, region: str, bucket_name: str, prefix: str | None, trail_arn: str, organization_id: str | None) -> None:
    """The bucket exists and its policy lets CloudTrail check its ACL and write under [prefix/]AWSLogs/<account>/
    (and, for an organization trail, [prefix/]AWSLogs/<organization id>/)."""
    from moto.s3.models import s3_backends

    try:
        bucket = s3_backends[account_id][get_partition(region)].get_bucket(bucket_name)
    except Exception:
        raise CloudTrailError("S3BucketDoesNotExistException", f"S3 bucket {bucket_name} does not exist.")
    context = request_context(account_id, trail_arn)
    log_key = f"{prefix.strip('/')}/" if prefix else ""
    log_folders = [account_id] + ([f"{organization_id}/{account_id}"] if organization_id else [])
    log_objects = [f"arn:aws:s3:::{bucket_name}/{log_key}AWSLogs/{folder}/CloudTrail/{region}/2020/01/01/log.json.gz" for folder in log_folders]
    if not (
        policy_allows(bucket.policy, "s3:GetBucketAcl", f"arn:aws:s3:::{bucket_name}", context)
        and all(policy_allows(bucket.policy, "s3:PutObject", log_object, context) for log_object in log_objects)
    ):
        raise CloudTrailError("InsufficientS3BucketPolicyException", f"Incorrect S3 bucket policy is detected for bucket: {bucket_name}")


def _resolve_kms_key(account_id: str, region: str, key_id: str, trail_arn: str) -> str:
    """Key id, key ARN, alias name or alias ARN; the key must exist, be enabled and let
    CloudTrail generate data keys. CloudTrail stores the key ARN."""
    from moto.kms.models import kms_backends

    if key_id.startswith("arn:"):
        parts = key_id.split(":")
        region, account_id = parts[3], parts[4]
    try:
        key = kms_backends[account_id][region].describe_key(key_id)
    except Exception:
        raise CloudTrailError("KmsKeyNotFoundException", f"KMS key {key_id} does not exist.")
    if key.key_state != "Enabled":
        raise CloudTrailError("KmsKeyDisabledException", f"KMS key {key_id} is disabled.")
    if not policy_allows(key.policy, "kms:GenerateDataKey", key.arn, request_context(account_id, trail_arn)):
        raise CloudTrailError("InsufficientEncryptionPolicyException", f"Insufficient permissions to access KMS key {key_id}.")
    return key.arn


def _resolve_sns_topic(account_id: str, region: str, name_or_arn: str, trail_arn: str) -> str:
    """A topic name (of the trail's region) or ARN; the topic must exist and let CloudTrail publish."""
    from moto.sns.models import sns_backends

    arn = name_or_arn
    if not arn.startswith("arn:"):
        arn = f"arn:{get_partition(region)}:sns:{region}:{account_id}:{name_or_arn}"
    parts = arn.split(":")
    topic = sns_backends[parts[4]][parts[3]].topics.get(arn) if len(parts) == 6 else None
    if topic is None or not policy_allows(topic.policy, "SNS:Publish", arn, request_context(account_id, trail_arn)):
        raise CloudTrailError("InsufficientSnsTopicPolicyException", "SNS Topic does not exist or the topic policy is incorrect!")
    return arn


def _check_cloudwatch_logs(account_id: str, group_arn: str | None, role_arn: str | None) -> None:
    """Log group and role go together, both well-formed, and the log group exists."""
    from moto.logs.models import logs_backends

    if group_arn and not role_arn:
        raise CloudTrailError("InvalidCloudWatchLogsRoleArnException", "You must specify a role ARN as well as a log group.")
    if role_arn and not group_arn:
        raise CloudTrailError("InvalidCloudWatchLogsLogGroupArnException", "You must specify a log group as well as a role ARN.")
    if not group_arn:
        return
    match = _LOG_GROUP_ARN.match(group_arn)
    if not match or match[3] not in logs_backends[match[2]][match[1]].groups:
        raise CloudTrailError("InvalidCloudWatchLogsLogGroupArnException", f"Log group {group_arn} is not valid or does not exist.")
    if not _ROLE_ARN.match(role_arn or ""):
        raise CloudTrailError("InvalidCloudWatchLogsRoleArnException", f"Role {role_arn} is not a valid IAM role ARN.")


def _organization_id(account_id: str, region: str) -> str:
    """Organization trails are created by the management account of an organization with all features."""
    from moto.organizations.models import organizations_backends

    organization = organizations_backends[account_id][get_partition(region)].org
    if organization is not None and organization.feature_set == "ALL":
        return organization.id
    if organization is not None:
        raise CloudTrailError("OrganizationNotInAllFeaturesModeException", "The organization must have all features enabled.")
    if account_id in organizations_backends.master_accounts:
        raise CloudTrailError("NotOrganizationMasterAccountException", f"Account {account_id} is not the management account of its organization.")
    raise CloudTrailError("OrganizationsNotInUseException", f"Account {account_id} is not in an organization.")


# Trail attributes that CreateTrail and UpdateTrail set, in _given's order; "" clears all but the bucket.
_CLEARABLE = ("s3_key_prefix", "sns_topic_name", "kms_key_id", "cw_log_group_arn", "cw_role_arn")
_SETTINGS = ("bucket_name",) + _CLEARABLE + ("include_global_service_events", "is_multi_region", "is_org_trail")


def validate_settings(backend: CloudTrailBackend, trail_arn: str, given: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The trail's settings after applying ``given`` to ``current``; validates only what is given."""
    settings = dict(current, **given)
    account, region = backend.account_id, backend.region_name
    if settings.get("is_multi_region") and not settings.get("include_global_service_events"):
        raise CloudTrailError("InvalidParameterCombinationException", "Multi-Region trail must include global service events.")
    if len(settings.get("s3_key_prefix") or "") > MAX_S3_PREFIX:
        raise CloudTrailError("InvalidS3PrefixException", f"S3 key prefix must be at most {MAX_S3_PREFIX} characters.")
    organization_id = _organization_id(account, region) if settings.get("is_org_trail") else None
    if "bucket_name" in given or "s3_key_prefix" in given or given.get("is_org_trail"):
        _check_bucket(account, region, settings["bucket_name"], settings.get("s3_key_prefix"), trail_arn, organization_id)
    if given.get("kms_key_id"):
        settings["kms_key_id"] = _resolve_kms_key(account, region, given["kms_key_id"], trail_arn)
    if given.get("sns_topic_name"):
        settings["sns_topic_name"] = _resolve_sns_topic(account, region, given["sns_topic_name"], trail_arn)
    if "cw_log_group_arn" in given or "cw_role_arn" in given:
        # the request sets the pair: a group without its role in the same call fails, also on update
        # ("You must specify a role ARN as well as a log group", hashicorp/terraform-provider-aws#148)
        settings["cw_log_group_arn"], settings["cw_role_arn"] = given.get("cw_log_group_arn"), given.get("cw_role_arn")
        _check_cloudwatch_logs(account, settings["cw_log_group_arn"], settings["cw_role_arn"])
    for field in _CLEARABLE:
        settings[field] = settings.get(field) or None
    return settings


def _given(*values: Any) -> dict[str, Any]:
    """The settings a CreateTrail or UpdateTrail request gives (None: not given)."""
    return {name: value for name, value in zip(_SETTINGS, values) if value is not None}


def _trail_arn(backend: CloudTrailBackend, name: str) -> str:
    return f"arn:{get_partition(backend.region_name)}:cloudtrail:{backend.region_name}:{backend.account_id}:trail/{name}"


# -- event and insight selectors -----------------------------------------


def _invalid_selectors(message: str) -> CloudTrailError:
    return CloudTrailError("InvalidEventSelectorsException", message)


def check_basic_selectors(selectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """1 to 5 selectors, 250 data resources in all, CloudTrail's basic types; returned as CloudTrail stores them."""
    if not 1 <= len(selectors) <= MAX_BASIC_SELECTORS:
        raise _invalid_selectors(f"A trail can have 1 to {MAX_BASIC_SELECTORS} event selectors.")
    stored, data_resources = [], 0
    for selector in selectors:
        read_write = selector.get("ReadWriteType", "All")
        if read_write not in READ_WRITE_TYPES:
            raise _invalid_selectors(f"Invalid ReadWriteType: {read_write}")
        excluded = selector.get("ExcludeManagementEventSources") or []
        if any(source not in EXCLUDABLE_MANAGEMENT_SOURCES for source in excluded):
            raise _invalid_selectors(f"ExcludeManagementEventSources may only contain {', '.join(EXCLUDABLE_MANAGEMENT_SOURCES)}.")
        for resource in selector.get("DataResources") or []:
            if resource.get("Type") not in BASIC_DATA_RESOURCE_TYPES:
                raise _invalid_selectors(f"Invalid data resource type: {resource.get('Type')}. Use advanced event selectors for other types.")
            for value in resource.get("Values") or []:
                if not re.match(rf"^arn:aws[a-z-]*:{BASIC_DATA_RESOURCE_TYPES[resource['Type']]}(:|$)", value) or "*" in value:
                    raise _invalid_selectors(f"Value {value} for DataResources.Values is invalid.")
                data_resources += 1
        stored.append(
            {
                "ReadWriteType": read_write,
                "IncludeManagementEvents": selector.get("IncludeManagementEvents", True),
                "DataResources": selector.get("DataResources") or [],
                "ExcludeManagementEventSources": excluded,
            }
        )
    if data_resources > MAX_DATA_RESOURCES:
        raise _invalid_selectors(f"A trail can have at most {MAX_DATA_RESOURCES} data resources.")
    return stored


@functools.lru_cache(maxsize=None)
def _advanced_field_rules() -> dict[str, Any]:
    """The collection's table of fields and fixed values (plugins/module_utils/advanced_fields.py),
    loaded by path: it is plain data from CloudTrail's API reference and imports nothing."""
    import importlib.util
    import os

    path = os.path.join(os.path.dirname(__file__), "..", "..", "..", "plugins", "module_utils", "advanced_fields.py")
    spec = importlib.util.spec_from_file_location("trailops_advanced_fields", os.path.normpath(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.ADVANCED_FIELD_RULES


def check_advanced_selectors(selectors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Known field names, eventCategory in every selector (and resources.type for data events),
    only Equals on eventCategory, readOnly and resources.type, with the values the API reference
    lists for them, at most 500 condition values in all."""
    rules = _advanced_field_rules()
    values = 0
    for selector in selectors:
        fields = {field.get("Field"): field for field in selector.get("FieldSelectors") or []}
        for name, field in fields.items():
            if name not in ADVANCED_FIELDS:
                raise _invalid_selectors(f"Invalid field name: {name}")
            count = sum(len(field.get(operator) or []) for operator in ADVANCED_OPERATORS)
            if not count:
                raise _invalid_selectors(f"Field selector {name} needs at least one condition.")
            rule = rules.get(name)
            if rule is not None and rule.equals_only and count != len(field.get("Equals") or []):
                raise _invalid_selectors(f"Invalid operator for field {name}: only Equals is supported.")
            if rule is not None and rule.values is not None:
                for value in field.get("Equals") or []:
                    if value not in rule.values:
                        raise _invalid_selectors(f"Invalid value {value} for field {name}.")
            values += count
        if "eventCategory" not in fields:
            raise _invalid_selectors("Each advanced event selector needs an eventCategory field selector.")
        if "Data" in (fields["eventCategory"].get("Equals") or []) and "resources.type" not in fields:
            raise _invalid_selectors("Advanced event selectors for data events need a resources.type field selector.")
    if values > MAX_ADVANCED_VALUES:
        raise _invalid_selectors(f"Advanced event selectors can have at most {MAX_ADVANCED_VALUES} condition values in all.")
    return [dict(selector) for selector in selectors]


def logged_management_access(trail: Trail) -> set[str]:
    """Which management events ("read", "write") the trail's selectors log."""
    access: set[str] = set()
    for selector in trail.event_selectors or []:
        if selector.get("IncludeManagementEvents"):
            access |= READ_WRITE_TYPES[selector["ReadWriteType"]]
    for selector in trail.advanced_event_selectors or []:
        fields = {field["Field"]: field for field in selector.get("FieldSelectors") or []}
        if "Management" not in (fields.get("eventCategory", {}).get("Equals") or []):
            continue
        read_only = fields.get("readOnly", {}).get("Equals")
        access |= {"read", "write"} if not read_only else {"read" if v == "true" else "write" for v in read_only}
    return access


# -- the patched methods --------------------------------------------------


def _describe_trail(self: Trail, include_region: bool = False) -> dict[str, Any]:
    """Every trail description reports HomeRegion and real Has*Selectors flags, and omits unset fields."""
    description = _ORIGINAL["Trail.description"](self, include_region=True)
    description["HasCustomEventSelectors"] = self.event_selectors != [DEFAULT_EVENT_SELECTOR]
    description["HasInsightSelectors"] = bool(self.insight_selectors)
    if self.sns_topic_name:
        description["SnsTopicName"] = self.sns_topic_name.rsplit(":", 1)[-1]
        description["SnsTopicARN"] = self.sns_topic_name
    return {key: value for key, value in description.items() if value is not None and value != ""}


def _topic_arn(self: Trail) -> str | None:
    """The SNS topic is stored by ARN once validated (CloudTrail accepts a name or an ARN)."""
    return self.sns_topic_name or None


def _topic_checked_by_validate_settings(self: Trail) -> None:
    """validate_settings checks the topic and its policy before the Trail is built."""


def _create_trail(
    self: CloudTrailBackend,
    name: str,
    bucket_name: str,
    s3_key_prefix: str,
    sns_topic_name: str,
    is_global: bool,
    is_multi_region: bool,
    log_validation: bool,
    is_org_trail: bool,
    cw_log_group_arn: str,
    cw_role_arn: str,
    kms_key_id: str,
    tags_list: list[dict[str, str]],
) -> Trail:
    """CreateTrail validates name, uniqueness, the limit, tags and delivery settings; new trails log all management events."""
    check_trail_name(name)
    if _trail_named(self, name) is not None:
        raise CloudTrailError("TrailAlreadyExistsException", f"Trail {name} already exists for customer: {self.account_id}")
    _check_trail_limit(self, [self] + (_other_backends(self) if is_multi_region else []))
    _check_tags(tags_list or [], [])
    given = _given(bucket_name, s3_key_prefix, sns_topic_name, kms_key_id, cw_log_group_arn, cw_role_arn, is_global, is_multi_region, is_org_trail)
    s = validate_settings(self, _trail_arn(self, name), given, {})
    trail = _ORIGINAL["CloudTrailBackend.create_trail"](
        self,
        name,
        s["bucket_name"],
        s["s3_key_prefix"],
        s["sns_topic_name"],
        is_global,
        is_multi_region,
        log_validation,
        is_org_trail,
        s["cw_log_group_arn"],
        s["cw_role_arn"],
        s["kms_key_id"],
        tags_list,
    )
    trail.event_selectors = [dict(DEFAULT_EVENT_SELECTOR)]
    trail.advanced_event_selectors = None
    return trail


def _update_trail(
    self: CloudTrailBackend,
    name: str,
    s3_bucket_name: str | None,
    s3_key_prefix: str | None,
    sns_topic_name: str | None,
    include_global_service_events: bool | None,
    is_multi_region_trail: bool | None,
    enable_log_file_validation: bool | None,
    is_organization_trail: bool | None,
    cw_log_group_arn: str | None,
    cw_role_arn: str | None,
    kms_key_id: str | None,
) -> Trail:
    """UpdateTrail, in the home region, validates and applies only the fields given ("" clears)."""
    trail = _home_trail(self, name)
    given = _given(
        s3_bucket_name,
        s3_key_prefix,
        sns_topic_name,
        kms_key_id,
        cw_log_group_arn,
        cw_role_arn,
        include_global_service_events,
        is_multi_region_trail,
        is_organization_trail,
    )
    if is_multi_region_trail and not trail.is_multi_region:
        _check_trail_limit(self, _other_backends(self))
    current = {field: getattr(trail, field) for field in _SETTINGS}
    for field, value in validate_settings(self, trail.arn, given, current).items():
        setattr(trail, field, value)
    if enable_log_file_validation is not None:
        if enable_log_file_validation != trail.log_validation:
            delivery.validation_changed(trail, enable_log_file_validation)
        trail.log_validation = enable_log_file_validation
    return trail


def _get_trail(self: CloudTrailBackend, name_or_arn: str) -> Trail:
    """GetTrail (and every call by trail name) finds trails by name or ARN from any region (TrailNotFoundException)."""
    trail = find_trail(self, name_or_arn)
    if trail is None:
        raise TrailNotFoundException(account_id=self.account_id, name=name_or_arn)
    return trail


def _get_trail_status(self: CloudTrailBackend, name: str) -> Any:
    """GetTrailStatus works from any region, by name or ARN."""
    return self.get_trail(name).status


def _start_logging(self: CloudTrailBackend, name: str) -> None:
    """StartLogging only in the home region; after a stop, the digest chain restarts."""
    trail = _home_trail(self, name)
    if not trail.status.is_logging:
        delivery.logging_started(trail)
    trail.start_logging()


def _stop_logging(self: CloudTrailBackend, name: str) -> None:
    """StopLogging only in the home region; nothing called from now on is delivered."""
    trail = _home_trail(self, name)
    if trail.status.is_logging:
        delivery.logging_stopped(trail)
    trail.stop_logging()


def _delete_trail(self: CloudTrailBackend, name: str) -> None:
    """DeleteTrail by name or ARN, in the home region, of an existing trail; its tags go with it."""
    trail = _home_trail(self, name)
    del self.trails[trail.trail_name]
    self.tagging_service.delete_all_tags_for_resource(trail.arn)


def _put_event_selectors(
    self: CloudTrailBackend,
    trail_name: str,
    event_selectors: list[dict[str, Any]] | None,
    advanced_event_selectors: list[dict[str, Any]] | None,
) -> tuple[str, list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    """PutEventSelectors replaces: basic or advanced selectors, never both; one kind clears the other."""
    trail = _home_trail(self, trail_name)
    if event_selectors is not None and advanced_event_selectors is not None:
        raise CloudTrailError("InvalidParameterCombinationException", "Specify either EventSelectors or AdvancedEventSelectors, not both.")
    if event_selectors is None and advanced_event_selectors is None:
        raise _invalid_selectors("Specify EventSelectors or AdvancedEventSelectors.")
    if event_selectors is not None:
        trail.event_selectors, trail.advanced_event_selectors = check_basic_selectors(event_selectors), None
    else:
        trail.event_selectors, trail.advanced_event_selectors = None, check_advanced_selectors(advanced_event_selectors or [])
    return trail.arn, trail.event_selectors, trail.advanced_event_selectors


def _put_insight_selectors(self: CloudTrailBackend, trail_name: str, insight_selectors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """PutInsightSelectors replaces (an empty list turns Insights off) and checks each type's prerequisite."""
    trail = _home_trail(self, trail_name)
    logged = logged_management_access(trail)
    for selector in insight_selectors or []:
        insight_type = selector.get("InsightType")
        if insight_type not in INSIGHT_PREREQUISITES:
            raise CloudTrailError("InvalidInsightSelectorsException", f"Invalid InsightType: {insight_type}")
        needed, description = INSIGHT_PREREQUISITES[insight_type]
        if not needed & logged:
            raise CloudTrailError("InvalidInsightSelectorsException", f"{insight_type} needs the trail to log {description}.")
    trail.insight_selectors = [dict(selector) for selector in insight_selectors or []]
    return trail.arn, trail.insight_selectors


def _get_insight_selectors(self: CloudTrailBackend, trail_name: str) -> tuple[str, list[dict[str, Any]]]:
    """GetInsightSelectors of a trail without Insights fails with InsightNotEnabledException."""
    trail = self.get_trail(trail_name)
    if not trail.insight_selectors:
        raise CloudTrailError("InsightNotEnabledException", f"Trail {trail.trail_name} does not have Insights enabled.")
    return trail.arn, trail.insight_selectors


def _add_tags(self: CloudTrailBackend, resource_id: str, tags_list: list[dict[str, str]]) -> None:
    """AddTags on an existing trail, from its home region, up to 50 tags."""
    trail = _tagged_trail(self, resource_id)
    if trail.region_name != self.region_name:
        raise CloudTrailError("InvalidHomeRegionException", f"Tags can only be added from the trail's home region, {trail.region_name}.")
    existing = self.tagging_service.get_tag_dict_for_resource(trail.arn)
    _check_tags(tags_list or [], existing)
    self.tagging_service.tag_resource(trail.arn, tags_list or [])


def _remove_tags(self: CloudTrailBackend, resource_id: str, tags_list: list[dict[str, str]]) -> None:
    """RemoveTags by key (the value is optional)."""
    trail = _tagged_trail(self, resource_id)
    keys = [tag["Key"] for tag in tags_list or []]
    _home_backend(trail).tagging_service.untag_resource_using_names(trail.arn, keys)


def _list_tags(self: CloudTrailBackend, resource_id_list: list[str]) -> list[dict[str, Any]]:
    """ListTags by trail ARN or name, from any region."""
    result = []
    for resource_id in resource_id_list or []:
        trail = _tagged_trail(self, resource_id)
        tags = _home_backend(trail).tagging_service.list_tags_for_resource(trail.arn)["TagsList"]
        result.append({"ResourceId": trail.arn, "TagsList": tags})
    return result


def _own_trail(backend: CloudTrailBackend, name: str) -> Trail | None:
    check_trail_name(name)
    return backend.trails.get(name)


def organization_trails_seen_by(account_id: str, region: str) -> list[Trail]:
    """A member account sees its organization's trails as shadow trails (the
    DescribeTrails reference, includeShadowTrails): those of the management
    account, a multi-region one in every region, another in its home region."""
    from moto.organizations.models import organizations_backends

    management = organizations_backends.master_accounts.get(account_id)
    if management is None or management[0] == account_id:
        return []
    organization = organizations_backends[management[0]][management[1]].org
    if organization is None or organization.feature_set != "ALL":
        return []
    return [
        trail
        for home in cloudtrail_backends[management[0]].values()
        for trail in home.trails.values()
        if trail.is_org_trail and (trail.is_multi_region or trail.region_name == region)
    ]


def _describe_trails(self: CloudTrailResponse) -> str:
    """DescribeTrails honours trailNameList: names of this region's trails, ARNs of any region;
    without names, a member account's list includes its organization's trails (shadow trails)."""
    params = json.loads(self.body or "{}")
    backend = self.cloudtrail_backend
    names = params.get("trailNameList") or []
    if not names:
        shadows = params.get("includeShadowTrails", True) is not False
        trails = list(backend.describe_trails(shadows))
        if shadows:
            trails += organization_trails_seen_by(backend.account_id, backend.region_name)
    else:
        trails = []
        for name in names:
            trail = find_trail(backend, name) if name.startswith("arn:") else _own_trail(backend, name)
            if trail is not None and trail not in trails:
                trails.append(trail)
    return json.dumps({"trailList": [trail.description(include_region=True) for trail in trails]})


def _omit_null(method: Callable[[CloudTrailResponse], str]) -> Callable[[CloudTrailResponse], str]:
    """Selector responses carry only the kind of selectors in use, as CloudTrail's do."""

    @functools.wraps(method)
    def wrapper(self: CloudTrailResponse) -> str:
        return json.dumps({key: value for key, value in json.loads(method(self)).items() if value is not None})

    return wrapper


def install() -> None:
    """Apply every CloudTrail patch (once)."""
    if _ORIGINAL:
        return
    hooks.patch(_ORIGINAL, Trail, description=_describe_trail, topic_arn=property(_topic_arn), check_topic_exists=_topic_checked_by_validate_settings)
    hooks.patch(
        _ORIGINAL,
        CloudTrailBackend,
        create_trail=_create_trail,
        update_trail=_update_trail,
        get_trail=_get_trail,
        get_trail_status=_get_trail_status,
        start_logging=_start_logging,
        stop_logging=_stop_logging,
        delete_trail=_delete_trail,
        put_event_selectors=_put_event_selectors,
        put_insight_selectors=_put_insight_selectors,
        get_insight_selectors=_get_insight_selectors,
        add_tags=_add_tags,
        remove_tags=_remove_tags,
        list_tags=_list_tags,
    )
    hooks.patch(
        _ORIGINAL,
        CloudTrailResponse,
        describe_trails=_describe_trails,
        get_event_selectors=_omit_null(CloudTrailResponse.get_event_selectors),
        put_event_selectors=_omit_null(CloudTrailResponse.put_event_selectors),
    )
