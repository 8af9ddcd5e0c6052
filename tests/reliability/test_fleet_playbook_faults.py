"""playbooks/fleet.yml under faults, on a small organization: check mode writes
nothing, the real run brings every account to the state a fault-free run
brings it to, and the second run changes nothing in any account."""

from __future__ import annotations

import json
import re

from tests.integration.fleet_helpers import account_client, make_organization, write_inventory
from tests.integration.test_fleet import ansible_playbook, output, recap, writes
from tests.local_aws.fidelity.faults import clear_faults, fault_counts, inject_faults
from tests.local_aws.server import ACCOUNT_ID
from tests.reliability.scenarios import read_state

N_ACCOUNTS = 2
# Any caller: fleet.yml's calls use each account's assumed-role keys.
FAULTS = [
    {"service": ["cloudtrail", "s3", "kms", "sns", "iam", "logs"], "fault": "throttle", "every": 5},
    {"service": ["cloudtrail", "s3"], "fault": "server_error", "status": 503, "every": 7},
]


def _fleet(aws, tmp_path, name: str) -> tuple[list[str], str]:
    members = make_organization(aws, N_ACCOUNTS)
    return members, write_inventory(tmp_path, aws, options={"exclude_accounts": [ACCOUNT_ID]}, name=name)


def _states(aws, members: list[str]) -> list[str]:
    """Each account's state with its own id (and the suffixes made from it: the
    bucket name's, and the per-trail Sid suffix of the bucket policy's
    statements) taken out, so two organizations compare."""
    states = []
    for account in members:
        state = read_state(aws, lambda service, account=account: account_client(aws, account, service))
        text = json.dumps(state, sort_keys=True, default=str).replace(account, "<account>")
        text = re.sub(r"(aws-cloudtrail-logs-<account>-)[0-9a-f]{8}", r"\1<suffix>", text)
        states.append(re.sub(r"(\"Sid\": \"AWSCloudTrail[A-Za-z]+?[a-z0-9]*?)[0-9a-f]{8}\"", r"\1<suffix>\"", text))
    return states


def _run(aws, inventory: str, *args: str):
    # One fork: the accounts' calls reach the fault counters in the same order every run.
    proc = ansible_playbook(aws, "playbooks/fleet.yml", [inventory], "-f", "1", *args)
    assert proc.returncode == 0, output(proc)
    return recap(proc)


def test_fleet_converges_under_faults(aws, tmp_path):
    members, inventory = _fleet(aws, tmp_path, "baseline")
    _run(aws, inventory)
    expected = _states(aws, members)

    aws.reset()
    members, inventory = _fleet(aws, tmp_path, "faulted")
    inject_faults(aws, FAULTS)
    aws.start_recording()
    predicted = _run(aws, inventory, "--check", "--diff")
    calls = aws.stop_recording()
    assert writes(calls) == []
    applied = _run(aws, inventory)
    assert {host for host, counts in applied.items() if counts["changed"]} == {host for host, counts in predicted.items() if counts["changed"]} >= set(members)
    injected = sum(rule["injected"] for rule in fault_counts(aws))
    clear_faults(aws)
    states = _states(aws, members)
    assert states == expected

    inject_faults(aws, FAULTS)
    aws.start_recording()
    again = _run(aws, inventory)
    calls = aws.stop_recording()
    assert all(counts["changed"] == 0 for counts in again.values()), again
    assert writes(calls) == []
    assert injected > 0
