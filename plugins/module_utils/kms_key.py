# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The KMS key a trail encrypts its log files with, as a part of the account
baseline (``parts.py``): the key, its alias, key rotation, and CloudTrail's
statements for this trail merged into the key policy.

The key policy is merged, never replaced: only the statements under this
trail's Sids (``statement_sids``) are the collection's, so two trails can share
a key, and whatever an administrator added stays. A new key gets KMS's own
first statement (the account's root, which lets IAM policies grant access and
keeps the key manageable) beside CloudTrail's; from then on that statement is
the account's, never rewritten.

A new key is made in three calls: CreateKey (with its policy, description and
the tag ``trailops.cloudtrail:alias=<alias>``), CreateAlias, EnableKeyRotation.
A run that failed between the first two left a key without its alias; the
next run finds it by that tag (``find_orphan``) and gives it the alias instead
of making a second key.

A key is never deleted here, not even with the trail: the log files it
encrypted would become unreadable. The one exception is a key this same run
made a moment ago whose alias another run (another account's, sharing a log
archive's key) took first: nothing has used it, and it is scheduled for
deletion.
"""

from __future__ import annotations

import random
import re
import time
from typing import Any
from typing import Callable
from typing import Optional

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.trailops.cloudtrail.plugins.module_utils import policy_statements as ps
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import KNOWN_AFTER_RUN
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import PartErrorHandler
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import PartPlan
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import Where
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import name_from_trail

OPTION = "kms_key_alias"
# The tag a key made here carries from its first call, so that a run that
# failed before CreateAlias can find it again.
ALIAS_TAG = "trailops.cloudtrail:alias"
# CreateKey/PutKeyPolicy API reference (Policy): "The key policy size quota is
# 32 kilobytes (32768 bytes)"; the KMS developer guide's key policy format
# says the same ("Up to 32 kilobytes (32,768 bytes)").
MAX_KEY_POLICY_BYTES = 32 * 1024
# CreateKey API reference: Description, 0 to 8192 characters.
MAX_DESCRIPTION = 8192
# CreateAlias API reference: AliasName 1 to 256 characters, "alias/" then
# letters, digits, "/", "_" and "-"; "alias/aws/" is reserved for AWS managed keys.
MAX_ALIAS = 256
_ALIAS = re.compile(r"alias/[A-Za-z0-9/_-]+")
ROOT_SID = "Enable IAM User Permissions"
# KMS is eventually consistent: a key just made may not be found yet by the
# next call (KMS developer guide, "Eventual consistency"). Calls on a new key
# are retried on NotFoundException for a few seconds.
_NEW_KEY_RETRY = AWSRetry.jittered_backoff(retries=4, delay=1, max_delay=8, catch_extra_error_codes=["NotFoundException"])
KEY_POLICY_ID = "Key policy created by trailops.cloudtrail"


# ---------------------------------------------------------------- names and checks
def default_alias(trail_name: str) -> str:
    """``alias/cloudtrail/<trail>``; a trail name may hold "." where an alias may not."""
    return name_from_trail("alias/cloudtrail/", trail_name)


def alias_of(spec: dict[str, Any], where: Where) -> str:
    return spec.get("alias") or default_alias(where.trail_name)


def check(spec: dict[str, Any], where: Optional[Where] = None) -> None:
    """ParameterError for an alias or description KMS would refuse. No call."""
    alias = spec.get("alias")
    if alias:
        if len(alias) > MAX_ALIAS or not _ALIAS.fullmatch(alias):
            raise ParameterError(
                OPTION,
                f"a KMS alias is 'alias/' and then ASCII letters, digits, '/', '_' or '-', at most {MAX_ALIAS} characters in all"
                f" (got {alias!r}); nothing was written",
            )
        if alias.startswith("alias/aws/"):
            raise ParameterError(OPTION, f"'alias/aws/' is reserved for AWS managed keys, whose policy cannot be changed (got {alias!r}); nothing was written")
    description = spec.get("description")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ParameterError(
            "kms_key.description", f"a KMS key description has at most {MAX_DESCRIPTION} characters (got {len(description)}); nothing was written"
        )


# ---------------------------------------------------------------- statements
def statement_sids(where: Where) -> dict[str, str]:
    """This trail's Sids in the key policy, by role."""
    suffix = ps.trail_sid_suffix(where.trail_name, where.trail_arn)
    return {
        "encrypt": f"AWSCloudTrailEncrypt{suffix}",
        "describe": f"AWSCloudTrailDescribeKey{suffix}",
        "decrypt": f"AWSCloudTrailDecrypt{suffix}",
    }


def desired_statements(where: Where) -> list[dict[str, Any]]:
    """The key policy statements of the CloudTrail user guide ("Configure AWS
    KMS key policies for CloudTrail") for this trail: CloudTrail may generate
    data keys for it (restricted by ``aws:SourceArn``), may describe the key,
    and the account's principals may decrypt its log files."""
    sids = statement_sids(where)
    trail_context = {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{where.partition}:cloudtrail:*:{where.account}:trail/*"}
    return [
        {
            "Sid": sids["encrypt"],
            "Effect": "Allow",
            "Principal": {"Service": ps.SERVICE_PRINCIPAL},
            "Action": "kms:GenerateDataKey*",
            "Resource": "*",
            "Condition": {"StringLike": dict(trail_context), "StringEquals": {"aws:SourceArn": where.trail_arn}},
        },
        {
            # Unconditioned, as the user guide gives it: it grants nothing
            # beyond what the other statements allow.
            "Sid": sids["describe"],
            "Effect": "Allow",
            "Principal": {"Service": ps.SERVICE_PRINCIPAL},
            "Action": "kms:DescribeKey",
            "Resource": "*",
        },
        {
            "Sid": sids["decrypt"],
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": where.account}, "StringLike": dict(trail_context)},
        },
    ]


def creation_policy(where: Where) -> dict[str, Any]:
    """What a new key's policy holds before CloudTrail's statements: KMS's
    default statement for the account. Without it, CreateKey's lockout check
    refuses the policy (the caller could not change it afterwards)."""
    return {
        "Version": ps.DEFAULT_POLICY_VERSION,
        "Id": KEY_POLICY_ID,
        "Statement": [
            {
                "Sid": ROOT_SID,
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{where.partition}:iam::{where.resource_account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


# ---------------------------------------------------------------- desired and plan (pure)
def desired(spec: dict[str, Any], where: Where) -> dict[str, Any]:
    """The key as asked for. Its ARN is known only once it exists."""
    return {
        "alias": alias_of(spec, where),
        "key_arn": KNOWN_AFTER_RUN,
        "description": spec.get("description") or f"CloudTrail log files of the trail {where.trail_name}",
        "enable_key_rotation": True,
        "key_state": "Enabled",
        "statements": {statement["Sid"]: statement for statement in desired_statements(where)},
    }


def _policy_problem(problem: Optional[str]) -> None:
    if problem:
        raise ParameterError(OPTION, problem)


def plan(before: Optional[dict[str, Any]], desired: Optional[dict[str, Any]], spec: dict[str, Any], where: Where) -> PartPlan:
    """The calls that make the key as desired, and the state after them.

    The description is written when the key is made and never afterwards: a
    key found under its alias may be shared by trails whose default
    descriptions differ, and rewriting it on every run would never settle.
    """
    if desired is None:
        # The key outlives the trail (the module docstring says why).
        return PartPlan.kept(before)
    statements = desired_statements(where)
    if before is None:
        policy = ps.merge_policy(None, statements, creation_policy(where))
        _policy_problem(ps.size_error(policy, MAX_KEY_POLICY_BYTES, "key policy"))
        data = {"alias": desired["alias"], "description": desired["description"], "policy": policy}
        return PartPlan(None, dict(desired), ["CreateKey", "CreateAlias", "EnableKeyRotation"], data)

    label = before["alias"] or f"{before['key_arn']} (the key without an alias this run would give {desired['alias']})"
    if before["key_state"] != "Enabled":
        raise ParameterError(
            OPTION,
            f"the KMS key {label} is {before['key_state']}: CloudTrail cannot encrypt with it. Enable it (or cancel its deletion),"
            " or choose another kms_key_alias; nothing was written",
        )
    merged, problem = ps.merge_checked(
        ps.read_policy(before, ps.DEFAULT_POLICY_VERSION), statements, creation_policy(where), MAX_KEY_POLICY_BYTES, f"key policy of {label}"
    )
    _policy_problem(problem)
    steps = []
    if before["alias"] is None:
        steps.append("CreateAlias")
    if merged is not None:
        steps.append("PutKeyPolicy")
    if not before["enable_key_rotation"]:
        steps.append("EnableKeyRotation")
    after = {
        "alias": desired["alias"],
        "key_arn": before["key_arn"],
        "description": before["description"],
        "enable_key_rotation": True,
        "key_state": "Enabled",
        "statements": ps.view(before.get("statements") or {}, statements),
    }
    # The result shows a plain dict: the read policy stays here.
    return PartPlan(dict(before), after, steps, {"alias": desired["alias"], "key_arn": before["key_arn"]})


# ---------------------------------------------------------------- KMS calls
class AnsibleKmsKeyError(AnsibleAWSError):
    pass


class KmsKeyErrorHandler(PartErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleKmsKeyError
    MISSING_CODE = "NotFoundException"


@KmsKeyErrorHandler.list_error_handler("describe the KMS key")
def describe_key(kms, key_id: str) -> Optional[dict[str, Any]]:
    """The key's metadata, or ``None`` when no key or alias ``key_id`` exists."""
    return kms.describe_key(aws_retry=True, KeyId=key_id)["KeyMetadata"]


@KmsKeyErrorHandler.common_error_handler("describe a KMS key without an alias")
def describe_candidate(kms, key_id: str) -> Optional[dict[str, Any]]:
    """A key of the account's list, or ``None`` when its policy does not let
    us see it (then it is none of ours: ours delegate to the account)."""
    try:
        return kms.describe_key(aws_retry=True, KeyId=key_id)["KeyMetadata"]
    except is_boto3_error_code(["AccessDeniedException", "NotFoundException"]):
        return None


@KmsKeyErrorHandler.common_error_handler("get the key policy")
def get_key_policy(kms, key_id: str) -> str:
    return kms.get_key_policy(aws_retry=True, KeyId=key_id, PolicyName="default")["Policy"]


@KmsKeyErrorHandler.common_error_handler("get the key rotation status")
def get_key_rotation_status(kms, key_id: str) -> bool:
    return bool(kms.get_key_rotation_status(aws_retry=True, KeyId=key_id)["KeyRotationEnabled"])


def _all_pages(call, key: str, **params) -> list[dict[str, Any]]:
    """Every page of a KMS list call (Marker/NextMarker), each page retried."""
    items: list[dict[str, Any]] = []
    while True:
        page = call(aws_retry=True, **params)
        items.extend(page.get(key, []))
        if not page.get("Truncated") or not page.get("NextMarker"):
            return items
        params["Marker"] = page["NextMarker"]


@KmsKeyErrorHandler.common_error_handler("list the KMS aliases")
def list_aliases(kms) -> list[dict[str, Any]]:
    return _all_pages(kms.list_aliases, "Aliases")


@KmsKeyErrorHandler.common_error_handler("list the KMS keys")
def list_keys(kms) -> list[dict[str, Any]]:
    return _all_pages(kms.list_keys, "Keys")


@KmsKeyErrorHandler.common_error_handler("list a KMS key's tags")
def list_resource_tags(kms, key_id: str) -> dict[str, str]:
    try:
        tags = _all_pages(kms.list_resource_tags, "Tags", KeyId=key_id)
    except is_boto3_error_code(["AccessDeniedException", "NotFoundException"]):
        return {}
    return boto3_tag_list_to_ansible_dict(tags, tag_name_key_name="TagKey", tag_value_key_name="TagValue")


@KmsKeyErrorHandler.common_error_handler("create the KMS key")
def create_key(kms, policy: dict[str, Any], description: str, alias: str) -> dict[str, Any]:
    return kms.create_key(
        aws_retry=True,
        Policy=ps.serialize_policy(policy),
        Description=description,
        KeyUsage="ENCRYPT_DECRYPT",
        KeySpec="SYMMETRIC_DEFAULT",
        Tags=ansible_dict_to_boto3_tag_list({ALIAS_TAG: alias}, tag_name_key_name="TagKey", tag_value_key_name="TagValue"),
        BypassPolicyLockoutSafetyCheck=False,
    )["KeyMetadata"]


@KmsKeyErrorHandler.common_error_handler("create the KMS alias")
@_NEW_KEY_RETRY
def create_alias(kms, alias: str, key_id: str) -> None:
    kms.create_alias(aws_retry=True, AliasName=alias, TargetKeyId=key_id)


@KmsKeyErrorHandler.common_error_handler("put the key policy")
def put_key_policy(kms, key_id: str, policy: dict[str, Any]) -> None:
    kms.put_key_policy(aws_retry=True, KeyId=key_id, PolicyName="default", Policy=ps.serialize_policy(policy), BypassPolicyLockoutSafetyCheck=False)


@KmsKeyErrorHandler.common_error_handler("enable key rotation")
@_NEW_KEY_RETRY
def enable_key_rotation(kms, key_id: str) -> None:
    kms.enable_key_rotation(aws_retry=True, KeyId=key_id)


# ---------------------------------------------------------------- read
def _usable_problem(meta: dict[str, Any], label: str) -> Optional[str]:
    """Why CloudTrail could never use the key, whatever its policy says."""
    if meta.get("KeyManager") == "AWS":
        return f"{label} names an AWS managed key, whose policy cannot be changed; nothing was written"
    if meta.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT" or meta.get("KeyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
        return f"{label} names a {meta.get('KeySpec')} key; CloudTrail encrypts only with a symmetric encryption key; nothing was written"
    return None


def read_key(kms, meta: dict[str, Any], alias: Optional[str], where: Where) -> dict[str, Any]:
    """The key's normalized state. A key that is not Enabled is not read
    further (KMS refuses some reads of a key pending deletion): the plan
    refuses it, naming its state."""
    problem = _usable_problem(meta, alias or meta["Arn"])
    if problem:
        raise ParameterError(OPTION, problem)
    fields = dict(
        alias=alias,
        key_arn=meta["Arn"],
        description=meta.get("Description") or "",
        enable_key_rotation=None,
        key_state=meta.get("KeyState"),
    )
    if fields["key_state"] != "Enabled":
        return dict(fields, statements={})
    try:
        policy = ps.parse_policy(get_key_policy(kms, meta["KeyId"]), f"key policy of {alias or meta['Arn']}")
    except ps.PolicyDocumentError as e:
        raise ParameterError(OPTION, f"{e}; nothing was written") from None
    fields["enable_key_rotation"] = get_key_rotation_status(kms, meta["KeyId"])
    return ps.PolicyState.of(policy, set(statement_sids(where).values()), **fields)


def find_orphan(kms, alias: str) -> Optional[dict[str, Any]]:
    """A key made here for ``alias`` that has no alias (a run failed before
    CreateAlias), or ``None``. Only keys without any alias are looked at
    closer: ListAliases once, ListKeys, then DescribeKey and
    ListResourceTags for each of those. Of several, the oldest."""
    aliased = {entry.get("TargetKeyId") for entry in list_aliases(kms)}
    found = []
    for key in list_keys(kms):
        if key["KeyId"] in aliased:
            continue
        meta = describe_candidate(kms, key["KeyId"])
        # Only an Enabled key is adopted: one someone disabled or scheduled
        # for deletion was put aside on purpose.
        if meta is None or meta.get("KeyManager") != "CUSTOMER" or meta.get("KeyState") != "Enabled":
            continue
        if list_resource_tags(kms, key["KeyId"]).get(ALIAS_TAG) == alias:
            found.append(meta)
    if not found:
        return None
    return min(found, key=lambda meta: (str(meta.get("CreationDate", "")), meta["KeyId"]))


def read(client_for, spec: dict[str, Any], where: Where) -> Optional[dict[str, Any]]:
    """The key under the alias: DescribeKey by alias (its answer names the
    key), GetKeyPolicy, GetKeyRotationStatus; no call answers an error when
    the key exists. Without the alias, a key of ours left without one (its
    ``alias`` is ``None``), else ``None``."""
    kms = client_for("kms")
    alias = alias_of(spec, where)
    meta = describe_key(kms, alias)
    if meta is not None:
        return read_key(kms, meta, alias, where)
    orphan = find_orphan(kms, alias)
    if orphan is not None:
        return read_key(kms, orphan, None, where)
    return None


# ---------------------------------------------------------------- apply
def _fresh_merge(kms, key_id: str, label: str, where: Where) -> Optional[dict[str, Any]]:
    """The key policy as read now with our statements merged, or ``None``
    when it already holds them. Merged from a fresh read, so a statement
    someone added since the plan's read is kept."""
    try:
        current = ps.parse_policy(get_key_policy(kms, key_id), f"key policy of {label}")
    except ps.PolicyDocumentError as e:
        raise AnsibleKmsKeyError(message=f"{OPTION}: {e}") from None
    merged, problem = ps.merge_checked(current, desired_statements(where), creation_policy(where), MAX_KEY_POLICY_BYTES, f"key policy of {label}")
    if problem:
        raise AnsibleKmsKeyError(message=f"{OPTION}: {problem}")
    return merged


def apply(client_for, plan: PartPlan, where: Where) -> dict[str, Any]:
    """Make ``plan.steps`` in order; the key's state after them."""
    kms = client_for("kms")
    alias = plan.data["alias"]
    if "CreateKey" in plan.steps:
        meta = create_key(kms, plan.data["policy"], plan.data["description"], alias)
        key_id, key_arn = meta["KeyId"], meta["Arn"]
    else:
        key_id = key_arn = plan.data["key_arn"]
    for step in plan.steps:
        if step == "CreateAlias":
            _create_alias_of_new_key(kms, alias, key_id, "CreateKey" in plan.steps)
        elif step == "PutKeyPolicy":
            settle_key_policy(kms, key_id, alias, where)
        elif step == "EnableKeyRotation":
            enable_key_rotation(kms, key_id)
    return dict(plan.after, key_arn=key_arn)


# ---------------------------------------------------------------- a key many runs share
# A log-archive key is shared by the trails of many accounts, whose runs merge
# into its one policy at the same time. PutKeyPolicy is not conditional, so a
# write can be lost to another writer's: after each write the policy is read
# back and, when our statements are missing, merged again from that read.
KEY_POLICY_ATTEMPTS = 8
_SETTLE_SECONDS = 0.3


class KeyAliasTaken(AnsibleKmsKeyError):
    """Another run gave the alias to its key after our read found none."""


def _create_alias_of_new_key(kms, alias: str, key_id: str, made_now: bool) -> None:
    """CreateAlias; when another run of the same baseline gave the alias to
    its own key first, ``KeyAliasTaken`` tells the caller to read the part
    again, and a key we made a moment ago (which nothing has used) is
    scheduled for deletion."""
    try:
        create_alias(kms, alias, key_id)
    except AnsibleKmsKeyError as e:
        code = (getattr(e.exception, "response", None) or {}).get("Error", {}).get("Code")
        if code != "AlreadyExistsException":
            raise
        if made_now:
            schedule_key_deletion(kms, key_id)
        raise KeyAliasTaken(message=f"{OPTION}: another run made the key {alias} first") from None


@KmsKeyErrorHandler.common_error_handler("schedule the deletion of the KMS key")
def schedule_key_deletion(kms, key_id: str) -> None:
    kms.schedule_key_deletion(aws_retry=True, KeyId=key_id, PendingWindowInDays=7)


def settle_key_policy(kms, key_id: str, label: str, where: Where, pause: Callable[[float], None] = time.sleep) -> None:
    """Merge our statements into the key policy from a fresh read, write, and
    read back until a read holds them: at most ``KEY_POLICY_ATTEMPTS`` writes,
    with full-jitter backoff between attempts. Other statements are never
    removed (each write is merged from the read just before it)."""
    for attempt in range(KEY_POLICY_ATTEMPTS):
        merged = _fresh_merge(kms, key_id, label, where)
        if merged is None:
            return
        if attempt:
            pause(random.uniform(0, min(5.0, 0.25 * 2**attempt)))
            merged = _fresh_merge(kms, key_id, label, where)
            if merged is None:
                return
        put_key_policy(kms, key_id, merged)
        pause(_SETTLE_SECONDS)
    if _fresh_merge(kms, key_id, label, where) is not None:
        raise AnsibleKmsKeyError(
            message=(
                f"{OPTION}: the key policy of {label} still lacks this trail's statements after {KEY_POLICY_ATTEMPTS} writes:"
                " other writers keep replacing it"
            )
        )
