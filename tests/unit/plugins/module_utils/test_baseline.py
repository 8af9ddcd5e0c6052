"""The baseline's own pure parts: option checks before any call, the names
every part derives from the trail's, and the plans of the parts that predate
the part interface (bucket policy, trail, selectors)."""

from __future__ import annotations

import dataclasses

import hashlib

import pytest

from ansible_collections.trailops.cloudtrail.plugins.module_utils import baseline
from ansible_collections.trailops.cloudtrail.plugins.module_utils.bucket_policy import BucketPolicyPart
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import KNOWN_AFTER_RUN
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parts import Where

WHERE = Where(account="123456789012", partition="aws", region="eu-west-1", trail_name="management-events")


def options(**given):
    """The module's options as AnsibleModule fills them in (defaults included)."""
    params = {
        "name": "management-events",
        "state": "present",
        "account_id": None,
        "assume_role_arn": None,
        "assume_role_session_name": "trailops-cloudtrail",
        "assume_role_duration_seconds": 900,
        "log_archive_role_arn": None,
        "log_archive_account_id": None,
        "s3_bucket_name": None,
        "s3_bucket_existing": False,
        "s3_key_prefix": "",
        "s3_bucket_delete": False,
        "s3_bucket_lifecycle_expiration_days": None,
        "is_multi_region_trail": True,
        "include_global_service_events": True,
        "enable_log_file_validation": True,
        "enable_logging": True,
        "is_organization_trail": False,
        "organization_id": "",
        "kms_key_create": False,
        "kms_key_alias": "",
        "kms_key_id": "",
        "sns_topic_create": False,
        "sns_topic_name": "",
        "cloudwatch_logs_create": False,
        "cloudwatch_logs_log_group_name": "",
        "cloudwatch_logs_retention_days": 365,
        "cloudwatch_logs_role_name": "",
        "cloudwatch_logs_log_group_arn": "",
        "cloudwatch_logs_role_arn": "",
        "event_selectors_preset": None,
        "event_selectors": None,
        "advanced_event_selectors": None,
        "insight_selectors": None,
        "tags": {},
        "purge_tags": True,
    }
    params.update(given)
    return params


def test_the_default_bucket_name_is_the_trail_roles():
    """Buckets made by the trail role before the baseline module keep their name."""
    suffix = hashlib.sha256(b"123456789012/management-events").hexdigest()[:8]
    assert baseline.default_bucket_name("123456789012", "management-events") == f"aws-cloudtrail-logs-123456789012-{suffix}"


def test_the_sid_suffix_is_the_trail_roles():
    """Statements the trail role wrote keep their Sids, so nothing is rewritten."""
    arn = WHERE.trail_arn
    assert baseline.trail_sid_suffix("management-events", arn) == "managementevents" + hashlib.sha256(arn.encode()).hexdigest()[:8]
    assert len(baseline.trail_sid_suffix("x" * 100, arn)) == 48


