"""trailops.cloudtrail.log_bucket against the local AWS: the bucket read back
with boto3, the calls the server received and the errors it answered."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from botocore.exceptions import ClientError

from tests.conftest import REPO_ROOT
from tests.local_aws.fidelity.faults import fault_counts, inject_faults
from tests.local_aws.server import ACCOUNT_ID, REGION

BUCKET = "trailops-module-logs"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/t-one"
CREATED_BY_TAG = "trailops.cloudtrail:created-by"
FOLDERS = ("CloudTrail", "CloudTrail-Digest", "CloudTrail-Insight")


def params(**overrides):
    base = {"name": BUCKET, "trails": [TRAIL_ARN]}
    base.update(overrides)
    return base


def writes(calls):
    return [(c.service, c.action) for c in calls if c.is_write]


def errors(aws):
    return aws.error_responses()


def read_back(aws, bucket=BUCKET) -> dict:
    """The bucket's settings as S3 answers them (boto3, not the module)."""
    s3 = aws.client("s3")
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    return {
        "encryption": encryption["SSEAlgorithm"],
        "kms_key_id": encryption.get("KMSMasterKeyID"),
        "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled",
        "public_access_block": all(block.values()),
        "object_ownership": s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
        "tags": {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]},
    }


def policy_sids(aws, bucket=BUCKET) -> list[str]:
    try:
        policy = json.loads(aws.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as e:
        if e.response["Error"]["Code"] == "NoSuchBucketPolicy":
            return []
        raise
    return sorted(statement.get("Sid", "") for statement in policy["Statement"])


def test_create_then_no_change_run_makes_no_write_and_no_error(aws, run_module):
    aws.start_recording()
    predicted = run_module("log_bucket", params(), check=True, diff=True)
    calls = aws.stop_recording()
    assert not predicted["failed"], predicted
    assert predicted["changed"] is True
    assert writes(calls) == []
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert predicted["parts"]["log_bucket"]["before"] is None
    assert [d["before_header"] for d in predicted["diff"]] == ["log_bucket", "bucket_policy"]

    made = run_module("log_bucket", params(), diff=True)
    assert not made["failed"], made
    assert made["changed"] is True
    # Check mode predicted exactly what the run did.
    assert predicted["bucket"] == made["bucket"]
    assert predicted["parts"] == made["parts"]
    found = read_back(aws)
    assert found == {
        "encryption": "AES256",
        "kms_key_id": None,
        "versioning": True,
        "public_access_block": True,
        "object_ownership": "BucketOwnerEnforced",
        "tags": {CREATED_BY_TAG: "log_bucket"},
    }
    assert policy_sids(aws) == ["AWSCloudTrailAclCheck20150319", "AWSCloudTrailDenyInsecureTransport20150319", "AWSCloudTrailWrite20150319"]
    assert sorted(made["parts"]["bucket_policy"]["after"]["statements"]) == policy_sids(aws)

    aws.start_recording()
    again = run_module("log_bucket", params(), diff=True)
    calls = aws.stop_recording()
    assert not again["failed"], again
    assert again["changed"] is False
    assert writes(calls) == []
    assert errors(aws) == []
    assert "diff" not in again or again["diff"] == []
    # Tags, PAB, ownership, encryption, versioning, at once; the policy. No HeadBucket, no ListBuckets, no STS (trail by ARN).
    assert [(c.service, c.method) for c in calls] == [("s3", "GET")] * 6, [(c.service, c.action) for c in calls]
    assert again["bucket"] == made["bucket"]

    # The drift check of a clean bucket: nothing to report, nothing written, no error answered.
    aws.start_recording()
    checked = run_module("log_bucket", params(), check=True, diff=True)
    calls = aws.stop_recording()
    assert checked["changed"] is False and writes(calls) == [] and errors(aws) == []


def test_check_mode_predicts_a_setting_change_exactly(aws, run_module):
    assert not run_module("log_bucket", params())["failed"]
    aws.start_recording()
    predicted = run_module("log_bucket", params(versioning=False, object_ownership="BucketOwnerPreferred"), check=True, diff=True)
    calls = aws.stop_recording()
    assert predicted["changed"] is True and writes(calls) == []
    assert read_back(aws)["versioning"] is True
    (diff,) = predicted["diff"]
    assert diff["before_header"] == "log_bucket"
    assert (diff["before"]["versioning"], diff["after"]["versioning"]) == (True, False)
    assert (diff["before"]["object_ownership"], diff["after"]["object_ownership"]) == ("BucketOwnerEnforced", "BucketOwnerPreferred")

    aws.start_recording()
    applied = run_module("log_bucket", params(versioning=False, object_ownership="BucketOwnerPreferred"))
    calls = aws.stop_recording()
    assert applied["parts"] == predicted["parts"]
    assert sorted(c.action for c in calls if c.is_write) == sorted(["PUT /trailops-module-logs"] * 2), writes(calls)
    found = read_back(aws)
    assert (found["versioning"], found["object_ownership"]) == (False, "BucketOwnerPreferred")


def test_lifecycle_rules_only_on_cloudtrail_prefixes_and_kept_apart(aws, run_module):
    s3 = aws.client("s3")
    lifecycle = dict(s3_key_prefix="audit", lifecycle_transition_days=30, lifecycle_expiration_days=365)
    made = run_module("log_bucket", params(**lifecycle))
    assert not made["failed"], made
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert sorted(rule["Filter"]["Prefix"] for rule in rules) == sorted(f"audit/AWSLogs/{ACCOUNT_ID}/{folder}/" for folder in FOLDERS)
    for rule in rules:
        assert rule["ID"] == "trailops-cloudtrail:" + rule["Filter"]["Prefix"]
        assert [(t["Days"], t["StorageClass"]) for t in rule["Transitions"]] == [(30, "GLACIER")]
        assert rule["Expiration"]["Days"] == 365
    assert read_back(aws)["tags"][CREATED_BY_TAG] == "log_bucket:lifecycle"

    # Someone else's rule, and the rule of 1.x for all of AWSLogs/.
    foreign = {"ID": "team-archive", "Filter": {"Prefix": "backups/"}, "Status": "Enabled", "Expiration": {"Days": 7}}
    legacy = {"ID": "trailops-cloudtrail-logs", "Filter": {"Prefix": "AWSLogs/"}, "Status": "Enabled", "Expiration": {"Days": 90}}
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": rules + [foreign, legacy]})
    changed = run_module("log_bucket", params(**lifecycle), diff=True)
    assert changed["changed"] is True
    assert "trailops-cloudtrail-logs" in changed["parts"]["log_bucket"]["before"]["lifecycle"]
    ids = sorted(rule["ID"] for rule in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"])
    assert "team-archive" in ids and "trailops-cloudtrail-logs" not in ids and len(ids) == 4

    aws.start_recording()
    again = run_module("log_bucket", params(**lifecycle))
    calls = aws.stop_recording()
    assert again["changed"] is False and writes(calls) == [] and errors(aws) == []

    # Without the lifecycle options the tag says rules exist: they are read (no error) and removed; the other rule stays.
    # Someone's tag beside ours is kept when ours changes (PutBucketTagging replaces the whole set).
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": CREATED_BY_TAG, "Value": "log_bucket:lifecycle"}, {"Key": "team", "Value": "sec"}]})
    dropped = run_module("log_bucket", params(s3_key_prefix="audit"))
    assert dropped["changed"] is True
    assert [rule["ID"] for rule in s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]] == ["team-archive"]
    assert read_back(aws)["tags"] == {CREATED_BY_TAG: "log_bucket", "team": "sec"}
    aws.start_recording()
    quiet = run_module("log_bucket", params(s3_key_prefix="audit"))
    calls = aws.stop_recording()
    assert quiet["changed"] is False and writes(calls) == [] and errors(aws) == []


def test_adopted_bucket_keeps_its_settings_and_is_never_tagged(aws, run_module):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="team-logs")
    aws.start_recording()
    adopted = run_module("log_bucket", params(name="team-logs", existing=True))
    calls = aws.stop_recording()
    assert not adopted["failed"], adopted
    # Only CloudTrail's statements, no deny (an adopted bucket gets only CloudTrail's), no setting written.
    assert writes(calls) == [("s3", "PUT /team-logs")]
    assert policy_sids(aws, "team-logs") == ["AWSCloudTrailAclCheck20150319", "AWSCloudTrailWrite20150319"]
    assert adopted["parts"]["log_bucket"]["before"] == {}
    with pytest.raises(ClientError, match="NoSuchTagSet"):
        s3.get_bucket_tagging(Bucket="team-logs")

    aws.start_recording()
    refused = run_module("log_bucket", params(name="team-logs", existing=True, versioning=True))
    calls = aws.stop_recording()
    assert refused["failed"]
    assert "versioning: would change the adopted bucket's versioning from False to True" in refused["msg"]
    assert writes(calls) == []


