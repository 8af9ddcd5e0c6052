"""Set-up for tests that need what a trail points at, made the way CloudTrail
requires it (policies from ``tests.local_aws.policies``): a log bucket, a KMS
key with an alias, an SNS topic, a CloudWatch Logs group with its role."""

from __future__ import annotations

import dataclasses
import json
from typing import Optional, Sequence

from tests.local_aws.policies import cloudtrail_bucket_policy
from tests.local_aws.policies import cloudtrail_kms_key_policy
from tests.local_aws.policies import cloudtrail_sns_topic_policy
from tests.local_aws.server import ACCOUNT_ID, REGION


def make_log_bucket(
    aws,
    bucket: str,
    *,
    account: str = ACCOUNT_ID,
    prefixes: Sequence[Optional[str]] = (None,),
    region: str = REGION,
) -> str:
    """A bucket CloudTrail may write to under each of ``prefixes`` (``None``: no prefix)."""
    s3 = aws.client("s3", region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    policy = cloudtrail_bucket_policy(bucket, account)
    for prefix in prefixes:
        if prefix:
            extra = cloudtrail_bucket_policy(bucket, account, prefix=prefix)["Statement"][1]
            policy["Statement"].append(dict(extra, Sid=f"AWSCloudTrailWrite{len(policy['Statement'])}"))
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    return bucket


@dataclasses.dataclass(frozen=True)
class KmsKey:
    key_id: str
    key_arn: str
    alias_name: str
    alias_arn: str


def make_kms_key(aws, alias: str, *, account: str = ACCOUNT_ID, region: str = REGION) -> KmsKey:
    """A KMS key whose policy lets CloudTrail encrypt, with ``alias/<alias>``."""
    kms = aws.client("kms", region)
    meta = kms.create_key(Policy=json.dumps(cloudtrail_kms_key_policy(account)), Description=f"CloudTrail logs ({alias})")["KeyMetadata"]
    alias_name = f"alias/{alias}"
    kms.create_alias(AliasName=alias_name, TargetKeyId=meta["KeyId"])
    return KmsKey(
        key_id=meta["KeyId"],
        key_arn=meta["Arn"],
        alias_name=alias_name,
        alias_arn=f"arn:aws:kms:{region}:{account}:{alias_name}",
    )


def make_sns_topic(aws, name: str, *, region: str = REGION) -> str:
    """An SNS topic CloudTrail may publish to; returns its ARN."""
    sns = aws.client("sns", region)
    arn = sns.create_topic(Name=name)["TopicArn"]
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(cloudtrail_sns_topic_policy(arn)))
    return arn


def make_log_group(aws, name: str, *, account: str = ACCOUNT_ID, region: str = REGION) -> tuple[str, str]:
    """A CloudWatch Logs group and a role CloudTrail can assume to write to it:
    (log group ARN as CloudTrail shows it, role ARN)."""
    logs = aws.client("logs", region)
    logs.create_log_group(logGroupName=name)
    (group,) = [g for g in logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"] if g["logGroupName"] == name]
    group_arn = group["arn"] if group["arn"].endswith(":*") else group["arn"] + ":*"
    iam = aws.client("iam", region)
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    role_name = f"CloudTrailToLogs-{name.replace('/', '-')}"[:64]
    role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    write = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": group_arn}],
    }
    iam.put_role_policy(RoleName=role_name, PolicyName="deliver", PolicyDocument=json.dumps(write))
    return group_arn, role_arn