@pytest.mark.parametrize(
    "given, option",
    [
        ({"kms_key_create": True, "kms_key_id": "alias/x"}, "kms_key_id"),
        ({"cloudwatch_logs_create": True, "cloudwatch_logs_role_arn": "arn:aws:iam::123456789012:role/r"}, "cloudwatch_logs_create"),
        ({"cloudwatch_logs_log_group_arn": "arn:aws:logs:eu-west-1:123456789012:log-group:g:*"}, "cloudwatch_logs_log_group_arn"),
        ({"s3_bucket_existing": True}, "s3_bucket_existing"),
        ({"event_selectors_preset": "management_events", "event_selectors": [{"read_write_type": "All"}]}, "event_selectors_preset"),
        ({"is_organization_trail": True}, "organization_id"),
        ({"s3_bucket_delete": True}, "s3_bucket_delete"),
        ({"state": "absent", "s3_bucket_delete": True, "s3_bucket_existing": True, "s3_bucket_name": "b-logs"}, "s3_bucket_delete"),
        ({"sns_topic_create": True, "sns_topic_name": "arn:aws:sns:eu-west-1:123456789012:t"}, "sns_topic_name"),
        ({"assume_role_arn": "arn:aws:iam::123456789012:user/u"}, "assume_role_arn"),
        ({"log_archive_role_arn": "arn:aws:iam::210987654321:user/u"}, "log_archive_role_arn"),
        ({"log_archive_account_id": "210987654321"}, "log_archive_account_id"),
        ({"log_archive_role_arn": "arn:aws:iam::210987654321:role/r", "log_archive_account_id": "2109876"}, "log_archive_account_id"),
        ({"log_archive_role_arn": "arn:aws:iam::210987654321:role/r", "log_archive_account_id": "110987654321"}, "log_archive_role_arn"),
        ({"log_archive_role_arn": "arn:aws:iam::210987654321:role/r", "state": "absent", "s3_bucket_delete": True}, "s3_bucket_delete"),
        ({"account_id": "12345"}, "account_id"),
        ({"tags": {"team": None}}, "tags"),
        ({"name": "bad name!"}, "name"),
        ({"s3_bucket_name": "Not_A_Bucket"}, "s3_bucket_name"),
        ({"tags": {f"k{i}": "v" for i in range(51)}}, "tags"),
        ({"is_multi_region_trail": True, "include_global_service_events": False}, "include_global_service_events"),
        ({"insight_selectors": [{"insight_type": "ApiCallRateInsight", "event_categories": None}],
          "advanced_event_selectors": [{"name": "data", "field_selectors": [
              {"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::S3::Object"]}]}]},
         "insight_selectors"),
    ],
)
def test_a_broken_rule_names_the_option_before_any_call(given, option):
    with pytest.raises(ParameterError) as raised:
        baseline.check(options(**given))
    assert raised.value.option == option
    assert str(raised.value).startswith(f"{option}: ")
    assert "nothing was written" in str(raised.value)


def test_the_defaults_pass_the_checks():
    baseline.check(options())


def test_specs_name_the_bucket_and_the_trails_grant():
    specs = baseline.part_specs(options(), WHERE)
    bucket = baseline.default_bucket_name(WHERE.account, "management-events")
    assert specs["log_bucket"]["name"] == bucket
    assert specs["bucket_policy"]["trails"] == [WHERE.trail_arn]
    assert specs["bucket_policy"]["deny_insecure_transport"] is True
    assert set(specs) == {"log_bucket", "bucket_policy", "trail"}


def test_an_adopted_bucket_gets_no_deny_statement_and_optional_parts_are_specified_only_when_made():
    specs = baseline.part_specs(options(s3_bucket_name="their-logs", s3_bucket_existing=True, kms_key_create=True, sns_topic_create=True), WHERE)
    assert specs["bucket_policy"]["deny_insecure_transport"] is False
    # Names left empty are the parts' defaults, named after the trail.
    assert specs["kms_key"]["alias"] is None and specs["sns_topic"]["name"] is None
    assert "cloudwatch_logs" not in specs


def test_with_a_log_archive_the_bucket_is_named_after_the_archive_and_grants_the_members_trail():
    archive = dataclasses.replace(WHERE, owner="210987654321")
    specs = baseline.part_specs(options(), archive)
    assert specs["log_bucket"]["name"] == baseline.default_bucket_name("210987654321", "management-events")
    assert specs["bucket_policy"]["trails"] == [WHERE.trail_arn]
    assert specs["log_bucket"]["option_names"]["archive_role"] == "log_archive_role_arn"


def test_only_the_bucket_its_policy_and_the_key_act_in_the_archive():
    member, archive = object(), object()
    placement = baseline.Placement(member, WHERE, archive, dataclasses.replace(WHERE, owner="210987654321"))
    assert [part for part in baseline.PART_ORDER if placement.clients(part) is archive] == ["log_bucket", "bucket_policy", "kms_key"]
    assert placement.at("kms_key").resource_account == "210987654321" and placement.at("trail") is WHERE
    alone = baseline.Placement(member, WHERE)
    assert {alone.clients(part) for part in baseline.PART_ORDER} == {member}


