"""drift_items: one case per kind of out-of-band change the drift report must
name with its desired and actual value (issue 11), as a case table over
baseline module results."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.trailops.cloudtrail.plugins.filter.drift import drift_items

ACCOUNT = "123456789012"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/management-events"
BUCKET = f"aws-cloudtrail-logs-{ACCOUNT}-0a1b2c3d"
ACL_CHECK = {
    "Sid": "AWSCloudTrailAclCheckmanagementevents1a2b3c4d",
    "Effect": "Allow",
    "Principal": {"Service": "cloudtrail.amazonaws.com"},
    "Action": "s3:GetBucketAcl",
    "Resource": f"arn:aws:s3:::{BUCKET}",
}
WRITE = dict(ACL_CHECK, Sid="AWSCloudTrailWritemanagementevents1a2b3c4d", Action="s3:PutObject", Resource=f"arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/*")
KEY_STATEMENT = {"Sid": "AWSCloudTrailEncrypt", "Effect": "Allow", "Action": "kms:GenerateDataKey*", "Resource": "*"}
TOPIC_STATEMENT = {"Sid": "AWSCloudTrailSNSPolicy", "Effect": "Allow", "Action": "SNS:Publish"}

BUCKET_STATE = {"name": BUCKET, "block_public_access": True, "object_ownership": "BucketOwnerEnforced", "versioning": True}
KEY_STATE = {"alias": "alias/cloudtrail/management-events", "key_rotation": True, "statements": {KEY_STATEMENT["Sid"]: KEY_STATEMENT}}
TOPIC_STATE = {"name": "cloudtrail-management-events", "statements": {TOPIC_STATEMENT["Sid"]: TOPIC_STATEMENT}}
LOGS_STATE = {
    "log_group_name": "aws-cloudtrail-logs-management-events",
    "retention_days": 365,
    "role_name": "CloudTrailRoleForCloudWatchLogs-management-events",
    "trust_policy": {"Service": "cloudtrail.amazonaws.com"},
}
TRAIL_STATE = {"name": "management-events", "is_multi_region_trail": True, "log_file_validation_enabled": True, "is_logging": True}
SELECTORS_STATE = {
    "event_selectors": [{"read_write_type": "All", "include_management_events": True}],
    "advanced_event_selectors": None,
    "insight_selectors": [{"insight_type": "ApiCallRateInsight"}],
}


def result(**drifted) -> dict:
    """A baseline result where every part is as desired but those given as
    ``part=(before, after)``."""
    desired = {
        "log_bucket": BUCKET_STATE,
        "bucket_policy": {"statements": {ACL_CHECK["Sid"]: ACL_CHECK, WRITE["Sid"]: WRITE}},
        "kms_key": KEY_STATE,
        "sns_topic": TOPIC_STATE,
        "cloudwatch_logs": LOGS_STATE,
        "trail": TRAIL_STATE,
        "event_selectors": SELECTORS_STATE,
    }
    parts = {}
    for part, state in desired.items():
        before, after = drifted.get(part, (state, state))
        parts[part] = {"changed": before != after, "before": before, "after": after}
    return {"changed": bool(drifted), "account": ACCOUNT, "region": "us-east-1", "trail_arn": TRAIL_ARN, "parts": parts}


def item(resource, setting, desired, actual) -> dict:
    return {"resource": resource, "setting": setting, "desired": desired, "actual": actual}


def without(statements: dict, sid: str) -> dict:
    return {key: value for key, value in statements.items() if key != sid}


BUCKET_POLICY = {"statements": {ACL_CHECK["Sid"]: ACL_CHECK, WRITE["Sid"]: WRITE}}


@pytest.mark.parametrize(
    "drifted, expected",
    [
        pytest.param({}, [], id="nothing drifted"),
        pytest.param(
            {"log_bucket": (dict(BUCKET_STATE, versioning=False, block_public_access=False), BUCKET_STATE)},
            [item(f"bucket {BUCKET}", "block_public_access", True, False), item(f"bucket {BUCKET}", "versioning", True, False)],
            id="bucket settings",
        ),
        pytest.param(
            {"bucket_policy": ({"statements": without(BUCKET_POLICY["statements"], ACL_CHECK["Sid"])}, BUCKET_POLICY)},
            [item(f"bucket {BUCKET} policy", f"statement {ACL_CHECK['Sid']}", ACL_CHECK, None)],
            id="bucket policy ACL check statement removed",
        ),
        pytest.param(
            {"bucket_policy": ({"statements": {ACL_CHECK["Sid"]: ACL_CHECK, WRITE["Sid"]: dict(WRITE, Effect="Deny")}}, BUCKET_POLICY)},
            [item(f"bucket {BUCKET} policy", f"statement {WRITE['Sid']}", WRITE, dict(WRITE, Effect="Deny"))],
            id="bucket policy write statement changed",
        ),
        pytest.param(
            {"bucket_policy": ({"statements": {}}, BUCKET_POLICY)},
            [
                item(f"bucket {BUCKET} policy", f"statement {ACL_CHECK['Sid']}", ACL_CHECK, None),
                item(f"bucket {BUCKET} policy", f"statement {WRITE['Sid']}", WRITE, None),
            ],
            id="bucket policy deleted",
        ),
        pytest.param(
            # A policy part with none of the trail's statements is null.
            {"bucket_policy": (None, BUCKET_POLICY)},
            [
                item(f"bucket {BUCKET} policy", f"statement {ACL_CHECK['Sid']}", ACL_CHECK, None),
                item(f"bucket {BUCKET} policy", f"statement {WRITE['Sid']}", WRITE, None),
            ],
            id="bucket policy without the trail's statements",
        ),
        pytest.param(
            {"bucket_policy": (BUCKET_POLICY, None)},
            [
                item(f"bucket {BUCKET} policy", f"statement {ACL_CHECK['Sid']}", None, ACL_CHECK),
                item(f"bucket {BUCKET} policy", f"statement {WRITE['Sid']}", None, WRITE),
            ],
            id="bucket policy statements to go",
        ),
        pytest.param(
            {"kms_key": (dict(KEY_STATE, statements={}), KEY_STATE)},
            [item("kms key alias/cloudtrail/management-events", f"statement {KEY_STATEMENT['Sid']}", KEY_STATEMENT, None)],
            id="key policy statement removed",
        ),
        pytest.param(
            {"sns_topic": (dict(TOPIC_STATE, statements={TOPIC_STATEMENT["Sid"]: dict(TOPIC_STATEMENT, Action="SNS:*")}), TOPIC_STATE)},
            [
                item(
                    "sns topic cloudtrail-management-events",
                    f"statement {TOPIC_STATEMENT['Sid']}",
                    TOPIC_STATEMENT,
                    dict(TOPIC_STATEMENT, Action="SNS:*"),
                )
            ],
            id="topic policy statement changed",
        ),
        pytest.param(
            {"cloudwatch_logs": (dict(LOGS_STATE, retention_days=7), LOGS_STATE)},
            [item("log group aws-cloudtrail-logs-management-events", "retention_days", 365, 7)],
            id="log group retention",
        ),
        pytest.param(
            {"cloudwatch_logs": (dict(LOGS_STATE, trust_policy={}), LOGS_STATE)},
            [item("iam role CloudTrailRoleForCloudWatchLogs-management-events", "trust_policy", LOGS_STATE["trust_policy"], {})],
            id="iam role trust policy",
        ),
        pytest.param(
            {"trail": (dict(TRAIL_STATE, log_file_validation_enabled=False, is_multi_region_trail=False), TRAIL_STATE)},
            [
                item("trail management-events", "is_multi_region_trail", True, False),
                item("trail management-events", "log_file_validation_enabled", True, False),
            ],
            id="trail settings",
        ),
        pytest.param(
            {"trail": (dict(TRAIL_STATE, is_logging=False), TRAIL_STATE)},
            [item("trail management-events", "is_logging", True, False)],
            id="logging stopped",
        ),
        pytest.param(
            {
                "event_selectors": (
                    dict(SELECTORS_STATE, event_selectors=[{"read_write_type": "WriteOnly", "include_management_events": True}]),
                    SELECTORS_STATE,
                )
            },
            [
                item(
                    "trail management-events selectors",
                    "event_selectors",
                    SELECTORS_STATE["event_selectors"],
                    [{"read_write_type": "WriteOnly", "include_management_events": True}],
                )
            ],
            id="selectors narrowed",
        ),
        pytest.param(
            {"event_selectors": (dict(SELECTORS_STATE, insight_selectors=[]), SELECTORS_STATE)},
            [item("trail management-events selectors", "insight_selectors", SELECTORS_STATE["insight_selectors"], [])],
            id="insights turned off",
        ),
        pytest.param(
            {"trail": (None, TRAIL_STATE), "log_bucket": (None, BUCKET_STATE)},
            [item(f"bucket {BUCKET}", "exists", True, False), item("trail management-events", "exists", True, False)],
            id="trail and bucket missing",
        ),
        pytest.param(
            {"trail": (TRAIL_STATE, None)},
            [item("trail management-events", "exists", False, True)],
            id="trail to be deleted",
        ),
        pytest.param(
            {"trail": (dict(TRAIL_STATE, sns_topic_name="stray"), TRAIL_STATE)},
            [item("trail management-events", "sns_topic_name", None, "stray")],
            id="a setting found that is not asked for",
        ),
    ],
)
def test_every_kind_of_drift_names_desired_and_actual(drifted, expected):
    assert drift_items(result(**drifted)) == expected


def test_a_part_reported_unchanged_gives_no_item():
    # changed is the module's verdict: a difference it does not act on (such as
    # a value known only after the run) is not drift.
    baseline = result()
    baseline["parts"]["trail"] = {"changed": False, "before": TRAIL_STATE, "after": dict(TRAIL_STATE, kms_key_id="(known after the run)")}
    assert drift_items(baseline) == []


def test_trail_label_is_taken_as_given():
    baseline = result(event_selectors=(dict(SELECTORS_STATE, insight_selectors=[]), SELECTORS_STATE))
    assert [i["resource"] for i in drift_items(baseline, trail_label="trail org-baseline")] == ["trail org-baseline selectors"]


def test_the_trail_is_named_from_its_arn_when_no_state_has_a_name():
    baseline = {"trail_arn": TRAIL_ARN, "parts": {"trail": {"changed": True, "before": {"is_logging": False}, "after": {"is_logging": True}}}}
    assert drift_items(baseline) == [item("trail management-events", "is_logging", True, False)]


def test_a_part_the_filter_does_not_know_is_named_after_the_part():
    baseline = {"parts": {"access_analyzer": {"changed": True, "before": None, "after": {"enabled": True}}}}
    assert drift_items(baseline) == [item("access analyzer", "exists", True, False)]


def test_a_failed_run_without_parts_gives_no_item():
    assert drift_items({"failed": True, "msg": "AccessDenied"}) == []


@pytest.mark.parametrize("value", [None, "text", ["list"]])
def test_anything_but_a_result_is_refused(value):
    with pytest.raises(AnsibleFilterError, match="drift_items"):
        drift_items(value)