def test_existing_bucket_without_the_tag_is_never_taken_over(aws, run_module, kms_key_arn):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="team-kms")
    s3.put_bucket_encryption(
        Bucket="team-kms",
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_arn}}]},
    )
    aws.start_recording()
    refused = run_module("log_bucket", params(name="team-kms"))
    calls = aws.stop_recording()
    assert refused["failed"]
    assert refused["msg"].startswith("existing: is false but the bucket team-kms already exists")
    assert "aws:kms" in refused["msg"]
    assert writes(calls) == []


def test_sse_kms_is_not_downgraded_unless_asked(aws, run_module, kms_key_arn):
    made = run_module("log_bucket", params(kms_key_id=kms_key_arn))
    assert not made["failed"], made
    assert read_back(aws)["encryption"] == "aws:kms"

    aws.start_recording()
    refused = run_module("log_bucket", params())
    calls = aws.stop_recording()
    assert refused["failed"] and refused["msg"].startswith("encryption_downgrade: is false but the bucket")
    assert writes(calls) == []
    assert read_back(aws)["encryption"] == "aws:kms"

    downgraded = run_module("log_bucket", params(encryption_downgrade=True))
    assert downgraded["changed"] and read_back(aws)["encryption"] == "AES256"


def test_absent_removes_only_the_statements_and_delete_is_guarded(aws, run_module):
    s3 = aws.client("s3")
    assert not run_module("log_bucket", params())["failed"]
    foreign = {"Sid": "TeamRead", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": "s3:GetObject",
               "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(dict(policy, Statement=policy["Statement"] + [foreign])))

    removed = run_module("log_bucket", params(state="absent"), diff=True)
    assert removed["changed"] and not removed["failed"], removed
    assert policy_sids(aws) == ["TeamRead"]
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [BUCKET]
    assert removed["parts"]["bucket_policy"]["after"] == {"statements": {}}

    # Objects outside CloudTrail's prefixes: refused, nothing deleted.
    s3.put_object(Bucket=BUCKET, Key=f"AWSLogs/{ACCOUNT_ID}/CloudTrail/us-east-1/2026/01/01/log.json.gz", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key=f"AWSLogs/{ACCOUNT_ID}/Config/snapshot.json", Body=b"x")
    aws.start_recording()
    refused = run_module("log_bucket", params(state="absent", delete=True))
    calls = aws.stop_recording()
    assert refused["failed"] and "holds 1 objects outside CloudTrail's own prefixes" in refused["msg"], refused
    assert f"AWSLogs/{ACCOUNT_ID}/Config/snapshot.json" in refused["msg"]
    assert writes(calls) == []

    s3.delete_object(Bucket=BUCKET, Key=f"AWSLogs/{ACCOUNT_ID}/Config/snapshot.json")
    # Versioned: the foreign key's old version and its delete marker are data too.
    refused = run_module("log_bucket", params(state="absent", delete=True))
    assert refused["failed"] and "Config/snapshot.json" in refused["msg"]
    versions = s3.list_object_versions(Bucket=BUCKET)
    s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [
        {"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions.get("Versions", []) + versions.get("DeleteMarkers", []) if "Config" in v["Key"]
    ]})

    aws.start_recording()
    predicted = run_module("log_bucket", params(state="absent", delete=True), check=True, diff=True)
    calls = aws.stop_recording()
    assert predicted["changed"] and writes(calls) == []
    assert predicted["bucket"] is None and predicted["parts"]["log_bucket"]["after"] is None

    deleted = run_module("log_bucket", params(state="absent", delete=True))
    assert deleted["changed"] and not deleted["failed"], deleted
    assert s3.list_buckets()["Buckets"] == []
    gone = run_module("log_bucket", params(state="absent", delete=True))
    assert gone["changed"] is False and not gone["failed"]


