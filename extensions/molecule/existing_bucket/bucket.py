"""The existing bucket of this scenario, as someone else set it up: a policy
statement for auditors in another account and a lifecycle rule for tmp/.
``bucket.py create`` makes it; verify.py imports the expected pieces."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shared"))
from checks import client  # noqa: E402

BUCKET = "trailops-existing-logs"
FOREIGN_STATEMENT = {
    "Sid": "AuditorsRead",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
    "Action": ["s3:GetObject", "s3:ListBucket"],
    "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "true"}},
}
LIFECYCLE_RULE = {
    "ID": "expire-tmp",
    "Filter": {"Prefix": "tmp/"},
    "Status": "Enabled",
    "Expiration": {"Days": 7},
}


def create() -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [FOREIGN_STATEMENT]}))
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [LIFECYCLE_RULE]})


if __name__ == "__main__" and sys.argv[1:] == ["create"]:
    create()
