"""existing_bucket: the trail delivers under the prefix; the foreign statement
and the lifecycle rule are exactly as they were; nothing else changed."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "shared"))
sys.path.insert(0, HERE)
from bucket import BUCKET, FOREIGN_STATEMENT, LIFECYCLE_RULE  # noqa: E402
from checks import Checks, account, bucket_policy, client, cloudtrail_statements, statements_by_sid, trail  # noqa: E402

checks = Checks()
account_id = account()
found = trail("existing-bucket-trail")
checks.expect(found is not None, "the trail existing-bucket-trail exists")
if found:
    checks.equal(found["S3BucketName"], BUCKET, "the trail's bucket")
    checks.equal(found.get("S3KeyPrefix"), "cloudtrail", "the trail's prefix")

policy = bucket_policy(BUCKET)
checks.equal(statements_by_sid(policy).get("AuditorsRead"), FOREIGN_STATEMENT, "the foreign statement, unchanged")
checks.equal(len(policy["Statement"]), 3, "the foreign statement and CloudTrail's two, nothing else")
writes = [s for s in cloudtrail_statements(policy) if s["Action"] == "s3:PutObject"]
checks.equal(len(writes), 1, "one CloudTrail write statement")
if writes:
    checks.equal(writes[0]["Resource"], f"arn:aws:s3:::{BUCKET}/cloudtrail/AWSLogs/{account_id}/*", "write under the prefix")

s3 = client("s3")
rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
checks.equal([rule["ID"] for rule in rules], ["expire-tmp"], "only the existing lifecycle rule")
kept = [rule for rule in rules if rule["ID"] == "expire-tmp"]
if kept:
    checks.equal({key: kept[0].get(key) for key in LIFECYCLE_RULE}, LIFECYCLE_RULE, "the lifecycle rule, unchanged")
checks.equal(s3.get_bucket_versioning(Bucket=BUCKET).get("Status"), None, "versioning left as it was (never enabled)")
checks.done()
