"""Helpers for the scenarios' verify scripts: boto3 clients on the local AWS
(the endpoint comes from AWS_ENDPOINT_URL, which molecule passes on), and
small readers that return the real state, never a task's result."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import boto3
from botocore.exceptions import ClientError

REGION = os.environ.get("AWS_REGION", "us-east-1")


def client(service: str, region: str = REGION):
    return boto3.client(service, region_name=region, endpoint_url=os.environ["AWS_ENDPOINT_URL"])


def account() -> str:
    return client("sts").get_caller_identity()["Account"]


def trail(name: str) -> dict[str, Any] | None:
    """GetTrail: exactly the named trail, or None."""
    try:
        return client("cloudtrail").get_trail(Name=name)["Trail"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "TrailNotFoundException":
            return None
        raise


def bucket_policy(bucket: str) -> dict[str, Any]:
    try:
        return json.loads(client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as error:
        if error.response["Error"]["Code"] == "NoSuchBucketPolicy":
            return {}
        raise


def statements_by_sid(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {statement.get("Sid", ""): statement for statement in policy.get("Statement", [])}


def cloudtrail_statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements that grant cloudtrail.amazonaws.com something."""
    return [
        statement
        for statement in policy.get("Statement", [])
        if isinstance(statement.get("Principal"), dict) and statement["Principal"].get("Service") == "cloudtrail.amazonaws.com"
    ]


class Checks:
    """Collects failed expectations and reports them all at once."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def expect(self, condition: bool, what: str, actual: Any = None) -> None:
        if not condition:
            self.failures.append(f"{what} (got {actual!r})")

    def equal(self, actual: Any, expected: Any, what: str) -> None:
        if actual != expected:
            self.failures.append(f"{what}: expected {expected!r}, got {actual!r}")

    def done(self) -> None:
        if self.failures:
            print("\n".join(["verify failed:"] + self.failures), file=sys.stderr)
            sys.exit(1)
        print("verify passed")
