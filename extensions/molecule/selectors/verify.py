"""selectors: ``verify.py`` checks the final basic selectors and Insights;
``verify.py advanced`` (from the side effect) checks the advanced ones."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shared"))
from checks import Checks, client  # noqa: E402

checks = Checks()
cloudtrail = client("cloudtrail")
selectors = cloudtrail.get_event_selectors(TrailName="selectors-trail")

if sys.argv[1:] == ["advanced"]:
    checks.equal(selectors.get("EventSelectors", []), [], "no basic selectors left")
    advanced = {s["Name"]: s["FieldSelectors"] for s in selectors.get("AdvancedEventSelectors", [])}
    checks.equal(sorted(advanced), ["Management events", "S3 data events of trailops-data"], "the advanced selectors")
    data = {f["Field"]: f for f in advanced.get("S3 data events of trailops-data", [])}
    checks.equal(data.get("resources.ARN", {}).get("StartsWith"), ["arn:aws:s3:::trailops-data/"], "the data event ARN prefix")
else:
    checks.equal(selectors.get("AdvancedEventSelectors", []), [], "no advanced selectors left")
    basic = selectors.get("EventSelectors", [])
    checks.equal(len(basic), 1, "one basic selector")
    if basic:
        checks.equal(basic[0]["ReadWriteType"], "All", "read and write events")
        checks.equal(basic[0]["IncludeManagementEvents"], True, "management events")
        checks.equal(
            basic[0]["DataResources"],
            [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::trailops-data/"]}],
            "the S3 data events",
        )

insights = cloudtrail.get_insight_selectors(TrailName="selectors-trail")["InsightSelectors"]
checks.equal(sorted(i["InsightType"] for i in insights), ["ApiCallRateInsight", "ApiErrorRateInsight"], "both Insights on")
checks.done()
