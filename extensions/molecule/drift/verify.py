"""drift: after the repair, the trail, its selectors and the bucket policy are
as the role says, and the statement someone else added is still there."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "shared"))
sys.path.insert(0, HERE)
from checks import Checks, bucket_policy, client, statements_by_sid, trail  # noqa: E402
from drift import BUCKET, FOREIGN, TRAIL  # noqa: E402

checks = Checks()
found = trail(TRAIL) or {}
checks.equal(found.get("LogFileValidationEnabled"), True, "validation back on")
checks.equal(client("cloudtrail").get_trail_status(Name=TRAIL)["IsLogging"], True, "logging back on")
selectors = client("cloudtrail").get_event_selectors(TrailName=TRAIL)["EventSelectors"]
checks.equal([(s["ReadWriteType"], s["IncludeManagementEvents"]) for s in selectors], [("All", True)], "the preset's selectors")
sids = statements_by_sid(bucket_policy(BUCKET))
# The trail role's statements carry a suffix of the trail's own (issue 13).
checks.expect(
    any(sid.startswith("AWSCloudTrailWrite") for sid in sids) and any(sid.startswith("AWSCloudTrailAclCheck") for sid in sids),
    "CloudTrail's statements back",
    sorted(sids),
)
checks.equal(sids.get("SomeoneElsesGrant"), FOREIGN, "the out-of-band statement kept as it is")
checks.done()
