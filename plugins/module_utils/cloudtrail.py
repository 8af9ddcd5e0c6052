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

import ipaddress
import re
from typing import Any
from typing import Optional

from ansible.module_utils.basic import env_fallback

from ansible_collections.amazon.aws.plugins.module_utils.arn import parse_aws_arn
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

# ListTags accepts at most this many trail ARNs per call.
LIST_TAGS_BATCH = 20

_TRAIL_NAME = re.compile(r"^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$")


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
    if not _TRAIL_NAME.match(name):
        return (
            "may contain only ASCII letters, digits, '.', '_' and '-', must start and end"
            " with a letter or digit, and must not have two punctuation characters in a row"
        )
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return None
    return "must not be an IP address"


def home_region_of(trail: dict[str, Any]) -> Optional[str]:
    """The trail's home region: ``HomeRegion``, else the region in its
    ``TrailARN`` (a trail's ARN always names its home region)."""
    if trail.get("HomeRegion"):
        return trail["HomeRegion"]
    details = parse_aws_arn(trail.get("TrailARN") or "") or {}
    return details.get("region") or None


# Transient answers AWSRetry does not retry by itself: JSON services (CloudTrail,
# KMS) throttle with ThrottlingException, S3 with SlowDown, and a 5xx answer
# without an AWS error document (a load balancer's 502/504) has its status as code.
TRANSIENT_ERROR_CODES = ["ThrottlingException", "SlowDown", "500", "502", "503", "504"]


def transient_retry():
    """AWSRetry's jittered backoff, also on the transient answers above: up to
    10 retries, each after a random wait of up to 1, 2, 4, ... 30 seconds."""
    return AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=30, catch_extra_error_codes=TRANSIENT_ERROR_CODES)


def cloudtrail_retry():
    """The retry decorator every CloudTrail client is built with (CloudTrail
    allows 1 write call a second)."""
    return transient_retry()


def client_for_region(module, region: str):
    """A CloudTrail client for ``region`` with the module's connection options."""
    return module.client("cloudtrail", region=region, retry_decorator=cloudtrail_retry())


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
def get_insight_selectors(client, trail_arn: str) -> list[dict[str, Any]]:
    try:
        response = client.get_insight_selectors(aws_retry=True, TrailName=trail_arn)
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
