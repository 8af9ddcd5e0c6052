"""Module scenarios the reliability tests run with and without faults: the
set-up made with boto3, the module steps, and the state read back (without
what changes by itself, such as times)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

from tests.integration.setup_helpers import make_log_bucket
from tests.local_aws.server import ACCOUNT_ID, REGION

TRAIL = "reliability-trail"
BUCKET = "reliability-logs"
PREFIXES = (None, "logs", "other")
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/{TRAIL}"


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    setup: Callable[[Any], None]
    steps: list[tuple[str, dict[str, Any]]]

    def __str__(self) -> str:
        return self.name


# The tests' own reads go unfaulted: the fault rules name the modules' key.
READER = {"aws_access_key_id": "reliability-reader"}


def read_state(aws, client: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """Every trail with its status, tags and selectors, and the bucket policy
    (through ``client(service)`` if given: another account's, say)."""
    client = client or (lambda service: aws.client(service, **READER))
    cloudtrail = client("cloudtrail")
    state: dict[str, Any] = {"trails": {}}
    for trail in cloudtrail.describe_trails()["trailList"]:
        arn = trail["TrailARN"]
        selectors = cloudtrail.get_event_selectors(TrailName=arn)
        selectors.pop("ResponseMetadata", None)
        try:
            insights = cloudtrail.get_insight_selectors(TrailName=arn).get("InsightSelectors", [])
        except cloudtrail.exceptions.InsightNotEnabledException:
            insights = []
        tags = cloudtrail.list_tags(ResourceIdList=[arn])["ResourceTagList"]
        state["trails"][trail["Name"]] = {
            "trail": trail,
            "is_logging": cloudtrail.get_trail_status(Name=arn)["IsLogging"],
            "tags": sorted((t["Key"], t["Value"]) for entry in tags for t in entry.get("TagsList", [])),
            "selectors": selectors,
            "insights": insights,
        }
    s3 = client("s3")
    for bucket in s3.list_buckets()["Buckets"]:
        try:
            state[bucket["Name"]] = json.loads(s3.get_bucket_policy(Bucket=bucket["Name"])["Policy"])
        except s3.exceptions.ClientError:
            state[bucket["Name"]] = None
    return state


def _bucket(aws) -> None:
    make_log_bucket(aws, BUCKET, prefixes=PREFIXES)


def _bucket_only(aws) -> None:
    aws.client("s3").create_bucket(Bucket=BUCKET)


def _trail(aws) -> None:
    make_log_bucket(aws, BUCKET, prefixes=PREFIXES)
    aws.client("cloudtrail").create_trail(Name=TRAIL, S3BucketName=BUCKET, IsMultiRegionTrail=True)


TRAIL_CREATE = {
    "name": TRAIL,
    "s3_bucket_name": BUCKET,
    "s3_key_prefix": "logs",
    "is_multi_region_trail": True,
    "include_global_service_events": True,
    "enable_log_file_validation": True,
    "enable_logging": True,
    "tags": {"team": "security", "cost-center": "42"},
}

SCENARIOS = [
    Scenario("trail-create", _bucket, [("trail", TRAIL_CREATE)]),
    Scenario(
        "trail-update",
        _trail,
        [("trail", dict(TRAIL_CREATE, s3_key_prefix="other", enable_log_file_validation=False, tags={"team": "audit"}))],
    ),
    Scenario("trail-absent", _trail, [("trail", {"name": TRAIL, "state": "absent"})]),
    Scenario(
        "bucket_policy",
        _bucket_only,
        [("bucket_policy", {"bucket": BUCKET, "trails": [TRAIL_ARN], "s3_key_prefix": "logs", "deny_insecure_transport": True})],
    ),
    Scenario(
        "event_selectors",
        _trail,
        [
            (
                "event_selectors",
                {
                    "trail_name": TRAIL,
                    "event_selectors": [
                        {"read_write_type": "WriteOnly", "data_resources": [{"type": "AWS::S3::Object", "values": [f"arn:aws:s3:::{BUCKET}/"]}]}
                    ],
                    "insight_selectors": [{"insight_type": "ApiCallRateInsight"}],
                },
            )
        ],
    ),
]
