"""absent: the trail is gone and CloudTrail's statements with it; the bucket
and its log file remain. ``verify.py prepare`` makes the bucket and the file."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shared"))
from checks import Checks, account, bucket_policy, client, cloudtrail_statements, trail  # noqa: E402

BUCKET = "trailops-absent-logs"
LOG_FILE = f"AWSLogs/{account()}/CloudTrail/us-east-1/2026/11/23/log.json.gz"

if sys.argv[1:] == ["prepare"]:
    client("s3").create_bucket(Bucket=BUCKET)
    # The tag the log_bucket role writes on a bucket it creates: without it the
    # role would refuse to take the bucket over (issue 13).
    client("s3").put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "trailops.cloudtrail:created-by", "Value": "log_bucket"}]})
    client("s3").put_object(Bucket=BUCKET, Key=LOG_FILE, Body=b'{"Records": []}')
    sys.exit(0)

checks = Checks()
checks.equal(trail("absent-trail"), None, "the trail is gone")
checks.equal(cloudtrail_statements(bucket_policy(BUCKET)), [], "no CloudTrail statement left in the bucket policy")
keys = [o["Key"] for o in client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])]
checks.equal(keys, [LOG_FILE], "the bucket and its log file remain")
checks.done()
