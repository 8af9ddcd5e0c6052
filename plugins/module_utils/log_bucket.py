# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The S3 bucket CloudTrail delivers to, as one part of the account baseline:
its existence, Block Public Access, object ownership, default encryption,
versioning, the tag that marks a bucket the collection created, and the
lifecycle rules the collection keeps on CloudTrail's own prefixes.

The bucket's CloudTrail statements are ``bucket_policy.py``'s part
(``BucketPolicyPart``); this file only says which trails they grant
(``policy_spec``) and runs that part after the bucket's settings.

Two kinds of bucket:

- owned (``existing`` false): created here and tagged
  ``trailops.cloudtrail:created-by``; every setting left unset takes the secure
  default. A bucket that exists without the tag was not created by the
  collection and is never taken over.
- adopted (``existing`` true): never created, tagged, changed or deleted; a
  setting option that would change it fails. Only the CloudTrail statements
  and the lifecycle rules are written.

Reads ask only for what the spec manages, so a run that changes nothing makes
no call that answers an error (in a real account every such answer is an error
event in the customer's own CloudTrail): a configuration S3 may not have (the
lifecycle) is read only when rules are asked for, or when the created-by tag
says the collection wrote some.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import re
from typing import Any
from typing import Callable
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.s3 import AnsibleS3Error
from ansible_collections.amazon.aws.plugins.module_utils.s3 import AnsibleS3PermissionsError
from ansible_collections.amazon.aws.plugins.module_utils.s3 import S3ErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.s3 import validate_bucket_name
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.trailops.cloudtrail.plugins.module_utils import bucket_policy
from ansible_collections.trailops.cloudtrail.plugins.module_utils.bucket_policy import BucketPolicyPart
from ansible_collections.trailops.cloudtrail.plugins.module_utils.clients import Clients
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import caller_account_error
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import read_caller
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import PartPlan
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import Where

# Written on a bucket the collection creates: how a later run tells its own
# bucket from one that exists for another reason (adopted only on purpose).
CREATED_BY_TAG = "trailops.cloudtrail:created-by"
CREATED_BY = "log_bucket"
# The same tag once the collection has written lifecycle rules: S3 answers an
# error (NoSuchLifecycleConfiguration) for a bucket without any, so the
# lifecycle is read only when rules are asked for or this value says some exist.
CREATED_BY_WITH_LIFECYCLE = "log_bucket:lifecycle"
OWNED_MARKS = (CREATED_BY, CREATED_BY_WITH_LIFECYCLE)

# Where CloudTrail itself writes under AWSLogs/<account or organization id>/;
# AWS Config, VPC flow logs and ELB write beside them and are not ours.
CLOUDTRAIL_FOLDERS = ("CloudTrail", "CloudTrail-Digest", "CloudTrail-Insight")
RULE_ID_PREFIX = "trailops-cloudtrail"
# The rule of 1.x: one rule for all of AWSLogs/, removed whenever rules are written.
LEGACY_RULE_ID = "trailops-cloudtrail-logs"
# A rule ID is at most 255 characters; a longer prefix is named by its sha256.
MAX_RULE_ID_PREFIX = 200
STORAGE_CLASSES = ("STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE")
OBJECT_OWNERSHIPS = ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")
ENCRYPTIONS = ("AES256", "aws:kms")

# The settings an option names one to one, in the order of the normalized state.
SETTINGS = ("encryption", "kms_key_id", "versioning", "public_access_block", "object_ownership")
# What a bucket has the moment CreateBucket returns, as this file normalizes it.
NEW_BUCKET: dict[str, Any] = {
    "encryption": None,
    "kms_key_id": None,
    "versioning": False,
    "public_access_block": False,
    "object_ownership": None,
    "lifecycle": {},
    "created_by": None,
}
STATE_KEYS = tuple(NEW_BUCKET)


class AnsibleLogBucketError(AnsibleS3Error):
    pass


# ---------------------------------------------------------------- options
def option(spec: dict[str, Any], key: str) -> str:
    """How messages name ``key``: a caller that maps its own names onto the
    spec (the log_bucket role's ``log_bucket_*``, the baseline's
    ``s3_bucket_*``) passes them in ``option_names``."""
    return (spec.get("option_names") or {}).get(key, key)


def _value(spec: dict[str, Any], key: str) -> Any:
    """An option's value, ``""`` read as unset (roles pass ``""`` for "not given")."""
    value = spec.get(key)
    return None if value == "" else value


def is_adopted(spec: dict[str, Any]) -> bool:
    return bool(spec.get("existing"))


def lifecycle_asked(spec: dict[str, Any]) -> bool:
    return _value(spec, "lifecycle_transition_days") is not None or _value(spec, "lifecycle_expiration_days") is not None


def policy_option_names(spec: dict[str, Any]) -> dict[str, str]:
    """bucket_policy.py's option names as the caller's (``bucket`` is ``name``)."""
    names = {key: option(spec, key) for key in ("sid_suffix", "s3_key_prefix", "organization_id", "account_id", "trails", "state")}
    names["bucket"] = option(spec, "name")
    return names


