"""The `baseline` module against the local AWS: one run makes a whole
account's CloudTrail set-up; the next makes no write and no call that answers
an error; check mode writes nothing and predicts what the real run does;
out-of-band changes to every part show before and after. Each test reads the
real state back with boto3 and counts the calls on the server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.fleet_helpers import ROLE_ARN_TEMPLATE, account_client, make_organization
from tests.local_aws.fidelity.faults import inject_faults
from tests.local_aws.server import ACCOUNT_ID, REGION

NAME = "management-events"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/{NAME}"
KNOWN_AFTER_RUN = "(known after the run)"

EVERYTHING = {
    "name": NAME,
    "region": REGION,
    "kms_key_create": True,
    "sns_topic_create": True,
    "cloudwatch_logs_create": True,
    "cloudwatch_logs_retention_days": 365,
    "event_selectors_preset": "management_events",
    "insight_selectors": [],
}


def writes(calls) -> list[str]:
    return [f"{c.service}:{c.action}" for c in calls if c.is_write and c.action != "AssumeRole"]


def run_counted(aws, run_module, params: dict[str, Any], **kwargs) -> tuple[dict[str, Any], list, list]:
    """The module's result, the calls the server received, and the error answers."""
    aws.start_recording()
    result = run_module("baseline", params, **kwargs)
    calls = aws.stop_recording()
    return result, calls, aws.error_responses()


def bucket_of(result: dict[str, Any]) -> str:
    return (result["parts"]["log_bucket"]["after"] or result["parts"]["log_bucket"]["before"])["name"]


def assert_predicted(predicted, made, where: str = "") -> None:
    """The prediction is what the run made, except what only a write can tell
    (a new key's ARN, and what is derived from it)."""
    if isinstance(predicted, str) and KNOWN_AFTER_RUN in predicted:
        return
    if isinstance(predicted, dict) and isinstance(made, dict):
        assert set(predicted) == set(made), (where, set(predicted) ^ set(made))
        for key in predicted:
            assert_predicted(predicted[key], made[key], f"{where}.{key}")
        return
    assert predicted == made, (where, predicted, made)


def test_one_run_makes_every_part(aws, run_module):
    result = run_module("baseline", EVERYTHING)
    assert not result["failed"], result.get("msg")
    assert result["changed"] is True
    # A new trail logs all management events already: the selectors need no call.
    assert result["changed_parts"] == ["log_bucket", "bucket_policy", "kms_key", "sns_topic", "cloudwatch_logs", "trail"]

    cloudtrail = aws.client("cloudtrail")
    trail = cloudtrail.get_trail(Name=TRAIL_ARN)["Trail"]
    assert trail["S3BucketName"] == bucket_of(result)
    assert trail["LogFileValidationEnabled"] and trail["IsMultiRegionTrail"]
    assert cloudtrail.get_trail_status(Name=TRAIL_ARN)["IsLogging"]
    key = aws.client("kms").describe_key(KeyId="alias/cloudtrail/management-events")["KeyMetadata"]
    assert trail["KmsKeyId"] == key["Arn"]
    assert trail["SnsTopicARN"] == f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:cloudtrail-management-events"
    assert trail["CloudWatchLogsLogGroupArn"].startswith(f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:aws-cloudtrail-logs-management-events")
    group = aws.client("logs").describe_log_groups(logGroupNamePrefix="aws-cloudtrail-logs-management-events")["logGroups"][0]
    assert group["retentionInDays"] == 365
    policy = json.loads(aws.client("s3").get_bucket_policy(Bucket=bucket_of(result))["Policy"])
    assert any(s["Sid"].startswith("AWSCloudTrailWrite") for s in policy["Statement"])
    assert result["trail_arn"] == TRAIL_ARN and result["account"] == ACCOUNT_ID


def test_a_second_run_makes_no_write_and_no_error(aws, run_module):
    assert not run_module("baseline", EVERYTHING)["failed"]
    result, calls, errors = run_counted(aws, run_module, EVERYTHING)
    assert not result["failed"], result.get("msg")
    assert result["changed"] is False and result["changed_parts"] == []
    assert writes(calls) == []
    assert errors == [], errors


def test_the_quick_trail_second_run_costs_at_most_14_calls_and_no_error(aws, run_module):
    params = {"name": NAME, "region": REGION, "event_selectors_preset": "management_events"}
    assert not run_module("baseline", params)["failed"]
    result, calls, errors = run_counted(aws, run_module, params)
    assert result["changed"] is False
    assert writes(calls) == [] and errors == [], (writes(calls), errors)
    assert len(calls) <= 14, [f"{c.service}:{c.action}" for c in calls]


def test_check_mode_writes_nothing_and_predicts_the_real_run(aws, run_module):
    predicted, calls, dummy = run_counted(aws, run_module, EVERYTHING, check=True, diff=True)
    assert not predicted["failed"], predicted.get("msg")
    assert predicted["changed"] is True
    assert writes(calls) == []
    assert aws.client("cloudtrail").describe_trails()["trailList"] == []
    made = run_module("baseline", EVERYTHING)
    assert made["changed_parts"] == predicted["changed_parts"]
    for part, outcome in made["parts"].items():
        assert_predicted(predicted["parts"][part]["after"], outcome["after"], part)
    assert [d["before_header"] for d in predicted["diff"]] == predicted["changed_parts"]


def _drift_everything(aws, result: dict[str, Any]) -> None:
    """Out-of-band changes to every part, as someone in the console would make them."""
    s3 = aws.client("s3")
    bucket = bucket_of(result)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    policy["Statement"] = [s for s in policy["Statement"] if not s["Sid"].startswith("AWSCloudTrailWrite")]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    kms = aws.client("kms")
    key_id = kms.describe_key(KeyId="alias/cloudtrail/management-events")["KeyMetadata"]["KeyId"]
    key_policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    key_policy["Statement"] = [s for s in key_policy["Statement"] if "cloudtrail.amazonaws.com" not in json.dumps(s.get("Principal"))]
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(key_policy))
    sns = aws.client("sns")
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:cloudtrail-management-events"
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({"Version": "2012-10-17", "Statement": []}))
    aws.client("logs").put_retention_policy(logGroupName="aws-cloudtrail-logs-management-events", retentionInDays=7)
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.update_trail(Name=TRAIL_ARN, EnableLogFileValidation=False)
    cloudtrail.stop_logging(Name=TRAIL_ARN)
    cloudtrail.put_event_selectors(
        TrailName=TRAIL_ARN, EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]
    )


