"""``drift.py apply`` changes the trail, its selectors and the bucket policy
out of band; ``drift.py check`` fails unless all of that is still so."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shared"))
from checks import Checks, bucket_policy, client, statements_by_sid, trail  # noqa: E402

BUCKET = "trailops-drift-logs"
TRAIL = "drift-trail"
FOREIGN = {
    "Sid": "SomeoneElsesGrant",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/reports/*",
}


def apply() -> None:
    cloudtrail = client("cloudtrail")
    cloudtrail.update_trail(Name=TRAIL, EnableLogFileValidation=False)
    cloudtrail.stop_logging(Name=TRAIL)
    cloudtrail.put_event_selectors(
        TrailName=TRAIL, EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]
    )
    # Someone replaced the policy: CloudTrail's statements are gone, theirs is new.
    policy = bucket_policy(BUCKET)
    kept = [s for s in policy["Statement"] if not s.get("Sid", "").startswith("AWSCloudTrail")]
    client("s3").put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": kept + [FOREIGN]}))


def check() -> None:
    checks = Checks()
    found = trail(TRAIL) or {}
    checks.equal(found.get("LogFileValidationEnabled"), False, "validation still off")
    checks.equal(client("cloudtrail").get_trail_status(Name=TRAIL)["IsLogging"], False, "logging still off")
    selectors = client("cloudtrail").get_event_selectors(TrailName=TRAIL)["EventSelectors"]
    checks.equal([s["ReadWriteType"] for s in selectors], ["WriteOnly"], "selectors still WriteOnly")
    sids = statements_by_sid(bucket_policy(BUCKET))
    # The trail role's statements carry a suffix of the trail's own (issue 13).
    checks.expect(not any(sid.startswith("AWSCloudTrailWrite") for sid in sids), "CloudTrail's write statement still missing", sorted(sids))
    checks.done()


if __name__ == "__main__":
    {"apply": apply, "check": check}[sys.argv[1]]()
