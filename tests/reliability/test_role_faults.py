"""The roles under faults, with botocore's own retries as a user has them (the
roles also run amazon.aws's and community.aws's modules, which count on those):
check mode writes nothing and predicts a change in the same roles the real run
changes (the roles report a prediction in check mode instead of running each
module, so task counts differ by design);
the real run reaches the state a run without faults reaches; the second run
reports changed=0 and makes no write."""

from __future__ import annotations

import re

from tests.local_aws.fidelity.faults import fault_counts, inject_faults
from tests.reliability.scenarios import read_state
from tests.reliability.test_module_faults import MODULES, writes

PLAYBOOK = "tests/reliability/playbooks/roles.yml"
ENV = {"ANSIBLE_NOCOLOR": "1"}
FAULTS = [
    dict(MODULES, fault="throttle", every=4),
    dict(MODULES, fault="server_error", status=503, every=7),
    dict(MODULES, service="s3", fault="server_error", status=500, every=9),
]


def _recap(stdout: str) -> dict[str, int]:
    match = re.search(r"localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", stdout)
    assert match, stdout
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))


def _changed_roles(stdout: str) -> set[str]:
    roles, role = set(), None
    for line in stdout.splitlines():
        task = re.match(r"TASK \[trailops\.cloudtrail\.(\w+) : ", line)
        if line.startswith("TASK ["):
            role = task.group(1) if task else None
        elif line.startswith("changed:") and role:
            roles.add(role)
    return roles


def _run(run_playbook, *args: str, selectors_role: bool = True):
    result = run_playbook(PLAYBOOK, {"selectors_role": selectors_role}, *args, env=ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    return dict(_recap(result.stdout), roles=_changed_roles(result.stdout))


def test_roles_converge_under_faults(aws, run_playbook):
    _run(run_playbook)
    expected = read_state(aws)
    aws.reset()
    inject_faults(aws, FAULTS)

    # The event_selectors role needs the trail: in check mode on an empty
    # account it can only fail, so each role is predicted where it can run.
    for selectors_role in (False, True):
        state = read_state(aws)
        aws.start_recording()
        predicted = _run(run_playbook, "--check", "--diff", selectors_role=selectors_role)
        calls = aws.stop_recording()
        assert writes(calls) == []
        assert read_state(aws) == state

        applied = _run(run_playbook, "--diff", selectors_role=selectors_role)
        # The trail role's bucket is part of its one baseline module run (no log_bucket role inside).
        assert applied["roles"] == predicted["roles"] == ({"trail"} if not selectors_role else {"event_selectors"})
    assert read_state(aws) == expected

    # The second run: nothing to change, nothing written. (The fault-free drift
    # check is tests/integration/test_roles.py's.)
    aws.start_recording()
    again = _run(run_playbook)
    calls = aws.stop_recording()
    assert again["changed"] == 0 and again["roles"] == set()
    assert writes(calls) == []
    assert read_state(aws) == expected
    assert sum(rule["injected"] for rule in fault_counts(aws)) > 0


def test_log_bucket_survives_a_throttled_versioning_read(aws, run_playbook):
    """Five SlowDown answers in a row to the bucket's versioning read: the trail
    role's baseline module retries it (the collection's retry policy) instead of
    failing the account, and the bucket is made as asked."""
    inject_faults(aws, [dict(MODULES, service="s3", action="GetBucketVersioning", fault="throttle", every=6, burst=5, limit=5)])
    applied = _run(run_playbook, selectors_role=False)
    assert applied["failed"] == 0 and "trail" in applied["roles"]
    assert fault_counts(aws)[0]["injected"] == 5
    assert aws.client("s3").get_bucket_versioning(Bucket="reliability-role-logs")["Status"] == "Enabled"
