# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""CloudTrail API wrappers shared by the modules: one function per call, each
retried with jittered backoff on throttling and turning botocore errors into
``AnsibleCloudTrailError``. "Not found" is data (``None``), not an exception.

amazon.aws has no CloudTrail helpers in module_utils; its cloudtrail module
calls the client inline, so these are written here.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from typing import Any
from typing import Optional

from ansible.module_utils.basic import env_fallback

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import REGION
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import check_account_id
from ansible_collections.trailops.cloudtrail.plugins.module_utils.retries import transient_retry

# ListTags accepts at most this many trail ARNs per call.
LIST_TAGS_BATCH = 20

# Matched whole (fullmatch): with ``$`` a trailing newline, as a YAML block
# scalar leaves, passed the check and made a CreateTrail that CloudTrail refused.
_TRAIL_NAME = re.compile(r"[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*")
# arn:<partition>:cloudtrail:<region>:<account>:trail/<name>, matched whole.
_TRAIL_ARN = re.compile(
    rf"arn:(?P<partition>aws(?:-[a-z]+)*):cloudtrail:(?P<region>{REGION}):(?P<account>[0-9]{{12}}):trail/(?P<name>.*)",
    re.DOTALL,
)
TRAIL_ARN_FORM = "arn:<partition>:cloudtrail:<region>:<account id>:trail/<name>"


class AnsibleCloudTrailError(AnsibleAWSError):
    pass


class CloudTrailErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleCloudTrailError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("TrailNotFoundException")


def trail_name_error(name: str) -> Optional[str]:
    """Why ``name`` is not a valid trail name, or ``None``."""
    if not 3 <= len(name) <= 128:
        return "must be 3 to 128 characters long"
    if not _TRAIL_NAME.fullmatch(name):
        return (
            "may contain only ASCII letters, digits, '.', '_' and '-', must start and end"
            " with a letter or digit, and must not have two punctuation characters in a row"
        )
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return None
    return "must not be an IP address"


@dataclasses.dataclass(frozen=True)
class TrailReference:
    """A trail as an option names it: by name, or by ARN (then ``partition``,
    ``region`` and ``account`` are those of the ARN)."""

    name: str
    arn: Optional[str] = None
    partition: Optional[str] = None
    region: Optional[str] = None
    account: Optional[str] = None


def parse_trail_reference(value: str, option: str) -> TrailReference:
    """``value`` as a trail name or trail ARN, or ``ParameterError``
    naming ``option``. The one check every module makes, so that they all
    accept and reject the same names and ARNs."""
    if value.startswith("arn:"):
        match = _TRAIL_ARN.fullmatch(value)
        if not match:
            raise ParameterError(option, f"{value!r} is not a trail ARN ({TRAIL_ARN_FORM})")
        problem = trail_name_error(match["name"])
        if problem:
            raise ParameterError(option, f"{value!r} is not a trail ARN: the trail name in it {problem}")
        return TrailReference(match["name"], value, match["partition"], match["region"], match["account"])
    problem = trail_name_error(value)
    if problem:
        raise ParameterError(option, f"{value!r} is not a valid trail name: it {problem}")
    return TrailReference(value)


def trail_arn(partition: str, region: str, account: str, name: str) -> str:
    """The ARN CloudTrail gives the trail ``name`` made in ``region``."""
    return f"arn:{partition}:cloudtrail:{region}:{account}:trail/{name}"


def trail_reference_error(value: str, option: str) -> Optional[str]:
    """Why ``value`` is neither a trail name nor a trail ARN, or ``None``:
    for the checks that collect every problem (event selectors)."""
    try:
        parse_trail_reference(value, option)
    except ParameterError as e:
        return str(e)
    return None


def foreign_trail_error(reference: TrailReference, option: str, account: Optional[str], partition: Optional[str]) -> Optional[str]:
    """Why a trail ARN must not be written through the caller's credentials:
    it names another account or partition than ``account``/``partition``
    (the caller's, or the account the task is meant for). CloudTrail itself
    would create a trail of that name in the caller's account instead."""
    if reference.arn is None:
        return None
    if account and reference.account != account:
        return (
            f"{option}: the trail ARN {reference.arn!r} is in account {reference.account}, but this task acts in account {account}:"
            " nothing was written (check the credentials, or the ARN)"
        )
    if partition and reference.partition != partition:
        return (
            f"{option}: the trail ARN {reference.arn!r} is in partition {reference.partition}, but this task acts in partition {partition}:"
            " nothing was written"
        )
    return None


def home_region_of(trail: dict[str, Any]) -> Optional[str]:
    """The trail's home region: ``HomeRegion``, else the region in its
    ``TrailARN`` (a trail's ARN always names its home region)."""
    if trail.get("HomeRegion"):
        return trail["HomeRegion"]
    details = parse_aws_arn(trail.get("TrailARN") or "") or {}
    return details.get("region") or None


