"""The fleet stdout callback on playbooks/dashboard.yml: one counted line per
account as its reads finish, from the account's dashboard_account fact."""

from __future__ import annotations

import types

from ansible_collections.trailops.cloudtrail.plugins.callback.fleet import CallbackModule
from ansible_collections.trailops.cloudtrail.plugins.callback.fleet import dashboard_outcome

from tests.unit.plugins.callback.fakes import FakeDisplay, FakeHost


def set_fact(host: FakeHost, account: dict):
    task = types.SimpleNamespace(action="ansible.builtin.set_fact", run_once=False, args={}, _uuid=object(), _parent=None)
    return types.SimpleNamespace(task=task, host=host, result={"changed": False, "ansible_facts": {"dashboard_account": account}})


def test_each_account_prints_its_reads_or_why_it_is_unreadable():
    plugin = CallbackModule()
    plugin._display = FakeDisplay()
    hosts = ["111111111111", "222222222222"]
    plugin.v2_playbook_on_play_start(types.SimpleNamespace(
        get_variable_manager=lambda: types.SimpleNamespace(get_vars=lambda play: {"ansible_play_hosts_all": hosts})))

    # trail_info in two regions shows a multi-region trail twice: one trail.
    trails = [{"trail_arn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/all"}] * 2
    plugin.v2_runner_on_ok(set_fact(FakeHost(hosts[0], "prod"), {"error": None, "trails": trails, "events": [{}] * 500}))
    closed = {"error": "account 222222222222 (closed) is SUSPENDED,\nnot ACTIVE", "trails": [], "events": []}
    plugin.v2_runner_on_ok(set_fact(FakeHost(hosts[1], "closed"), closed))
    assert plugin._display.lines == [
        "[1/2] 111111111111 (prod) read: 1 trail, 500 events",
        "[2/2] 222222222222 (closed) unreadable: account 222222222222 (closed) is SUSPENDED, not ACTIVE",
    ]


def test_other_facts_are_not_outcomes():
    assert dashboard_outcome({"ansible_facts": {"account_region": "us-east-1"}}) is None
    assert dashboard_outcome({"ansible_facts": {"dashboard_account": "not a dict"}}) is None
    assert dashboard_outcome({"changed": False}) is None