def test_check_mode_on_every_kind_of_drift_writes_nothing_and_shows_before_and_after(aws, run_module):
    made = run_module("baseline", EVERYTHING)
    assert not made["failed"], made.get("msg")
    _drift_everything(aws, made)

    drift, calls, dummy = run_counted(aws, run_module, EVERYTHING, check=True, diff=True)
    assert not drift["failed"], drift.get("msg")
    assert writes(calls) == []
    assert aws.client("logs").describe_log_groups(logGroupNamePrefix="aws-cloudtrail-logs-")["logGroups"][0]["retentionInDays"] == 7
    assert set(drift["changed_parts"]) == {"log_bucket", "bucket_policy", "kms_key", "sns_topic", "cloudwatch_logs", "trail", "event_selectors"}
    parts = drift["parts"]
    assert (parts["log_bucket"]["before"]["versioning"], parts["log_bucket"]["after"]["versioning"]) == (False, True)
    assert (parts["cloudwatch_logs"]["before"]["retention_days"], parts["cloudwatch_logs"]["after"]["retention_days"]) == (7, 365)
    assert (parts["trail"]["before"]["is_logging"], parts["trail"]["after"]["is_logging"]) == (False, True)
    assert (parts["trail"]["before"]["log_file_validation_enabled"], parts["trail"]["after"]["log_file_validation_enabled"]) == (False, True)
    for part in ("bucket_policy", "kms_key", "sns_topic"):
        before = (parts[part]["before"] or {}).get("statements") or {}
        after = parts[part]["after"]["statements"]
        assert set(after) - set(before), part

    repaired = run_module("baseline", EVERYTHING)
    assert set(repaired["changed_parts"]) == set(drift["changed_parts"])
    again, calls, errors = run_counted(aws, run_module, EVERYTHING)
    assert again["changed"] is False and writes(calls) == [] and errors == []


def test_statements_of_others_are_kept_in_every_policy(aws, run_module):
    made = run_module("baseline", EVERYTHING)
    theirs = {"Sid": "TheirAudit", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}}
    s3 = aws.client("s3")
    bucket = bucket_of(made)
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    policy["Statement"].append(dict(theirs, Action="s3:GetObject", Resource=f"arn:aws:s3:::{bucket}/*"))
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    kms = aws.client("kms")
    key_id = kms.describe_key(KeyId="alias/cloudtrail/management-events")["KeyMetadata"]["KeyId"]
    key_policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    key_policy["Statement"].append(dict(theirs, Action="kms:Decrypt", Resource="*"))
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(key_policy))
    aws.client("cloudtrail").update_trail(Name=TRAIL_ARN, EnableLogFileValidation=False)

    assert run_module("baseline", EVERYTHING)["changed_parts"] == ["trail"]
    assert "TheirAudit" in [s.get("Sid") for s in json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]]
    assert "TheirAudit" in [s.get("Sid") for s in json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])["Statement"]]


def test_a_failed_create_alias_then_a_rerun_leaves_exactly_one_key(aws, run_module):
    inject_faults(aws, [{"service": "kms", "action": "CreateAlias", "fault": "throttle", "code": "AccessDeniedException", "limit": 1}])
    failed = run_module("baseline", EVERYTHING)
    assert failed["failed"]
    assert not run_module("baseline", EVERYTHING)["failed"]
    kms = aws.client("kms")
    keys = [k["KeyId"] for k in kms.list_keys()["Keys"] if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] != "PendingDeletion"]
    assert len(keys) == 1
    assert kms.describe_key(KeyId="alias/cloudtrail/management-events")["KeyMetadata"]["KeyId"] == keys[0]


