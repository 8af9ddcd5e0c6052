"""quick: a multi-region trail with log file validation and logging on, in a
private, encrypted, versioned bucket named as the console names it."""

import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shared"))
from checks import Checks, account, bucket_policy, client, cloudtrail_statements, trail  # noqa: E402

checks = Checks()
account_id = account()
suffix = hashlib.sha256(f"{account_id}/quick-trail".encode()).hexdigest()[:8]
bucket = f"aws-cloudtrail-logs-{account_id}-{suffix}"

found = trail("quick-trail")
checks.expect(found is not None, "the trail quick-trail exists")
if found:
    checks.equal(found["S3BucketName"], bucket, "bucket named as the console does")
    checks.equal(found["IsMultiRegionTrail"], True, "multi-region")
    checks.equal(found["IncludeGlobalServiceEvents"], True, "global service events")
    checks.equal(found["LogFileValidationEnabled"], True, "log file validation")
    checks.equal(found.get("S3KeyPrefix"), None, "no S3 key prefix: logs under AWSLogs/<account>/CloudTrail/<region>/")
    checks.equal(client("cloudtrail").get_trail_status(Name=found["TrailARN"])["IsLogging"], True, "logging on")

s3 = client("s3")
access = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
checks.equal(set(access.values()), {True}, "every Block Public Access setting on")
ownership = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"]
checks.equal(ownership, "BucketOwnerEnforced", "object ownership")
sse = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
checks.equal(sse["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], "AES256", "default encryption")
checks.equal(s3.get_bucket_versioning(Bucket=bucket).get("Status"), "Enabled", "versioning")

granted = cloudtrail_statements(bucket_policy(bucket))
actions = sorted(statement["Action"] for statement in granted)
checks.equal(actions, ["s3:GetBucketAcl", "s3:PutObject"], "CloudTrail's two statements in the bucket policy")
writes = [s for s in granted if s["Action"] == "s3:PutObject"]
if writes:
    checks.equal(writes[0]["Resource"], f"arn:aws:s3:::{bucket}/AWSLogs/{account_id}/*", "write restricted to AWSLogs/<account>/")
    checks.equal(
        writes[0]["Condition"]["StringEquals"].get("aws:SourceArn"),
        f"arn:aws:cloudtrail:us-east-1:{account_id}:trail/quick-trail",
        "write restricted to the trail",
    )
checks.done()
