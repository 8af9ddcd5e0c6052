"""The trailops.cloudtrail.fleet stdout callback, fed fake task results: one
line per account as its outcome is known, counted out of the play's hosts;
everything else silent unless it fails; -v as Ansible's default callback."""

from __future__ import annotations

import types

import pytest

from ansible.playbook.block import Block
from ansible.playbook.task import Task
from ansible.plugins.callback.default import CallbackModule as DefaultCallback

from ansible_collections.trailops.cloudtrail.plugins.callback import fleet
from ansible_collections.trailops.cloudtrail.plugins.callback.fleet import CallbackModule

from tests.unit.plugins.callback.fakes import SECRET, FakeDisplay, FakeHost


def fake_task(action: str = "trailops.cloudtrail.baseline", run_once: bool = False, args=None, parent=None):
    return types.SimpleNamespace(action=action, run_once=run_once, args=args or {}, _uuid=object(), _parent=parent, ignore_unreachable=False)


def fake_result(host: FakeHost, result: dict, task=None):
    return types.SimpleNamespace(task=task or fake_task(), host=host, result=result)


def fake_play(hosts: list[str]):
    variables = types.SimpleNamespace(get_vars=lambda play: {"ansible_play_hosts_all": hosts})
    return types.SimpleNamespace(get_variable_manager=lambda: variables)


@pytest.fixture
def callback():
    plugin = CallbackModule()
    plugin._display = FakeDisplay()
    plugin.v2_playbook_on_play_start(fake_play(["111111111111", "222222222222", "333333333333"]))
    return plugin


PROD = FakeHost("111111111111", "prod-payments")
SANDBOX = FakeHost("222222222222", "sandbox")
AUDIT = FakeHost("333333333333", "audit")


def test_each_account_prints_one_line_as_its_outcome_is_known(callback):
    callback.v2_runner_on_ok(fake_result(PROD, {"changed": True, "changed_parts": ["log_bucket", "trail"], "parts": {}}))
    callback.v2_runner_on_failed(fake_result(SANDBOX, {"failed": True, "msg": "account 222222222222 (sandbox): is SUSPENDED,\nnot ACTIVE"}))
    callback.v2_runner_on_ok(fake_result(AUDIT, {"changed": False, "changed_parts": [], "parts": {}}))

    assert callback._display.lines == [
        "[1/3] 111111111111 (prod-payments) changed: log_bucket, trail",
        "[2/3] 222222222222 (sandbox) failed: is SUSPENDED, not ACTIVE",
        "[3/3] 333333333333 (audit) ok",
    ]


def test_an_account_without_a_name_is_its_id(callback):
    callback.v2_runner_on_ok(fake_result(FakeHost("444455556666"), {"changed": False, "changed_parts": []}))
    assert callback._display.lines == ["[1/3] 444455556666 ok"]


def test_results_without_changed_parts_are_silent(callback):
    callback.v2_runner_on_ok(fake_result(PROD, {"changed": True, "ansible_facts": {"x": 1}}, fake_task("ansible.builtin.set_fact")))
    callback.v2_runner_on_ok(fake_result(PROD, {"msg": "per host"}, fake_task("ansible.builtin.debug")))
    callback.v2_runner_on_skipped(fake_result(PROD, {"skipped": True}))
    callback.v2_playbook_on_task_start(fake_task(), False)
    assert callback._display.lines == []


def test_ignored_and_rescued_failures_are_not_outcomes(callback):
    callback.v2_runner_on_failed(fake_result(PROD, {"failed": True, "msg": "probe"}), ignore_errors=True)

    guarded, rescue = Task(), Task()
    block = Block()
    block.block = [guarded]
    block.rescue = [rescue]
    guarded._parent = block
    rescue._parent = block
    guarded.action = rescue.action = "ansible.builtin.fail"
    callback.v2_runner_on_failed(fake_result(PROD, {"failed": True, "msg": "handled"}, guarded))
    assert callback._display.lines == []

    # A failure inside the rescue itself fails the account.
    callback.v2_runner_on_failed(fake_result(PROD, {"failed": True, "msg": "gave up"}, rescue))
    assert callback._display.lines == ["[1/3] 111111111111 (prod-payments) failed: gave up"]


def test_the_run_once_summary_prints_its_message(callback):
    summary = fake_task("ansible.builtin.debug", run_once=True)
    callback.v2_runner_on_ok(fake_result(PROD, {"msg": {"accounts": 3, "ok": 1, "failed": {"222222222222 (sandbox)": "SUSPENDED"}}}, summary))
    callback.v2_runner_on_ok(fake_result(PROD, {"msg": ["fleet done", "3 accounts"]}, summary))
    assert callback._display.lines == ["accounts: 3\nok: 1\nfailed:\n  222222222222 (sandbox): SUSPENDED", "fleet done\n3 accounts"]


def test_no_log_results_and_credentials_are_never_printed(callback):
    censored = {"censored": "the output has been hidden due to the fact that 'no_log: true' was specified for this result", "changed": False}
    callback.v2_runner_on_ok(fake_result(PROD, censored, fake_task("ansible.builtin.debug", run_once=True)))
    assert callback._display.lines == []

    callback.v2_runner_on_failed(fake_result(SANDBOX, {"failed": True, "msg": f"AssumeRole gave AKIAIOSFODNN7EXAMPLE and {SECRET}"}))
    assert callback._display.lines == ["[1/3] 222222222222 (sandbox) failed: AssumeRole gave <redacted> and <redacted>"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("arn:aws:iam::123456789012:role/OrganizationAccountAccessRole", "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole"),
        ("bucket aws-cloudtrail-logs-123456789012-0a1b2c3d", "bucket aws-cloudtrail-logs-123456789012-0a1b2c3d"),
        ("key ASIAIOSFODNN7EXAMPLE", "key <redacted>"),
        (f"secret={SECRET}", "secret=<redacted>"),
    ],
)
def test_redact_replaces_only_what_looks_like_a_credential(text, expected):
    assert fleet.redact(text) == expected


def test_unreachable_is_a_failure(callback):
    callback.v2_runner_on_unreachable(fake_result(AUDIT, {"unreachable": True, "msg": "no route"}))
    assert callback._display.lines == ["[1/3] 333333333333 (audit) failed: unreachable: no route"]


def test_the_recap_is_one_line(callback):
    summaries = {
        "111111111111": {"failures": 0, "unreachable": 0, "changed": 2},
        "222222222222": {"failures": 1, "unreachable": 0, "changed": 0},
        "333333333333": {"failures": 0, "unreachable": 0, "changed": 0},
    }
    stats = types.SimpleNamespace(processed=dict.fromkeys(summaries, 1), summarize=summaries.__getitem__)
    callback.v2_playbook_on_stats(stats)
    assert callback._display.lines == ["RECAP: 3 hosts: 1 ok, 1 changed, 1 failed"]


def test_verbose_runs_print_what_the_default_callback_prints(callback, monkeypatch):
    seen = []
    monkeypatch.setattr(DefaultCallback, "v2_runner_on_ok", lambda self, result: seen.append(("ok", result)))
    monkeypatch.setattr(DefaultCallback, "v2_runner_on_failed", lambda self, result, ignore_errors=False: seen.append(("failed", result)))
    callback._display.verbosity = 1
    ok = fake_result(PROD, {"changed": False, "changed_parts": []})
    failed = fake_result(SANDBOX, {"failed": True, "msg": "x"})
    callback.v2_runner_on_ok(ok)
    callback.v2_runner_on_failed(failed)
    assert seen == [("ok", ok), ("failed", failed)]
    assert callback._display.lines == []