@pytest.mark.parametrize(
    "params, option",
    [
        ({"kms_key_create": True, "kms_key_id": "alias/theirs"}, "kms_key_id"),
        ({"cloudwatch_logs_retention_days": 8, "cloudwatch_logs_create": True}, "cloudwatch_logs_retention_days"),
        ({"s3_bucket_existing": True}, "s3_bucket_existing"),
        (
            {
                "insight_selectors": [{"insight_type": "ApiCallRateInsight"}],
                "event_selectors": [
                    {"include_management_events": False, "data_resources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3"]}]}
                ],
            },
            "insight_selectors",
        ),
    ],
)
def test_bad_input_fails_before_any_call(aws, run_module, params, option):
    result, calls, dummy = run_counted(aws, run_module, dict({"name": NAME, "region": REGION}, **params))
    assert result["failed"]
    assert result["msg"].startswith(f"{option}: "), result["msg"]
    assert calls == []


def test_a_fleet_account_costs_one_run_through_its_role(aws, run_module):
    (member,) = make_organization(aws, 1)
    params = {"name": NAME, "region": REGION, "assume_role_arn": ROLE_ARN_TEMPLATE.format(account_id=member), "account_id": member}
    made = run_module("baseline", params)
    assert not made["failed"], made.get("msg")
    assert made["account"] == member
    trail = account_client(aws, member, "cloudtrail").get_trail(Name=NAME)["Trail"]
    assert trail["TrailARN"] == f"arn:aws:cloudtrail:{REGION}:{member}:trail/{NAME}"
    assert aws.client("cloudtrail").describe_trails()["trailList"] == [], "nothing in the management account"
    # The role's credentials appear nowhere in the result.
    credentials = aws.client("sts").assume_role(RoleArn=params["assume_role_arn"], RoleSessionName="probe")["Credentials"]
    assert credentials["SessionToken"][:12] not in json.dumps(made)


def test_a_role_of_another_account_is_refused_before_any_write(aws, run_module):
    first, second = make_organization(aws, 2)
    params = {"name": NAME, "region": REGION, "assume_role_arn": ROLE_ARN_TEMPLATE.format(account_id=second), "account_id": first}
    result, calls, dummy = run_counted(aws, run_module, params)
    assert result["failed"] and result["msg"].startswith("account_id: ")
    assert writes(calls) == []


def test_absent_deletes_the_trail_and_its_grant_and_keeps_the_logs(aws, run_module):
    made = run_module("baseline", EVERYTHING)
    bucket = bucket_of(made)
    aws.client("s3").put_object(Bucket=bucket, Key=f"AWSLogs/{ACCOUNT_ID}/CloudTrail/{REGION}/2026/11/29/log.json.gz", Body=b"{}")
    gone, calls, dummy = run_counted(aws, run_module, {"name": NAME, "region": REGION, "state": "absent"})
    assert not gone["failed"], gone.get("msg")
    assert gone["changed_parts"] == ["trail", "bucket_policy"]
    assert aws.client("cloudtrail").describe_trails()["trailList"] == []
    s3 = aws.client("s3")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [f"AWSLogs/{ACCOUNT_ID}/CloudTrail/{REGION}/2026/11/29/log.json.gz"]
    assert "DeleteBucket" not in writes(calls)
    # The key, the topic and the log group stay: they may hold what the trail delivered.
    assert aws.client("kms").describe_key(KeyId="alias/cloudtrail/management-events")["KeyMetadata"]["KeyState"] == "Enabled"
    assert run_module("baseline", {"name": NAME, "region": REGION, "state": "absent"})["changed"] is False


def test_absent_with_delete_removes_the_bucket_with_cloudtrails_files_only(aws, run_module):
    made = run_module("baseline", {"name": NAME, "region": REGION})
    bucket = bucket_of(made)
    s3 = aws.client("s3")
    s3.put_object(Bucket=bucket, Key="someone-elses/report.csv", Body=b"x")
    refused, calls, dummy = run_counted(aws, run_module, {"name": NAME, "region": REGION, "state": "absent", "s3_bucket_delete": True})
    assert refused["failed"] and refused["msg"].startswith("s3_bucket_delete: "), refused["msg"]
    assert writes(calls) == []
    # Refused before any write: the trail is still there.
    assert aws.client("cloudtrail").describe_trails()["trailList"] != []

    # The bucket is versioned: the file is gone only with every version of it.
    versions = s3.list_object_versions(Bucket=bucket, Prefix="someone-elses/")
    for entry in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
        s3.delete_object(Bucket=bucket, Key=entry["Key"], VersionId=entry["VersionId"])
    gone = run_module("baseline", {"name": NAME, "region": REGION, "state": "absent", "s3_bucket_delete": True})
    assert not gone["failed"], gone.get("msg")
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
