"""encrypted: log files encrypted with the role's KMS key (whose policy lets
CloudTrail use it), events delivered to CloudWatch Logs through the role's IAM
role, a notification to the role's SNS topic, whose policy lets CloudTrail
publish."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shared"))
from checks import Checks, account, client, trail  # noqa: E402

checks = Checks()
account_id = account()
trail_arn = f"arn:aws:cloudtrail:us-east-1:{account_id}:trail/encrypted-trail"
found = trail("encrypted-trail") or {}
checks.expect(bool(found), "the trail encrypted-trail exists")

kms = client("kms")
key = kms.describe_key(KeyId="alias/cloudtrail/encrypted-trail")["KeyMetadata"]
checks.equal(found.get("KmsKeyId"), key["Arn"], "log files encrypted with the role's key (by ARN)")
checks.equal(kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"], True, "key rotation")
key_policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
granted = {
    statement["Action"] if isinstance(statement["Action"], str) else tuple(statement["Action"]): statement
    for statement in key_policy["Statement"]
}
checks.expect("kms:GenerateDataKey*" in granted, "CloudTrail may generate data keys", sorted(map(str, granted)))
encrypt = granted.get("kms:GenerateDataKey*", {})
checks.equal(
    encrypt.get("Condition", {}).get("StringLike", {}).get("kms:EncryptionContext:aws:cloudtrail:arn"),
    f"arn:aws:cloudtrail:*:{account_id}:trail/*",
    "the encryption-context condition",
)
checks.expect("kms:DescribeKey" in granted, "CloudTrail may describe the key")
checks.expect(("kms:Decrypt", "kms:ReEncryptFrom") in granted, "the account's principals may decrypt log files")

topic_arn = f"arn:aws:sns:us-east-1:{account_id}:cloudtrail-encrypted-trail"
checks.equal(found.get("SnsTopicARN"), topic_arn, "notifications to the role's topic")
topic_policy = json.loads(client("sns").get_topic_attributes(TopicArn=topic_arn)["Attributes"]["Policy"])
publish = [s for s in topic_policy["Statement"] if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}]
checks.equal([s["Action"] for s in publish], ["SNS:Publish"], "CloudTrail may publish to the topic")
if publish:
    checks.equal(publish[0]["Condition"]["StringEquals"]["aws:SourceArn"], trail_arn, "publishing restricted to the trail")

group_name = "aws-cloudtrail-logs-encrypted-trail"
checks.equal(
    found.get("CloudWatchLogsLogGroupArn"),
    f"arn:aws:logs:us-east-1:{account_id}:log-group:{group_name}:*",
    "events delivered to the role's log group",
)
groups = client("logs").describe_log_groups(logGroupNamePrefix=group_name)["logGroups"]
checks.equal([g.get("retentionInDays") for g in groups], [90], "the log group's retention")
role_name = "CloudTrailRoleForCloudWatchLogs-encrypted-trail"
checks.equal(found.get("CloudWatchLogsRoleArn"), f"arn:aws:iam::{account_id}:role/{role_name}", "through the role's IAM role")
iam = client("iam")
trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
if isinstance(trust, str):
    trust = json.loads(trust)
checks.equal([s["Principal"] for s in trust["Statement"]], [{"Service": "cloudtrail.amazonaws.com"}], "CloudTrail may assume the role")
inline = iam.get_role_policy(RoleName=role_name, PolicyName="cloudtrail-cloudwatch-logs")["PolicyDocument"]
if isinstance(inline, str):
    inline = json.loads(inline)
checks.equal(
    inline["Statement"][0]["Resource"],
    f"arn:aws:logs:us-east-1:{account_id}:log-group:{group_name}:log-stream:*",
    "the role may write to the log group's streams",
)
tags = client("cloudtrail").list_tags(ResourceIdList=[trail_arn])["ResourceTagList"][0]["TagsList"]
checks.equal(tags, [{"Key": "team", "Value": "security"}], "the trail's tags")
checks.done()
