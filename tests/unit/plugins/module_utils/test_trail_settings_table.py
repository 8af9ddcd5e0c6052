"""The trail's settings are one table: a new setting is one row, and
validation, normalization, the desired and predicted trail, both requests and
error messages pick it up with nothing else changed."""

from __future__ import annotations

import botocore.exceptions
import pytest

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError

from ansible_collections.trailops.cloudtrail.plugins.module_utils import trail as tr
from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError

ARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main-trail"
IDENTITY = {"name": "main-trail", "trail_arn": ARN, "home_region": "us-east-1", "s3_bucket_name": "logs"}

# A setting CloudTrail does not have: a boolean and a clearable string with
# its own check, error code and a derived key, to exercise every row field.
SWITCH = tr.TrailSetting(
    "enable_hypothetical_switch",
    "hypothetical_switch_enabled",
    "EnableHypotheticalSwitch",
    "HypotheticalSwitchEnabled",
    new_trail_default=False,
    normalize=bool,
)
LABEL = tr.TrailSetting(
    "hypothetical_label",
    "hypothetical_label",
    "HypotheticalLabel",
    "HypotheticalLabel",
    clearable=True,
    check=lambda value: None if value.islower() else f"'{value}' must be lowercase",
    desire=lambda value, resolved: value.strip(),
    shown_as=("hypothetical_label_length", len),
    errors=(("InvalidHypotheticalLabelException", "not a label CloudTrail takes"),),
)


@pytest.fixture(autouse=True)
def with_new_rows(monkeypatch):
    monkeypatch.setattr(tr, "SETTINGS", tr.SETTINGS + (SWITCH, LABEL))


def params(**overrides):
    base = {setting.option: None for setting in tr.SETTINGS}
    base.update(name="main-trail", state="present", enable_logging=None, tags=None, purge_tags=True, s3_bucket_name="logs")
    base.update(overrides)
    return base


def existing(**api):
    return tr.normalize_trail(dict({"Name": "main-trail", "TrailARN": ARN, "HomeRegion": "us-east-1", "S3BucketName": "logs"}, **api), {"IsLogging": True}, {})


def test_normalization_reads_the_new_fields():
    trail = existing(HypotheticalSwitchEnabled=True, HypotheticalLabel="blue")
    assert (trail["hypothetical_switch_enabled"], trail["hypothetical_label"], trail["hypothetical_label_length"]) == (True, "blue", 4)
    unset = existing(HypotheticalLabel="")
    assert (unset["hypothetical_switch_enabled"], unset["hypothetical_label"], unset["hypothetical_label_length"]) == (False, None, None)


def test_validation_runs_the_row_check_and_skips_a_clear():
    with pytest.raises(ParameterError, match=r"^hypothetical_label: 'Blue' must be lowercase$"):
        tr.validate_params(params(hypothetical_label="Blue"))
    tr.validate_params(params(hypothetical_label="", enable_hypothetical_switch=True))


def test_desired_holds_the_options_normalized():
    assert tr.desired_settings(params(enable_hypothetical_switch=True, hypothetical_label=" blue "), None, ARN) == {
        "s3_bucket_name": "logs",
        "hypothetical_switch_enabled": True,
        "hypothetical_label": "blue",
    }
    assert tr.desired_settings(params(hypothetical_label=""), None, ARN)["hypothetical_label"] is None


def test_a_new_trail_gets_the_rows_defaults_and_create_sends_them():
    after = tr.plan_present(None, params(hypothetical_label="blue"), None, IDENTITY)
    assert (after["hypothetical_switch_enabled"], after["hypothetical_label"], after["hypothetical_label_length"]) == (False, "blue", 4)
    request = tr.create_trail_params("main-trail", params(hypothetical_label="blue"), after)
    assert (request["EnableHypotheticalSwitch"], request["HypotheticalLabel"]) == (False, "blue")
    assert tr.present_steps(None, after, params()) == ["CreateTrail", "StartLogging"]


def test_update_sends_only_what_changed_and_clears_with_an_empty_string():
    before = existing(HypotheticalLabel="blue")
    turn_on = params(enable_hypothetical_switch=True)
    after = tr.plan_present(before, turn_on, None, None)
    assert tr.update_trail_params(before, after, turn_on) == {"Name": ARN, "EnableHypotheticalSwitch": True}
    assert tr.present_steps(before, after, turn_on) == ["UpdateTrail"]

    clear = params(hypothetical_label="")
    after = tr.plan_present(before, clear, None, None)
    assert (after["hypothetical_label"], after["hypothetical_label_length"]) == (None, None)
    assert tr.update_trail_params(before, after, clear) == {"Name": ARN, "HypotheticalLabel": ""}


def test_the_same_settings_plan_nothing():
    before = existing(HypotheticalSwitchEnabled=True, HypotheticalLabel="blue")
    same = params(enable_hypothetical_switch=True, hypothetical_label="blue")
    assert tr.plan_present(before, same, None, None) == before
    assert tr.present_steps(before, before, same) == []


def test_the_rows_error_code_names_its_option():
    error = botocore.exceptions.ClientError({"Error": {"Code": "InvalidHypotheticalLabelException", "Message": "no"}}, "UpdateTrail")
    explained = tr.explain_error(AnsibleAWSError(message="update trail", exception=error))
    assert explained == "hypothetical_label: not a label CloudTrail takes (InvalidHypotheticalLabelException: no)"
