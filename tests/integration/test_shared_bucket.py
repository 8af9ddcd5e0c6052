"""Shared log buckets through the roles (issue 13): trails that share a bucket
keep their own grants, a bucket is deleted or taken over only on purpose, and
limits fail before any write. State is read back with boto3; writes are
counted on the server's recorder."""

from __future__ import annotations

import json

from tests.local_aws.server import ACCOUNT_ID, REGION

PLAYBOOK = "tests/integration/playbooks/role.yml"
ENV = {"ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"}
SHARED = "central-logs"


def _run(run_playbook, role: str, variables: dict, *args: str):
    return run_playbook(PLAYBOOK, dict(variables, role_under_test=role), *args, env=ENV)


def _changed(stdout: str) -> int:
    line = next(line for line in stdout.splitlines() if line.startswith("localhost") and "changed=" in line)
    return int(line.split("changed=")[1].split()[0])


def _writes(calls):
    return [(c.service, c.action) for c in calls if c.is_write]


def _policy(aws, bucket=SHARED):
    return json.loads(aws.client("s3").get_bucket_policy(Bucket=bucket)["Policy"])


def _source_arns(policy) -> dict[str, str]:
    """Each grant's Sid and the trail it names."""
    return {
        s["Sid"]: s["Condition"]["StringEquals"]["aws:SourceArn"] for s in policy["Statement"] if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}
    }


def _arn(name: str) -> str:
    return f"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/{name}"


def _trail(name: str, **extra) -> dict:
    return dict({"trail_name": name, "trail_s3_bucket_name": SHARED, "trail_region": REGION}, **extra)


def test_two_trails_on_one_bucket_keep_their_own_grants(aws, run_playbook):
    for name in ("team-a", "team-b"):
        result = _run(run_playbook, "trail", _trail(name))
        assert result.returncode == 0, result.stdout + result.stderr
    grants = _source_arns(_policy(aws))
    # Two statements per trail (ACL check and write), each naming only its trail.
    assert sorted(grants.values()) == sorted([_arn("team-a")] * 2 + [_arn("team-b")] * 2), grants
    assert aws.client("cloudtrail").get_trail(Name="team-a")["Trail"]["S3BucketName"] == SHARED

    # The second run of each, in either order, changes nothing and writes nothing.
    for name in ("team-a", "team-b"):
        aws.start_recording()
        again = _run(run_playbook, "trail", _trail(name))
        calls = aws.stop_recording()
        assert again.returncode == 0, again.stdout + again.stderr
        assert _changed(again.stdout) == 0, again.stdout
        assert _writes(calls) == []
    assert _source_arns(_policy(aws)) == grants

    # One trail gone: only its grant goes; the other still delivers.
    gone = _run(run_playbook, "trail", _trail("team-a", trail_state="absent"))
    assert gone.returncode == 0, gone.stdout + gone.stderr
    left = _source_arns(_policy(aws))
    assert sorted(left.values()) == [_arn("team-b")] * 2, left
    assert [t["Name"] for t in aws.client("cloudtrail").describe_trails()["trailList"]] == ["team-b"]


def _team_bucket(aws, name: str, objects=("finance/q3.xlsx", "backups/db.dump", f"AWSLogs/{ACCOUNT_ID}/Config/snapshot.json.gz")):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=name)
    for key in objects:
        s3.put_object(Bucket=name, Key=key, Body=b"data")
    return s3


def test_delete_refuses_an_adopted_bucket(aws, run_playbook):
    s3 = _team_bucket(aws, SHARED)
    adopted = _trail("team-a", trail_s3_bucket_existing=True)
    made = _run(run_playbook, "trail", adopted)
    assert made.returncode == 0, made.stdout + made.stderr

    aws.start_recording()
    refused = _run(run_playbook, "trail", dict(adopted, trail_state="absent", trail_s3_bucket_delete=True))
    calls = aws.stop_recording()
    assert refused.returncode != 0
    assert "an adopted bucket is never deleted" in refused.stdout, refused.stdout
    assert _writes(calls) == []
    assert len(s3.list_objects_v2(Bucket=SHARED)["Contents"]) == 3

    # The log_bucket role on its own: a bucket it did not create is adopted, never deleted.
    aws.start_recording()
    refused = _run(run_playbook, "log_bucket", {"log_bucket_name": SHARED, "log_bucket_state": "absent", "log_bucket_delete": True})
    calls = aws.stop_recording()
    assert refused.returncode != 0
    assert "trailops.cloudtrail:created-by tag, so trailops.cloudtrail did not create it" in refused.stdout, refused.stdout
    assert _writes(calls) == []
    assert len(s3.list_objects_v2(Bucket=SHARED)["Contents"]) == 3


