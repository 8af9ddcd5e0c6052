"""Policies CloudTrail needs, as the CloudTrail user guide gives them.

Tests use these to set up a bucket, a KMS key or an SNS topic that CloudTrail
(and the fidelity layer, which checks them the same way) accepts.
"""

from __future__ import annotations

from typing import Any, Sequence

SERVICE_PRINCIPAL = "cloudtrail.amazonaws.com"


def _source_arn_condition(trail_arns: Sequence[str] | None) -> dict[str, Any]:
    if not trail_arns:
        return {}
    arns = list(trail_arns)
    return {"aws:SourceArn": arns[0] if len(arns) == 1 else arns}


def cloudtrail_log_prefix(bucket: str, account: str, prefix: str | None = None) -> str:
    """The object ARN pattern CloudTrail writes log files under."""
    middle = f"{prefix.strip('/')}/" if prefix else ""
    return f"arn:aws:s3:::{bucket}/{middle}AWSLogs/{account}/*"


def cloudtrail_bucket_policy(
    bucket: str,
    account: str,
    prefix: str | None = None,
    trail_arns: Sequence[str] | None = None,
    organization_id: str | None = None,
) -> dict[str, Any]:
    """The bucket policy of the user guide: an ACL check on the bucket and a
    write under ``[prefix/]AWSLogs/<account>/*`` (and ``AWSLogs/<org id>/*``
    for organization trails), optionally restricted to ``trail_arns``."""
    source = _source_arn_condition(trail_arns)
    acl_check: dict[str, Any] = {
        "Sid": "AWSCloudTrailAclCheck20150319",
        "Effect": "Allow",
        "Principal": {"Service": SERVICE_PRINCIPAL},
        "Action": "s3:GetBucketAcl",
        "Resource": f"arn:aws:s3:::{bucket}",
    }
    if source:
        acl_check["Condition"] = {"StringEquals": dict(source)}
    write_resources = [cloudtrail_log_prefix(bucket, account, prefix)]
    if organization_id:
        write_resources.append(cloudtrail_log_prefix(bucket, organization_id, prefix))
    write: dict[str, Any] = {
        "Sid": "AWSCloudTrailWrite20150319",
        "Effect": "Allow",
        "Principal": {"Service": SERVICE_PRINCIPAL},
        "Action": "s3:PutObject",
        "Resource": write_resources[0] if len(write_resources) == 1 else write_resources,
        "Condition": {"StringEquals": dict({"s3:x-amz-acl": "bucket-owner-full-control"}, **source)},
    }
    return {"Version": "2012-10-17", "Statement": [acl_check, write]}


def cloudtrail_kms_key_policy(account: str, trail_arns: Sequence[str] | None = None) -> dict[str, Any]:
    """The key policy of the user guide ("Configure AWS KMS key policies for
    CloudTrail"): account administration, CloudTrail may generate data keys
    for this account's trails and describe the key, and the account's
    principals may decrypt the log files."""
    trail_context = {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{account}:trail/*"}
    encrypt_condition: dict[str, Any] = {"StringLike": trail_context}
    source = _source_arn_condition(trail_arns)
    if source:
        encrypt_condition["StringEquals"] = source
    return {
        "Version": "2012-10-17",
        "Id": "Key policy created by CloudTrail",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "Allow CloudTrail to encrypt logs",
                "Effect": "Allow",
                "Principal": {"Service": SERVICE_PRINCIPAL},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": encrypt_condition,
            },
            {
                "Sid": "Allow CloudTrail to describe key",
                "Effect": "Allow",
                "Principal": {"Service": SERVICE_PRINCIPAL},
                "Action": "kms:DescribeKey",
                "Resource": "*",
            },
            {
                "Sid": "Allow principals in the account to decrypt log files",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Decrypt", "kms:ReEncryptFrom"],
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:CallerAccount": account}, "StringLike": dict(trail_context)},
            },
        ],
    }


def cloudtrail_sns_topic_policy(topic_arn: str, trail_arns: Sequence[str] | None = None) -> dict[str, Any]:
    """The topic policy of the user guide: CloudTrail may publish to the topic."""
    statement: dict[str, Any] = {
        "Sid": "AWSCloudTrailSNSPolicy20131101",
        "Effect": "Allow",
        "Principal": {"Service": SERVICE_PRINCIPAL},
        "Action": "SNS:Publish",
        "Resource": topic_arn,
    }
    source = _source_arn_condition(trail_arns)
    if source:
        statement["Condition"] = {"StringEquals": source}
    return {"Version": "2012-10-17", "Statement": [statement]}