def check(spec: dict[str, Any], where: Optional[Where] = None) -> None:
    """Raise ``ParameterError`` for the first option that breaks a rule; runs
    before any call, so nothing was written."""
    name = spec.get("name") or ""
    problem = validate_bucket_name(name)
    if problem:
        raise ParameterError(option(spec, "name"), f"{problem} (got {name!r}); nothing was written")
    state = spec.get("state") or "present"
    trails = spec.get("trails") or []
    if state == "present" and not trails:
        raise ParameterError(option(spec, "trails"), f"must name at least one trail when {option(spec, 'state')} is present; nothing was written")
    encryption = _value(spec, "encryption")
    if encryption is not None and encryption not in ENCRYPTIONS:
        raise ParameterError(option(spec, "encryption"), f"must be one of {', '.join(ENCRYPTIONS)} (got {encryption!r}); nothing was written")
    if _value(spec, "kms_key_id") and encryption not in (None, "aws:kms"):
        raise ParameterError(
            option(spec, "kms_key_id"),
            f"is set but {option(spec, 'encryption')} is {encryption}: SSE-S3 takes no key; nothing was written",
        )
    ownership = _value(spec, "object_ownership")
    if ownership is not None and ownership not in OBJECT_OWNERSHIPS:
        raise ParameterError(option(spec, "object_ownership"), f"must be one of {', '.join(OBJECT_OWNERSHIPS)} (got {ownership!r}); nothing was written")
    if spec.get("delete") and state != "absent":
        raise ParameterError(
            option(spec, "delete"),
            f"is true but {option(spec, 'state')} is {state}: the bucket is deleted only with state absent; nothing was written",
        )
    transition = _value(spec, "lifecycle_transition_days")
    expiration = _value(spec, "lifecycle_expiration_days")
    for key, days in (("lifecycle_transition_days", transition), ("lifecycle_expiration_days", expiration)):
        if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days <= 0):
            raise ParameterError(option(spec, key), f"must be a positive number of days (got {days!r}); nothing was written")
    if transition is not None and expiration is not None and expiration <= transition:
        raise ParameterError(
            option(spec, "lifecycle_expiration_days"),
            f"must be greater than {option(spec, 'lifecycle_transition_days')} ({expiration} <= {transition}); nothing was written",
        )
    storage_class = _value(spec, "lifecycle_storage_class") or "GLACIER"
    if storage_class not in STORAGE_CLASSES:
        raise ParameterError(
            option(spec, "lifecycle_storage_class"), f"must be one of {', '.join(STORAGE_CLASSES)} (got {storage_class!r}); nothing was written"
        )
    try:
        bucket_policy.validate_params(policy_params(spec))
    except ParameterError as e:
        raise bucket_policy.renamed_error({"option_names": policy_option_names(spec)}, f"{e}; nothing was written") from None


