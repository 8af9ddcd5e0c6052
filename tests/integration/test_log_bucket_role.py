"""The log_bucket role over the log_bucket module: what it publishes as
log_bucket_result, its diff under --check --diff, and its run twice in a play."""

from __future__ import annotations

import json

from tests.local_aws.server import ACCOUNT_ID, REGION

PLAYBOOK = "tests/integration/playbooks/log_bucket_result.yml"
ENV = {"ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"}
BUCKET = "trailops-role-result"
VARIABLES = {"log_bucket_name": BUCKET, "log_bucket_trails": [f"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/t-one"]}


def _run(run_playbook, tmp_path, *args):
    path = tmp_path / "result.json"
    done = run_playbook(PLAYBOOK, dict(VARIABLES, result_path=str(path)), *args, env=ENV)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(path.read_text()), done.stdout


def test_the_role_publishes_the_modules_result(aws, run_playbook, tmp_path):
    aws.start_recording()
    (predicted, again), stdout = _run(run_playbook, tmp_path, "--check", "--diff")
    calls = aws.stop_recording()
    assert [c for c in calls if c.is_write] == []
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert predicted["changed"] is True and predicted["name"] == BUCKET
    assert predicted["before"] == {"exists": False}
    assert predicted["parts"]["log_bucket"]["before"] is None
    assert sorted(predicted["parts"]["bucket_policy"]["after"]["statements"]) == [
        "AWSCloudTrailAclCheck20150319", "AWSCloudTrailDenyInsecureTransport20150319", "AWSCloudTrailWrite20150319"
    ]
    # --diff shows each changed part's before and after.
    assert "before: log_bucket" in stdout and "before: bucket_policy" in stdout, stdout

    (made, second), _stdout = _run(run_playbook, tmp_path)
    assert made["changed"] is True and made["bucket"] == predicted["bucket"]
    assert made["parts"] == predicted["parts"]
    # The second run in the same play: the bucket as the first made it, nothing to change.
    assert second["changed"] is False
    assert second["before"] == dict({"exists": True}, **made["parts"]["log_bucket"]["after"])
    assert second["parts"]["log_bucket"]["before"] == made["parts"]["log_bucket"]["after"]
    tags = aws.client("s3").get_bucket_tagging(Bucket=BUCKET)["TagSet"]
    assert {t["Key"]: t["Value"] for t in tags} == {"trailops.cloudtrail:created-by": "log_bucket"}