def test_adopted_bucket_is_never_deleted(aws, run_module):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="team-logs")
    for extra in ({"existing": True}, {}):
        aws.start_recording()
        refused = run_module("log_bucket", params(name="team-logs", state="absent", delete=True, **extra))
        calls = aws.stop_recording()
        assert refused["failed"] and "an adopted bucket is never deleted" in refused["msg"], refused
        assert writes(calls) == []
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["team-logs"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"name": "Not_A_Bucket"}, "name: "),
        ({"trails": []}, "trails: must name at least one trail"),
        ({"encryption": "AES256", "kms_key_id": "k"}, "kms_key_id: is set but encryption is AES256"),
        ({"delete": True}, "delete: is true but state is present"),
        ({"lifecycle_transition_days": 30, "lifecycle_expiration_days": 30}, "lifecycle_expiration_days: must be greater than"),
        ({"lifecycle_expiration_days": 0}, "lifecycle_expiration_days: must be a positive number"),
        ({"trails": ["bad name!"]}, "trails: "),
        ({"sid_suffix": "no-dashes"}, "sid_suffix: "),
        ({"organization_id": "org"}, "organization_id: "),
        ({"option_prefix": "log_bucket_", "delete": True}, "log_bucket_delete: is true but log_bucket_state is present"),
    ],
)
def test_bad_input_fails_before_any_call(aws, run_module, overrides, message):
    aws.start_recording()
    result = run_module("log_bucket", params(**overrides))
    calls = aws.stop_recording()
    assert result["failed"]
    assert message in result["msg"], result["msg"]
    assert "nothing was written" in result["msg"].lower()
    assert calls == []