def test_delete_refuses_a_bucket_holding_other_objects(aws, run_playbook):
    bucket = {"log_bucket_name": "trailops-owned", "log_bucket_trails": [_arn("t-one")]}
    made = _run(run_playbook, "log_bucket", bucket)
    assert made.returncode == 0, made.stdout + made.stderr
    s3 = aws.client("s3")
    ours = [f"AWSLogs/{ACCOUNT_ID}/CloudTrail/{REGION}/2026/11/28/log.json.gz", f"AWSLogs/{ACCOUNT_ID}/CloudTrail-Digest/{REGION}/2026/11/28/d.json.gz"]
    theirs = [f"AWSLogs/{ACCOUNT_ID}/Config/{REGION}/snapshot.json.gz", "backups/db.dump"]
    for key in ours + theirs:
        s3.put_object(Bucket="trailops-owned", Key=key, Body=b"data")

    aws.start_recording()
    refused = _run(run_playbook, "log_bucket", dict(bucket, log_bucket_state="absent", log_bucket_delete=True))
    calls = aws.stop_recording()
    assert refused.returncode != 0
    assert "holds 2 objects outside CloudTrail's own prefixes" in refused.stdout, refused.stdout
    assert theirs[0] in refused.stdout and theirs[1] in refused.stdout
    assert _writes(calls) == []
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket="trailops-owned")["Contents"]) == sorted(ours + theirs)

    # Deleted, their objects are still there as old versions (the bucket is versioned) and a delete takes those too:
    # still refused, until every version of them is gone.
    s3.delete_objects(Bucket="trailops-owned", Delete={"Objects": [{"Key": key} for key in theirs]})
    refused = _run(run_playbook, "log_bucket", dict(bucket, log_bucket_state="absent", log_bucket_delete=True))
    assert refused.returncode != 0 and "holds 2 objects outside CloudTrail's own prefixes" in refused.stdout, refused.stdout
    listed = s3.list_object_versions(Bucket="trailops-owned")
    versions = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in listed.get("Versions", []) + listed.get("DeleteMarkers", []) if v["Key"] in theirs]
    s3.delete_objects(Bucket="trailops-owned", Delete={"Objects": versions})

    # Only CloudTrail's own files left: the bucket the role made is deleted as asked.
    deleted = _run(run_playbook, "log_bucket", dict(bucket, log_bucket_state="absent", log_bucket_delete=True))
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert "trailops-owned" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_a_forgotten_adoption_flag_on_an_sse_kms_bucket_fails_with_no_write(aws, run_playbook):
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    s3 = _team_bucket(aws, SHARED, objects=())
    encryption = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]}
    s3.put_bucket_encryption(Bucket=SHARED, ServerSideEncryptionConfiguration=encryption)

    aws.start_recording()
    result = _run(run_playbook, "trail", _trail("team-a"))
    calls = aws.stop_recording()
    assert result.returncode != 0
    assert "trail_s3_bucket_existing" in result.stdout and "was not created by trailops.cloudtrail" in result.stdout, result.stdout
    assert _writes(calls) == []
    (rule,) = s3.get_bucket_encryption(Bucket=SHARED)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}
    assert aws.client("cloudtrail").describe_trails()["trailList"] == []


def test_sse_kms_is_not_downgraded_without_the_variable(aws, run_playbook):
    key = aws.client("kms").create_key()["KeyMetadata"]["Arn"]
    bucket = {"log_bucket_name": "trailops-kms", "log_bucket_trails": [_arn("t-one")], "log_bucket_kms_key_id": key}
    made = _run(run_playbook, "log_bucket", bucket)
    assert made.returncode == 0, made.stdout + made.stderr

    aws.start_recording()
    refused = _run(run_playbook, "log_bucket", dict(bucket, log_bucket_kms_key_id=""))
    calls = aws.stop_recording()
    assert refused.returncode != 0
    assert "log_bucket_encryption_downgrade: is false" in refused.stdout, refused.stdout
    assert _writes(calls) == []
    rules = aws.client("s3").get_bucket_encryption(Bucket="trailops-kms")["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_tag_limits_fail_before_any_write(aws, run_playbook):
    for tags, message in (
        ({f"k{i}": "v" for i in range(51)}, "trail_tags: a trail takes at most 50 tags, not 51"),
        ({"team": None}, "trail_tags: a tag value must be a string, not null (keys team)"),
        ({"k" * 129: "v"}, "must be 1 to 128 characters long"),
    ):
        aws.start_recording()
        result = _run(run_playbook, "trail", _trail("team-a", trail_tags=tags))
        calls = aws.stop_recording()
        assert result.returncode != 0
        assert message in result.stdout, result.stdout
        assert _writes(calls) == []
    assert aws.client("s3").list_buckets()["Buckets"] == []
