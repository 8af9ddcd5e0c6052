"""The trailops.cloudtrail.fleet callback on playbooks/validate_logs.yml's results:
each trail's line as its validate_logs run finishes (verdict, digests and log
files checked, seconds), then the account's outcome counted out of the play's
hosts, from its log_validation fact."""

from __future__ import annotations

import types

import pytest

from ansible_collections.trailops.cloudtrail.plugins.callback import fleet
from ansible_collections.trailops.cloudtrail.plugins.callback.fleet import CallbackModule

from tests.unit.plugins.callback.fakes import SECRET, FakeDisplay, FakeHost


PROD = FakeHost("111111111111", "prod-payments")
AUDIT = FakeHost("222222222222")


def fake_result(host: FakeHost, result: dict, action: str = "trailops.cloudtrail.validate_logs"):
    task = types.SimpleNamespace(action=action, run_once=False, args={}, _uuid=object(), _parent=None, ignore_unreachable=False)
    return types.SimpleNamespace(task=task, host=host, result=result)


def validated(verdict: str, seconds: float, failures: int = 0, **extra) -> dict:
    """A validate_logs result, as a loop item of the playbook."""
    return {
        "verdict": verdict,
        "seconds": seconds,
        "summary": {
            "digests": {"valid": 23, "invalid": 1, "missing": 1},
            "backfill_digests": {"valid": 1, "invalid": 0, "missing": 0},
            "log_files": {"valid": 280, "modified": 2, "deleted": 1, "unreadable": 0, "not_validated": 12},
        },
        "failures": [{"kind": "log_file_modified", "s3_key": "k", "detail": "d"}] * failures,
        "item": {"name": "management-events", "trail_arn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/management-events"},
        "_ansible_item_label": "management-events",
        **extra,
    }


def account_fact(verdict: str, seconds: float, trails: list, failures: int = 0, **summary) -> dict:
    """The result of the set_fact that gives the account its log_validation."""
    entry = {"verdict": verdict, "seconds": seconds, "summary": dict(summary, trails=trails), "failures": [{"kind": "x"}] * failures}
    return {"ansible_facts": {"log_validation": entry}, "changed": False}


@pytest.fixture
def callback():
    plugin = CallbackModule()
    plugin._display = FakeDisplay()
    variables = types.SimpleNamespace(get_vars=lambda play: {"ansible_play_hosts_all": ["111111111111", "222222222222"]})
    plugin.v2_playbook_on_play_start(types.SimpleNamespace(get_variable_manager=lambda: variables))
    return plugin


def test_each_trail_then_the_account_counted(callback):
    callback.v2_runner_item_on_ok(fake_result(PROD, validated("invalid", 41.2, failures=3)))
    trail = {"name": "management-events", "digests": {"valid": 23, "invalid": 1, "missing": 1}, "backfill_digests": {"valid": 1},
             "log_files": {"valid": 280, "modified": 2, "deleted": 1, "not_validated": 12}}
    callback.v2_runner_on_ok(fake_result(PROD, account_fact("invalid", 43.0, [trail], failures=3), action="ansible.builtin.set_fact"))
    callback.v2_runner_on_ok(fake_result(AUDIT, account_fact("not_validated", 0.9, [], message="no trail of this account has log file validation on"),
                                         action="ansible.builtin.set_fact"))

    assert callback._display.lines == [
        # Digests checked: valid and invalid, backfill included; log files checked: all but those of the invalid digest.
        "111111111111 (prod-payments) trail management-events: invalid, 25 digests and 283 log files checked in 41.2 s, 3 failures",
        "[1/2] 111111111111 (prod-payments) invalid in 43.0 s: 1 trail, 25 digests, 283 log files, 3 failures",
        "[2/2] 222222222222 not_validated in 0.9 s: no trail of this account has log file validation on",
    ]


def test_a_trail_that_could_not_be_validated_says_why(callback):
    unreadable = {"verdict": "unreadable", "seconds": 0.4, "summary": {}, "failures": [], "_ansible_item_label": "org",
                  "msg": f"Cannot read the digest file s3://b/k:\naccess denied {SECRET}"}
    callback.v2_runner_item_on_ok(fake_result(AUDIT, unreadable))
    assert callback._display.lines == ["222222222222 trail org: unreadable in 0.4 s: Cannot read the digest file s3://b/k: access denied <redacted>"]


def test_an_account_whose_role_cannot_be_assumed_is_counted_with_the_reason(callback):
    callback.v2_runner_on_ok(fake_result(PROD, account_fact("unreadable", 1.5, [], error="could not assume the role"), action="ansible.builtin.set_fact"))
    assert callback._display.lines == ["[1/2] 111111111111 (prod-payments) unreadable in 1.5 s: could not assume the role"]


def test_other_results_stay_silent(callback):
    callback.v2_runner_item_on_ok(fake_result(PROD, {"item": "x", "changed": False}, action="ansible.builtin.set_fact"))
    callback.v2_runner_on_ok(fake_result(PROD, {"ansible_facts": {"_validate_logs_began": "1.0"}}, action="ansible.builtin.set_fact"))
    callback.v2_runner_on_ok(fake_result(PROD, {"results": [validated("valid", 1.0)], "changed": False}))
    assert callback._display.lines == []


def test_verbose_leaves_it_to_the_default_callback(callback, monkeypatch):
    callback._display.verbosity = 1
    shown = []
    monkeypatch.setattr(fleet.DefaultCallback, "v2_runner_item_on_ok", lambda self, result: shown.append(result))
    result = fake_result(PROD, validated("valid", 1.0))
    callback.v2_runner_item_on_ok(result)
    assert shown == [result] and callback._display.lines == []


@pytest.mark.parametrize(
    "summary, expected",
    [
        ({}, (0, 0)),
        ({"digests": {"valid": 2, "invalid": 1, "missing": 4}, "log_files": {"valid": 5, "not_validated": 9}}, (3, 5)),
        ({"digests": None, "backfill_digests": {"valid": 1}, "log_files": {"unreadable": 1, "deleted": 1, "modified": 1}}, (1, 3)),
    ],
)
def test_checked_counts(summary, expected):
    assert fleet.checked_counts(summary) == expected