def client_for_region(module, region: str):
    """A CloudTrail client for ``region`` with the module's connection options."""
    return module.client("cloudtrail", region=region, retry_decorator=transient_retry())


@CloudTrailErrorHandler.list_error_handler("get trail")
def get_trail(client, name_or_arn: str) -> Optional[dict[str, Any]]:
    """The trail as GetTrail returns it (``HomeRegion`` included), or ``None``.

    From any region GetTrail also finds a multi-region trail whose home is
    elsewhere; writes must then go through ``trail["HomeRegion"]``.
    """
    return client.get_trail(aws_retry=True, Name=name_or_arn)["Trail"]


@CloudTrailErrorHandler.list_error_handler("get trail status")
def get_trail_status(client, name_or_arn: str) -> Optional[dict[str, Any]]:
    status = client.get_trail_status(aws_retry=True, Name=name_or_arn)
    status.pop("ResponseMetadata", None)
    return status


@CloudTrailErrorHandler.list_error_handler("describe trails", [])
def describe_trails(client, names: Optional[list[str]] = None, include_shadow_trails: bool = True) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"includeShadowTrails": include_shadow_trails}
    if names:
        params["trailNameList"] = names
    return client.describe_trails(aws_retry=True, **params)["trailList"]


@CloudTrailErrorHandler.list_error_handler("list tags", {})
def list_tags(client, trail_arns: list[str]) -> dict[str, dict[str, str]]:
    """Tags of each trail ARN, as an Ansible dict, batched as ListTags allows."""
    tags: dict[str, dict[str, str]] = {}
    for start in range(0, len(trail_arns), LIST_TAGS_BATCH):
        batch = trail_arns[start:start + LIST_TAGS_BATCH]
        params: dict[str, Any] = {"ResourceIdList": batch}
        while True:
            response = client.list_tags(aws_retry=True, **params)
            for entry in response.get("ResourceTagList", []):
                tags[entry["ResourceId"]] = boto3_tag_list_to_ansible_dict(entry.get("TagsList", []))
            if not response.get("NextToken"):
                break
            params["NextToken"] = response["NextToken"]
    return tags


@CloudTrailErrorHandler.list_error_handler("get event selectors")
def get_event_selectors(client, trail_name_or_arn: str) -> Optional[dict[str, Any]]:
    """GetEventSelectors as CloudTrail answers it, ``TrailARN`` included: by
    name, that ARN tells a trail's home region without a GetTrail."""
    response = client.get_event_selectors(aws_retry=True, TrailName=trail_name_or_arn)
    response.pop("ResponseMetadata", None)
    return response


@CloudTrailErrorHandler.list_error_handler("get insight selectors", [])
def get_insight_selectors(client, arn: str) -> list[dict[str, Any]]:
    try:
        response = client.get_insight_selectors(aws_retry=True, TrailName=arn)
    except is_boto3_error_code("InsightNotEnabledException"):
        return []
    return response.get("InsightSelectors") or []


def home_region_client(module, client, region: str, trail: Optional[dict[str, Any]]):
    """The client to write ``trail`` with: its home region's, which is not the
    current region for a multi-region trail created elsewhere."""
    home = home_region_of(trail) if trail else None
    if home and home != region:
        return client_for_region(module, home)
    return client


def with_hidden_access_key(argument_spec: dict[str, Any]) -> dict[str, Any]:
    """``argument_spec`` plus amazon.aws's ``access_key`` option with ``no_log``:
    amazon.aws leaves it loggable, so ``-vvv`` printed the key id in every
    module invocation. Same names, aliases and fallback as amazon.aws's."""
    spec = dict(argument_spec)
    spec["access_key"] = dict(
        aliases=["aws_access_key_id", "aws_access_key"],
        fallback=(env_fallback, ["AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"]),
        no_log=True,
    )
    return spec


@AWSErrorHandler.common_error_handler("get the caller identity")
def read_caller(sts_client) -> dict[str, str]:
    """The account, ARN, user id and partition the credentials act in."""
    identity = sts_client.get_caller_identity(aws_retry=True)
    return {
        "account": identity["Account"],
        "arn": identity["Arn"],
        "user_id": identity["UserId"],
        "partition": identity["Arn"].split(":")[1],
    }


def caller_account_error(account_id: Optional[str], caller_account: str) -> Optional[str]:
    """Why credentials of ``caller_account`` must not act for a task meant
    for ``account_id``, or ``None``."""
    if account_id is None or account_id == "":
        return None
    try:
        check_account_id(account_id)
    except ParameterError as e:
        return str(e)
    if account_id != caller_account:
        return (
            f"account_id: the task is meant for account {account_id}, but its credentials act in account {caller_account}:"
            " nothing was written (check the credentials the task gets)"
        )
    return None