def test_deleting_leaves_the_key_topic_and_log_group():
    specs = baseline.part_specs(options(state="absent", kms_key_create=True, sns_topic_create=True, cloudwatch_logs_create=True), WHERE)
    assert set(specs) == {"log_bucket", "bucket_policy", "trail"}


# -- the bucket policy as a part --------------------------------------------
def test_the_bucket_policy_plan_adds_the_trails_statements_and_keeps_others():
    spec = baseline.part_specs(options(), WHERE)["bucket_policy"]
    theirs = {"Sid": "Theirs", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "s3:GetObject", "Resource": "*"}
    plan = BucketPolicyPart.plan({"Version": "2012-10-17", "Statement": [theirs]}, spec, WHERE)
    assert plan.steps == ["PutBucketPolicy"]
    assert plan.before is None
    assert sorted(plan.after["statements"]) == sorted(BucketPolicyPart.owned(spec))
    assert "Theirs" not in plan.after["statements"]


def test_the_bucket_policy_plan_is_empty_when_the_statements_are_there():
    spec = baseline.part_specs(options(), WHERE)["bucket_policy"]
    policy = {"Version": "2012-10-17", "Statement": BucketPolicyPart.desired(spec, WHERE)}
    plan = BucketPolicyPart.plan(policy, spec, WHERE)
    assert plan.steps == [] and plan.before == plan.after


# -- the trail as a part ----------------------------------------------------
def _upstream(**extra):
    return dict({"bucket": "logs-bucket", "given_kms_key_arn": None}, **extra)


def test_a_new_trail_is_created_and_started():
    plan = baseline._TrailPart.plan(None, options(), _upstream(), WHERE)
    assert plan.steps == ["CreateTrail", "StartLogging"]
    assert plan.after["trail_arn"] == WHERE.trail_arn
    assert plan.after["s3_bucket_name"] == "logs-bucket"
    assert plan.after["log_file_validation_enabled"] is True and plan.after["is_multi_region_trail"] is True


def test_a_new_key_is_known_after_the_run_in_the_prediction():
    plan = baseline._TrailPart.plan(None, options(kms_key_create=True), _upstream(kms_key_id=KNOWN_AFTER_RUN), WHERE)
    assert plan.after["kms_key_id"] == KNOWN_AFTER_RUN


def test_a_trail_as_asked_has_no_steps():
    after = baseline._TrailPart.plan(None, options(), _upstream(), WHERE).after
    plan = baseline._TrailPart.plan(after, options(), _upstream(), WHERE)
    assert plan.steps == []


def test_stopped_logging_is_started_again():
    after = baseline._TrailPart.plan(None, options(), _upstream(), WHERE).after
    plan = baseline._TrailPart.plan(dict(after, is_logging=False), options(), _upstream(), WHERE)
    assert plan.steps == ["StartLogging"]
    assert (plan.before["is_logging"], plan.after["is_logging"]) == (False, True)


def test_an_absent_trail_is_deleted_once():
    after = baseline._TrailPart.plan(None, options(), _upstream(), WHERE).after
    assert baseline._TrailPart.plan(after, options(state="absent"), {}, WHERE).steps == ["DeleteTrail"]
    assert baseline._TrailPart.plan(None, options(state="absent"), {}, WHERE).steps == []


# -- selectors as a part ----------------------------------------------------
def test_a_narrowed_selector_is_put_back():
    spec = baseline._selector_params(options(event_selectors_preset="management_events"))
    narrowed = {"selection": {"event_selectors": [dict(baseline.event_selectors.DEFAULT_EVENT_SELECTOR, read_write_type="WriteOnly")],
                              "advanced_event_selectors": []}, "insights": None}
    plan = baseline._SelectorsPart.plan(narrowed, spec)
    assert plan.steps == ["PutEventSelectors"]


def test_insights_off_on_a_trail_without_insights_need_no_call():
    spec = baseline._selector_params(options(insight_selectors=[]))
    plan = baseline._SelectorsPart.plan({"selection": None, "insights": []}, spec)
    assert plan.steps == []