@pytest.fixture
def kms_key_arn(aws) -> str:
    return aws.client("kms").create_key()["KeyMetadata"]["Arn"]


AWS_CLI = os.path.join(REPO_ROOT, "build", "awscli-venv", "bin", "aws")


def _s3api(aws, *args: str) -> dict:
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    env.update(aws.env(REGION))
    command = [AWS_CLI, "s3api", *args, "--region", REGION, "--endpoint-url", aws.endpoint, "--output", "json"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 0, f"$ {' '.join(command)}\n{done.stdout}{done.stderr}"
    return json.loads(done.stdout)


@pytest.mark.skipif(not os.path.exists(AWS_CLI), reason="the AWS CLI venv is missing: make build/awscli-venv/.installed")
def test_the_aws_cli_reads_what_the_module_reports(aws, run_module):
    made = run_module("log_bucket", params(kms_key_id="alias/aws/s3", lifecycle_expiration_days=400))
    assert not made["failed"], made
    bucket = made["bucket"]
    sse = _s3api(aws, "get-bucket-encryption", "--bucket", BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    assert (sse["SSEAlgorithm"], sse.get("KMSMasterKeyID")) == (bucket["encryption"], bucket["kms_key_id"]) == ("aws:kms", "alias/aws/s3")
    assert (_s3api(aws, "get-bucket-versioning", "--bucket", BUCKET).get("Status") == "Enabled") is bucket["versioning"] is True
    block = _s3api(aws, "get-public-access-block", "--bucket", BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values()) is bucket["public_access_block"] is True
    ownership = _s3api(aws, "get-bucket-ownership-controls", "--bucket", BUCKET)["OwnershipControls"]["Rules"][0]["ObjectOwnership"]
    assert ownership == bucket["object_ownership"] == "BucketOwnerEnforced"
    tags = {tag["Key"]: tag["Value"] for tag in _s3api(aws, "get-bucket-tagging", "--bucket", BUCKET)["TagSet"]}
    assert tags[CREATED_BY_TAG] == bucket["created_by"] == "log_bucket:lifecycle"
    rules = _s3api(aws, "get-bucket-lifecycle-configuration", "--bucket", BUCKET)["Rules"]
    assert sorted(rule["ID"] for rule in rules) == sorted(bucket["lifecycle"])
    assert {rule["Expiration"]["Days"] for rule in rules} == {400}


def test_throttled_reads_and_writes_are_retried(aws, run_module):
    """Five SlowDown answers in a row to one read (more than botocore's own
    retries) and throttled writes: the module retries with backoff and converges."""
    inject_faults(
        aws,
        [
            {"access_key": "testing", "service": "s3", "action": "GetBucketVersioning", "fault": "throttle", "every": 6, "burst": 5, "limit": 5},
            {"access_key": "testing", "service": "s3", "action": "PutBucketEncryption", "fault": "throttle", "every": 1, "limit": 2},
        ],
    )
    made = run_module("log_bucket", params())
    assert not made["failed"], made
    assert [rule["injected"] for rule in fault_counts(aws)] == [5, 2]
    assert read_back(aws)["versioning"] is True and read_back(aws)["encryption"] == "AES256"
    assert run_module("log_bucket", params())["changed"] is False