def policy_params(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as bucket_policy.py's parameters."""
    return {
        "bucket": spec.get("name") or "",
        "trails": spec.get("trails") or [],
        "account_id": _value(spec, "account_id"),
        "organization_id": _value(spec, "organization_id"),
        "s3_key_prefix": _value(spec, "s3_key_prefix"),
        "sid_suffix": spec.get("sid_suffix") or bucket_policy.DEFAULT_SID_SUFFIX,
        "state": spec.get("state") or "present",
    }


# ---------------------------------------------------------------- CloudTrail's prefixes
def trail_arns(spec: dict[str, Any], where: Where) -> list[str]:
    """The trails' ARNs; a trail given by name is in ``where``'s account and region."""
    return bucket_policy.resolve_trail_arns(spec.get("trails") or [], where.region, _value(spec, "account_id") or where.account)


def key_prefix(spec: dict[str, Any]) -> str:
    """``"<prefix>/"``, or ``""`` for none (a trailing ``/`` given or not)."""
    prefix = bucket_policy.normalize_s3_key_prefix(_value(spec, "s3_key_prefix"))
    return f"{prefix}/" if prefix else ""


def cloudtrail_prefixes(spec: dict[str, Any], where: Where) -> list[str]:
    """Where CloudTrail writes for these trails: one prefix per folder per
    account (a lifecycle filter has one prefix), and all of
    ``AWSLogs/<organization id>/``, where only organization trails write."""
    accounts = sorted({arn.split(":")[4] for arn in trail_arns(spec, where)})
    prefixes = [f"{key_prefix(spec)}AWSLogs/{account}/{folder}/" for account in accounts for folder in CLOUDTRAIL_FOLDERS]
    if _value(spec, "organization_id"):
        prefixes.append(f"{key_prefix(spec)}AWSLogs/{spec['organization_id']}/")
    return prefixes


def rule_id(prefix: str) -> str:
    if len(prefix) <= MAX_RULE_ID_PREFIX:
        return f"{RULE_ID_PREFIX}:{prefix}"
    return f"{RULE_ID_PREFIX}:{hashlib.sha256(prefix.encode('utf-8')).hexdigest()}"


def is_our_rule_id(identifier: Optional[str]) -> bool:
    return bool(identifier) and str(identifier).startswith(RULE_ID_PREFIX)


def wanted_rules(spec: dict[str, Any], where: Where) -> dict[str, Optional[dict[str, Any]]]:
    """The rules this run decides, by ID (``None``: no such rule): one per
    prefix of its trails, and the legacy rule for all of AWSLogs/. Rules of
    other prefixes (another trail's, on a shared bucket) are not decided here."""
    transition = _value(spec, "lifecycle_transition_days")
    expiration = _value(spec, "lifecycle_expiration_days")
    wanted: dict[str, Optional[dict[str, Any]]] = {LEGACY_RULE_ID: None}
    for prefix in cloudtrail_prefixes(spec, where):
        rule = None
        if transition is not None or expiration is not None:
            rule = {
                "prefix": prefix,
                "transition_days": transition,
                "storage_class": (_value(spec, "lifecycle_storage_class") or "GLACIER") if transition is not None else None,
                "expiration_days": expiration,
            }
        wanted[rule_id(prefix)] = rule
    return wanted


def cloudtrail_key_pattern(spec: dict[str, Any]) -> re.Pattern:
    """A key CloudTrail wrote: ``[prefix/]AWSLogs/[<org id>/]<account>/<folder>/...``."""
    folders = "|".join(CLOUDTRAIL_FOLDERS)
    return re.compile(rf"{re.escape(key_prefix(spec))}AWSLogs/(o-[a-z0-9]+/)?[0-9]{{12}}/({folders})/")


# ---------------------------------------------------------------- normalize
def normalize_encryption(configuration: Optional[dict[str, Any]]) -> dict[str, Any]:
    rules = (configuration or {}).get("Rules") or [{}]
    default = rules[0].get("ApplyServerSideEncryptionByDefault") or {}
    return {"encryption": default.get("SSEAlgorithm"), "kms_key_id": default.get("KMSMasterKeyID")}


def normalize_versioning(response: Optional[dict[str, Any]]) -> dict[str, Any]:
    return {"versioning": (response or {}).get("Status") == "Enabled"}


def normalize_public_access_block(configuration: Optional[dict[str, Any]]) -> dict[str, Any]:
    flags = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    return {"public_access_block": all((configuration or {}).get(flag) for flag in flags)}


def normalize_ownership(controls: Optional[dict[str, Any]]) -> dict[str, Any]:
    rules = (controls or {}).get("Rules") or [{}]
    return {"object_ownership": rules[0].get("ObjectOwnership")}


def normalize_tags(tags: Optional[dict[str, str]]) -> dict[str, Any]:
    value = (tags or {}).get(CREATED_BY_TAG)
    return {"created_by": value if value in OWNED_MARKS else None}


def normalize_rule(rule: dict[str, Any]) -> dict[str, Any]:
    transition = (rule.get("Transitions") or [{}])[0]
    rule_filter = rule.get("Filter") or {}
    return {
        "prefix": rule_filter.get("Prefix", rule.get("Prefix", "")),
        "transition_days": transition.get("Days"),
        "storage_class": transition.get("StorageClass"),
        "expiration_days": (rule.get("Expiration") or {}).get("Days"),
    }


def normalize_lifecycle(rules: Optional[list[dict[str, Any]]]) -> dict[str, Any]:
    """Only the collection's rules, by ID; other rules are never shown or changed."""
    return {"lifecycle": {rule["ID"]: normalize_rule(rule) for rule in rules or [] if is_our_rule_id(rule.get("ID"))}}


def boto3_rule(identifier: str, rule: dict[str, Any]) -> dict[str, Any]:
    written: dict[str, Any] = {"ID": identifier, "Filter": {"Prefix": rule["prefix"]}, "Status": "Enabled"}
    if rule.get("transition_days") is not None:
        written["Transitions"] = [{"Days": rule["transition_days"], "StorageClass": rule["storage_class"]}]
    if rule.get("expiration_days") is not None:
        written["Expiration"] = {"Days": rule["expiration_days"]}
    return written


def merged_lifecycle_rules(current: list[dict[str, Any]], decided: dict[str, Optional[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The bucket's rules with the decided IDs replaced or removed; every other
    rule kept exactly as read."""
    kept = [rule for rule in current if rule.get("ID") not in decided]
    return kept + [boto3_rule(identifier, rule) for identifier, rule in decided.items() if rule is not None]


def ordered(state: dict[str, Any]) -> dict[str, Any]:
    return {key: state[key] for key in STATE_KEYS if key in state}


# ---------------------------------------------------------------- S3 calls
# amazon.aws's module_utils/s3.py getters retry NoSuchBucket for up to two
# minutes and answer "not configured" and "no bucket" alike ({}); here a
# missing bucket must be told on the first answer, so each call has its own
# wrapper that returns ``MISSING`` for NoSuchBucket and ``None`` for "not configured".
MISSING = object()


class LogBucketErrorHandler(S3ErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleLogBucketError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("NoSuchBucket")


@LogBucketErrorHandler.list_error_handler("get bucket tags", MISSING)
def get_bucket_tagging(client, bucket: str) -> Optional[dict[str, str]]:
    try:
        return boto3_tag_list_to_ansible_dict(client.get_bucket_tagging(aws_retry=True, Bucket=bucket).get("TagSet", []))
    except is_boto3_error_code(["NoSuchTagSet", "NoSuchTagSetError"]):
        return None


@LogBucketErrorHandler.list_error_handler("get bucket encryption", MISSING)
def get_bucket_encryption(client, bucket: str) -> Optional[dict[str, Any]]:
    try:
        return client.get_bucket_encryption(aws_retry=True, Bucket=bucket).get("ServerSideEncryptionConfiguration")
    except is_boto3_error_code("ServerSideEncryptionConfigurationNotFoundError"):
        return None


@LogBucketErrorHandler.list_error_handler("get bucket versioning", MISSING)
def get_bucket_versioning(client, bucket: str) -> dict[str, Any]:
    return client.get_bucket_versioning(aws_retry=True, Bucket=bucket)


@LogBucketErrorHandler.list_error_handler("get public access block", MISSING)
def get_public_access_block(client, bucket: str) -> Optional[dict[str, Any]]:
    try:
        return client.get_public_access_block(aws_retry=True, Bucket=bucket).get("PublicAccessBlockConfiguration")
    except is_boto3_error_code("NoSuchPublicAccessBlockConfiguration"):
        return None


@LogBucketErrorHandler.list_error_handler("get bucket ownership controls", MISSING)
def get_bucket_ownership_controls(client, bucket: str) -> Optional[dict[str, Any]]:
    try:
        return client.get_bucket_ownership_controls(aws_retry=True, Bucket=bucket).get("OwnershipControls")
    except is_boto3_error_code("OwnershipControlsNotFoundError"):
        return None


@LogBucketErrorHandler.list_error_handler("get bucket lifecycle configuration", MISSING)
def get_bucket_lifecycle_rules(client, bucket: str) -> list[dict[str, Any]]:
    try:
        return client.get_bucket_lifecycle_configuration(aws_retry=True, Bucket=bucket).get("Rules", [])
    except is_boto3_error_code("NoSuchLifecycleConfiguration"):
        return []


@LogBucketErrorHandler.list_error_handler("list object versions", MISSING)
def list_object_versions(client, bucket: str) -> list[dict[str, str]]:
    """Every version and delete marker of every object, as ``{Key, VersionId}``:
    each is data a delete takes, so each is checked before one."""
    found: list[dict[str, str]] = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            found.append({"Key": entry["Key"], "VersionId": entry.get("VersionId") or "null"})
    return found


@LogBucketErrorHandler.common_error_handler("create bucket")
def create_bucket(client, bucket: str, region: str) -> None:
    params: dict[str, Any] = {"Bucket": bucket}
    # us-east-1 is the one region CreateBucket refuses as a location constraint.
    if region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(aws_retry=True, **params)


@LogBucketErrorHandler.common_error_handler("tag bucket")
def put_bucket_tagging(client, bucket: str, tags: dict[str, str]) -> None:
    client.put_bucket_tagging(aws_retry=True, Bucket=bucket, Tagging={"TagSet": ansible_dict_to_boto3_tag_list(tags)})


@LogBucketErrorHandler.common_error_handler("set bucket encryption")
def put_bucket_encryption(client, bucket: str, encryption: str, kms_key_id: Optional[str]) -> None:
    default: dict[str, Any] = {"SSEAlgorithm": encryption}
    if encryption == "aws:kms" and kms_key_id:
        default["KMSMasterKeyID"] = kms_key_id
    client.put_bucket_encryption(
        aws_retry=True, Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": default}]}
    )


@LogBucketErrorHandler.common_error_handler("set bucket versioning")
def put_bucket_versioning(client, bucket: str, enabled: bool) -> None:
    client.put_bucket_versioning(aws_retry=True, Bucket=bucket, VersioningConfiguration={"Status": "Enabled" if enabled else "Suspended"})


@LogBucketErrorHandler.common_error_handler("set public access block")
def put_public_access_block(client, bucket: str, block: bool) -> None:
    # Turned off as four false flags rather than deleted: a bucket without the
    # configuration answers every later read with an error.
    flags = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    client.put_public_access_block(aws_retry=True, Bucket=bucket, PublicAccessBlockConfiguration={flag: block for flag in flags})


@LogBucketErrorHandler.common_error_handler("set bucket ownership controls")
def put_bucket_ownership_controls(client, bucket: str, ownership: str) -> None:
    client.put_bucket_ownership_controls(aws_retry=True, Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": ownership}]})


@LogBucketErrorHandler.common_error_handler("set bucket lifecycle configuration")
def put_bucket_lifecycle_rules(client, bucket: str, rules: list[dict[str, Any]]) -> None:
    if rules:
        client.put_bucket_lifecycle_configuration(aws_retry=True, Bucket=bucket, LifecycleConfiguration={"Rules": rules})
    else:
        client.delete_bucket_lifecycle(aws_retry=True, Bucket=bucket)


@LogBucketErrorHandler.common_error_handler("delete objects")
def delete_objects(client, bucket: str, objects: list[dict[str, str]]) -> None:
    # DeleteObjects takes at most 1,000 keys per call.
    for start in range(0, len(objects), 1000):
        response = client.delete_objects(aws_retry=True, Bucket=bucket, Delete={"Objects": objects[start:start + 1000], "Quiet": True})
        if response.get("Errors"):
            first = response["Errors"][0]
            raise AnsibleLogBucketError(
                message=f"delete: S3 refused to delete {len(response['Errors'])} objects of {bucket}, first {first.get('Key')}: {first.get('Message')}"
            )


@LogBucketErrorHandler.common_error_handler("delete bucket")
def delete_bucket(client, bucket: str) -> None:
    client.delete_bucket(aws_retry=True, Bucket=bucket)


# ---------------------------------------------------------------- the settings table
@dataclasses.dataclass(frozen=True)
class Setting:
    """One S3 configuration: the state keys it holds, how it is read and
    normalized, and the write that sets it from the planned state."""

    keys: tuple[str, ...]
    get: Callable[[Any, str], Any]
    normalize: Callable[[Any], dict[str, Any]]
    step: str
    put: Callable[[Any, str, dict[str, Any]], None]


def mark_created_by(client, bucket: str, value: str) -> None:
    """Set the created-by tag, keeping every other tag: PutBucketTagging
    replaces the whole set, so it is merged from a read made just before."""
    current = get_bucket_tagging(client, bucket)
    tags = dict(current) if isinstance(current, dict) else {}
    tags[CREATED_BY_TAG] = value
    put_bucket_tagging(client, bucket, tags)


SETTINGS_TABLE = (
    Setting(("created_by",), get_bucket_tagging, normalize_tags, "PutBucketTagging", lambda c, b, s: mark_created_by(c, b, s["created_by"])),
    Setting(("public_access_block",), get_public_access_block, normalize_public_access_block, "PutPublicAccessBlock",
            lambda c, b, s: put_public_access_block(c, b, s["public_access_block"])),
    Setting(("object_ownership",), get_bucket_ownership_controls, normalize_ownership, "PutBucketOwnershipControls",
            lambda c, b, s: put_bucket_ownership_controls(c, b, s["object_ownership"])),
    Setting(("encryption", "kms_key_id"), get_bucket_encryption, normalize_encryption, "PutBucketEncryption",
            lambda c, b, s: put_bucket_encryption(c, b, s["encryption"], s["kms_key_id"])),
    Setting(("versioning",), get_bucket_versioning, normalize_versioning, "PutBucketVersioning",
            lambda c, b, s: put_bucket_versioning(c, b, s["versioning"])),
)
LIFECYCLE_STEP = "PutBucketLifecycleConfiguration"


def asked_settings(spec: dict[str, Any]) -> dict[str, Any]:
    """The settings an option names (an adopted bucket keeps every other one)."""
    encryption = _value(spec, "encryption") or ("aws:kms" if _value(spec, "kms_key_id") else None)
    asked = {
        "encryption": encryption,
        "kms_key_id": _value(spec, "kms_key_id"),
        "versioning": spec.get("versioning"),
        "public_access_block": spec.get("public_access_block"),
        "object_ownership": _value(spec, "object_ownership"),
    }
    return {key: value for key, value in asked.items() if value is not None}


def owned_settings(spec: dict[str, Any]) -> dict[str, Any]:
    """A bucket the collection owns: each setting as asked, else its secure default."""
    encryption = _value(spec, "encryption") or ("aws:kms" if _value(spec, "kms_key_id") else "AES256")
    return {
        "encryption": encryption,
        "kms_key_id": _value(spec, "kms_key_id") if encryption == "aws:kms" else None,
        "versioning": True if spec.get("versioning") is None else bool(spec["versioning"]),
        "public_access_block": True if spec.get("public_access_block") is None else bool(spec["public_access_block"]),
        "object_ownership": _value(spec, "object_ownership") or "BucketOwnerEnforced",
    }


def managed_settings(spec: dict[str, Any]) -> list[Setting]:
    """The rows a run reads: all for a bucket the collection owns (the tag
    included), only those an option names for an adopted one."""
    if not is_adopted(spec):
        return list(SETTINGS_TABLE)
    asked = asked_settings(spec)
    return [row for row in SETTINGS_TABLE if any(key in asked for key in row.keys)]


# ---------------------------------------------------------------- the part
def desired(spec: dict[str, Any], where: Where) -> Optional[dict[str, Any]]:
    """The state asked for: ``None`` when the bucket is to be deleted, ``{}``
    for ``state: absent`` without delete (the bucket is left as it is). For an
    adopted bucket only the settings options name. ``lifecycle`` holds the
    decided rules, ``None`` for a rule that must not exist."""
    if (spec.get("state") or "present") == "absent":
        return None if spec.get("delete") else {}
    state = dict(asked_settings(spec) if is_adopted(spec) else owned_settings(spec))
    state["lifecycle"] = wanted_rules(spec, where)
    if not is_adopted(spec):
        state["created_by"] = CREATED_BY
    return ordered(state)


def _read_rows(client, bucket: str, rows: list[Setting], lifecycle: bool) -> Any:
    """Read ``rows`` (and the lifecycle) at once; ``MISSING`` when any answer
    says the bucket does not exist."""
    calls: list[Callable[[], Any]] = [lambda row=row: row.get(client, bucket) for row in rows]
    if lifecycle:
        calls.append(lambda: get_bucket_lifecycle_rules(client, bucket))
    # One round trip each and none depends on another; boto3 clients are thread-safe.
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(calls)) as pool:
        answers = [future.result() for future in [pool.submit(call) for call in calls]]
    if any(answer is MISSING for answer in answers):
        return MISSING
    state: dict[str, Any] = {}
    for row, answer in zip(rows, answers):
        state.update(row.normalize(answer))
    if lifecycle:
        state.update(normalize_lifecycle(answers[-1]))
    return state


def read(client_for, spec: dict[str, Any], where: Where) -> Optional[dict[str, Any]]:
    """The bucket as it is (``None``: no such bucket), limited to what the
    spec manages. The first answer tells a missing bucket (NoSuchBucket): no
    HeadBucket. The lifecycle is read with the rest when rules are asked for,
    or after the tag when the tag says the collection wrote rules."""
    client = client_for("s3")
    bucket = spec["name"]
    absent = (spec.get("state") or "present") == "absent"
    if absent:
        # Only the tag decides a delete; without delete no setting is read.
        rows = [SETTINGS_TABLE[0]] if spec.get("delete") and not is_adopted(spec) else []
        asked_lifecycle = False
    else:
        rows = managed_settings(spec)
        asked_lifecycle = lifecycle_asked(spec)
    # With nothing to read, GetBucketVersioning tells whether the bucket
    # exists: it never answers an error for one that does.
    probe = not rows and not asked_lifecycle
    try:
        state = _read_rows(client, bucket, [SETTINGS_TABLE[-1]] if probe else rows, asked_lifecycle)
    except AnsibleS3PermissionsError:
        # amazon.aws's handler says AccessDenied in its own words; ours name the option.
        raise ParameterError(
            option(spec, "name"),
            f"the bucket {bucket} exists but these credentials may not read it (AccessDenied){_foreign_bucket_hint(spec)}; nothing was written",
        ) from None
    if state is MISSING:
        return None
    if probe:
        state = {}
    if not absent and not asked_lifecycle and state.get("created_by") == CREATED_BY_WITH_LIFECYCLE:
        rules = get_bucket_lifecycle_rules(client, bucket)
        if rules is MISSING:
            return None
        state.update(normalize_lifecycle(rules))
    return ordered(state)


def _foreign_bucket_hint(spec: dict[str, Any]) -> str:
    """How a bucket of another account is reached, in the caller's words."""
    archive_role = (spec.get("option_names") or {}).get("archive_role")
    if archive_role:
        return f": a bucket of another account (a central log archive) is managed through a role there, {archive_role}"
    return ": a bucket of another account is managed with that account's credentials"


def _adoption_errors(before: Optional[dict[str, Any]], spec: dict[str, Any]) -> None:
    name = spec["name"]
    if is_adopted(spec):
        if before is None:
            raise ParameterError(
                option(spec, "existing"),
                f"is true but no bucket {name} (the {option(spec, 'name')} given) exists where these credentials look"
                f"{_foreign_bucket_hint(spec)}; nothing was written",
            )
        for key, value in asked_settings(spec).items():
            if before.get(key) != value:
                raise ParameterError(
                    option(spec, key),
                    f"would change the adopted bucket's {key} from {before.get(key)} to {value} ({option(spec, 'existing')} is true):"
                    f" leave {option(spec, key)} unset, or let the collection own the bucket; nothing was written",
                )
        return
    if before is not None and before.get("created_by") not in OWNED_MARKS:
        raise ParameterError(
            option(spec, "existing"),
            f"is false but the bucket {name} already exists and was not created by trailops.cloudtrail (it has no {CREATED_BY_TAG} tag;"
            f" its encryption is {before.get('encryption') or 'none'}): set {option(spec, 'existing')} to true to adopt the bucket as it is,"
            f" or tag the bucket {CREATED_BY_TAG}={CREATED_BY} to let the collection own it. Nothing was written",
        )


def _downgrade_error(before: Optional[dict[str, Any]], after: dict[str, Any], spec: dict[str, Any]) -> None:
    if before is None or before.get("encryption") != "aws:kms" or after.get("encryption") == "aws:kms" or spec.get("encryption_downgrade"):
        return
    raise ParameterError(
        option(spec, "encryption_downgrade"),
        f"is false but the bucket {spec['name']} is encrypted with SSE-KMS ({before.get('kms_key_id') or ''}) and the options ask for"
        f" {after.get('encryption')}: set {option(spec, 'kms_key_id')} to keep SSE-KMS, or {option(spec, 'encryption_downgrade')} to true"
        " to downgrade on purpose. Nothing was written",
    )


def plan(before: Optional[dict[str, Any]], wanted: Optional[dict[str, Any]], spec: dict[str, Any], where: Where) -> PartPlan:
    """What to write to take the bucket from ``before`` to ``wanted``. Raises
    ``ParameterError`` for a bucket that is not the collection's to change,
    and for an SSE-KMS downgrade not asked for. A delete is ``plan_delete``'s."""
    if (spec.get("state") or "present") == "absent":
        return PartPlan(before, before)
    wanted = wanted or {}
    _adoption_errors(before, spec)
    base = dict(NEW_BUCKET) if before is None else dict(before)
    after = dict(base)
    after.update({key: value for key, value in wanted.items() if key in SETTINGS})
    _downgrade_error(before, after, spec)

    decided: dict[str, Optional[dict[str, Any]]] = {}
    if "lifecycle" in base:
        current = base["lifecycle"] or {}
        decided = {identifier: rule for identifier, rule in wanted.get("lifecycle", {}).items() if current.get(identifier) != rule}
        merged = dict(current)
        merged.update(decided)
        after["lifecycle"] = {identifier: rule for identifier, rule in sorted(merged.items()) if rule is not None}
    if not is_adopted(spec):
        after["created_by"] = CREATED_BY_WITH_LIFECYCLE if after.get("lifecycle") else CREATED_BY

    steps = []
    if before is None:
        # Every setting is written to a new bucket, whatever S3's defaults
        # of the day are; only versioning is known off on a new bucket.
        steps.append("CreateBucket")
        steps += [row.step for row in SETTINGS_TABLE if row.keys[0] in after and (row.keys[0] != "versioning" or after["versioning"])]
    else:
        steps += [row.step for row in SETTINGS_TABLE if any(key in after and after[key] != base.get(key) for key in row.keys)]
    if decided:
        steps.append(LIFECYCLE_STEP)
    # The state shows the lifecycle exactly when the next read will read it.
    if not lifecycle_asked(spec) and after.get("created_by") != CREATED_BY_WITH_LIFECYCLE:
        after.pop("lifecycle", None)
    return PartPlan(before, ordered(after), steps, {"bucket": spec["name"], "lifecycle": decided})


def apply(client_for, part: PartPlan, where: Where) -> Optional[dict[str, Any]]:
    """Make ``part.steps`` in order. The tag set and the lifecycle are each
    read again just before they are written, so other writers' tags and rules
    are merged from the freshest read, never from the plan's."""
    if not part.steps:
        return part.after
    client = client_for("s3")
    bucket = part.data["bucket"]
    after = part.after or {}
    created = "CreateBucket" in part.steps
    for step in part.steps:
        if step == "CreateBucket":
            create_bucket(client, bucket, where.region)
        elif step == LIFECYCLE_STEP:
            current = None if created else get_bucket_lifecycle_rules(client, bucket)
            put_bucket_lifecycle_rules(client, bucket, merged_lifecycle_rules(current if isinstance(current, list) else [], part.data["lifecycle"]))
        elif step == "DeleteObjects":
            delete_objects(client, bucket, part.data["objects"])
        elif step == "DeleteBucket":
            delete_bucket(client, bucket)
        else:
            next(row for row in SETTINGS_TABLE if row.step == step).put(client, bucket, after)
    return part.after


# ---------------------------------------------------------------- state absent
def read_objects(client_for, spec: dict[str, Any]) -> list[dict[str, str]]:
    """Every version and delete marker in the bucket (read only to delete it)."""
    objects = list_object_versions(client_for("s3"), spec["name"])
    return [] if objects is MISSING else objects


def delete_refusal(before: dict[str, Any], spec: dict[str, Any]) -> None:
    """Refuse to delete an adopted bucket, before its objects are even listed."""
    if is_adopted(spec) or before.get("created_by") not in OWNED_MARKS:
        why = f"{option(spec, 'existing')} is true" if is_adopted(spec) else f"it has no {CREATED_BY_TAG} tag, so trailops.cloudtrail did not create it"
        raise ParameterError(
            option(spec, "delete"), f"is true but the bucket {spec['name']} is adopted ({why}): an adopted bucket is never deleted. Nothing was deleted"
        )


def plan_delete(before: Optional[dict[str, Any]], spec: dict[str, Any], objects: list[dict[str, str]]) -> PartPlan:
    """Delete the bucket and every version in it, only when ``delete`` asks,
    and never an adopted bucket or one holding anything but CloudTrail's own
    files: raises ``ParameterError`` naming ``delete`` and what is there."""
    if before is None or not spec.get("delete"):
        return PartPlan(before, before)
    name = spec["name"]
    delete_refusal(before, spec)
    pattern = cloudtrail_key_pattern(spec)
    foreign = sorted({entry["Key"] for entry in objects if not pattern.match(entry["Key"])})
    if foreign:
        raise ParameterError(
            option(spec, "delete"),
            f"is true but the bucket {name} holds {len(foreign)} objects outside CloudTrail's own prefixes"
            f" ({key_prefix(spec)}AWSLogs/<account or organization id>/{'|'.join(CLOUDTRAIL_FOLDERS)}/), for example {', '.join(foreign[:5])}:"
            " they are not CloudTrail's to delete. Nothing was deleted",
        )
    steps = (["DeleteObjects"] if objects else []) + ["DeleteBucket"]
    return PartPlan(before, None, steps, {"bucket": name, "objects": objects})


# ---------------------------------------------------------------- the trail's statements
def policy_spec(spec: dict[str, Any], where: Where) -> dict[str, Any]:
    """The spec of the bucket policy part (``bucket_policy.BucketPolicyPart``)
    for this bucket's trails. ``deny_insecure_transport`` unset means yes for
    an owned bucket, no for an adopted one, which gets only CloudTrail's
    statements."""
    state = spec.get("state") or "present"
    deny = spec.get("deny_insecure_transport")
    return {
        "bucket": spec["name"],
        "state": state,
        "trails": trail_arns(spec, where) if state == "present" else [],
        "s3_key_prefix": _value(spec, "s3_key_prefix"),
        "organization_id": _value(spec, "organization_id"),
        "deny_insecure_transport": (not is_adopted(spec)) if deny is None else bool(deny),
        "sid_suffix": spec.get("sid_suffix") or bucket_policy.DEFAULT_SID_SUFFIX,
        "option_names": policy_option_names(spec),
    }


def _shown(statements: Optional[dict[str, Any]], bucket: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The module's result names a bucket's policy part ``{"statements": {}}``
    when the bucket exists without our statements, and null without a bucket."""
    return None if bucket is None else (statements or {"statements": {}})


# ---------------------------------------------------------------- the module
OPTIONS = (
    "name", "state", "existing", "trails", "s3_key_prefix", "organization_id", "account_id", "deny_insecure_transport",
    "encryption", "kms_key_id", "versioning", "public_access_block", "object_ownership", "lifecycle_transition_days",
    "lifecycle_storage_class", "lifecycle_expiration_days", "delete", "sid_suffix", "encryption_downgrade",
)


def spec_from_params(params: dict[str, Any]) -> dict[str, Any]:
    """The module's options as the part's spec; ``option_prefix`` names them in messages."""
    spec = {key: params.get(key) for key in OPTIONS}
    prefix = params.get("option_prefix") or ""
    if prefix:
        spec["option_names"] = {key: f"{prefix}{key}" for key in OPTIONS}
    return spec


def _diff(parts: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"before_header": name, "after_header": name, "before": part["before"] or {}, "after": part["after"] or {}}
        for name, part in parts.items()
        if part["changed"]
    ]


def run(module) -> dict[str, Any]:
    """One run of the log_bucket module: check, read, plan, apply (not in
    check mode), and the result. Raises ``ParameterError`` and ``AnsibleAWSError``."""
    spec = spec_from_params(module.params)
    check(spec)
    region = module.region
    if not region:
        raise ParameterError("region", "a region is needed to make the bucket and to name the trails; set region. Nothing was written")
    client_for = Clients(module, region)

    caller: dict[str, str] = {}

    def caller_account() -> str:
        if not caller:
            caller.update(read_caller(client_for("sts")))
        return caller["account"]

    trails = spec.get("trails") or []
    account = _value(spec, "account_id")
    if not account and (spec.get("state") or "present") == "present":
        account = caller_account() if bucket_policy.trails_needing_account(trails) else trails[0].split(":")[4]
    where = Where(account or "", bucket_policy.partition_for_region(region), region, "")

    before = read(client_for, spec, where)
    if (spec.get("state") or "present") == "absent":
        objects: list[dict[str, str]] = []
        if before is not None and spec.get("delete"):
            delete_refusal(before, spec)
            objects = read_objects(client_for, spec)
        part = plan_delete(before, spec, objects)
    else:
        part = plan(before, desired(spec, where), spec, where)
        if "CreateBucket" in part.steps and _value(spec, "account_id"):
            problem = caller_account_error(spec["account_id"], caller_account())
            if problem:
                raise ParameterError("account_id", problem.partition(": ")[2])

    statements = policy_spec(spec, where)
    policy = BucketPolicyPart.plan(BucketPolicyPart.read(client_for, statements, where, before is not None), statements, where, part.after is None)
    if not module.check_mode:
        apply(client_for, part, where)
        # After the bucket is made; a bucket deleted takes its policy with it.
        policy.after = BucketPolicyPart.apply(client_for, policy, statements, where)

    parts = {
        "log_bucket": part.result(),
        "bucket_policy": {"changed": policy.changed, "before": _shown(policy.before, before), "after": _shown(policy.after, part.after)},
    }
    result: dict[str, Any] = {
        "changed": any(value["changed"] for value in parts.values()),
        "bucket": None if part.after is None else dict({"name": spec["name"]}, **part.after),
        "parts": parts,
    }
    if module._diff:
        result["diff"] = _diff(parts)
    return result
