"""The trailops.cloudtrail.fleet stdout callback on a real ansible-playbook run:
three fake accounts, set_fact/debug stand-ins for the baseline module's result
(no AWS needed), and the exact lines it prints."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from tests.conftest import COLLECTIONS, REPO_ROOT

PLAYBOOK = "tests/integration/playbooks/fleet_callback.yml"
# An access key id and a secret key of AWS's documentation: a no_log task gets them.
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ACCOUNTS = {
    "111111111111": {"aws_account_name": "prod-payments", "fake_changed_parts": ["log_bucket", "trail"]},
    "222222222222": {"aws_account_name": "sandbox", "fake_failure": True},
    "333333333333": {"aws_account_name": "audit"},
}


def run(tmp_path, *args: str) -> subprocess.CompletedProcess:
    inventory = tmp_path / "fleet.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": ACCOUNTS}}))
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_STDOUT_CALLBACK="trailops.cloudtrail.fleet",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PYTHONPATH=os.pathsep.join([COLLECTIONS, REPO_ROOT]),
    )
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), PLAYBOOK, "-i", str(inventory), "-f", "1"]
    command += ["-e", f"fake_secret={SECRET}"]
    return subprocess.run(command + list(args), capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=300, check=False)


def test_a_fleet_run_prints_one_line_per_account_and_the_summary(tmp_path):
    proc = run(tmp_path)

    # One account failed: the run says so with its exit code, as without the callback.
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [
        # -f 1: accounts in inventory order, task by task; the failure is known first.
        "[1/3] 222222222222 (sandbox) failed: is SUSPENDED, not ACTIVE",
        "[2/3] 111111111111 (prod-payments) changed: log_bucket, trail",
        "[3/3] 333333333333 (audit) ok",
        "fleet: 3 accounts, 2 went on",
        "RECAP: 3 hosts: 1 ok, 1 changed, 1 failed",
    ]
    assert SECRET not in proc.stdout + proc.stderr


def test_a_check_run_says_what_would_change(tmp_path):
    proc = run(tmp_path, "--check")
    assert "[2/3] 111111111111 (prod-payments) changed: log_bucket, trail" in proc.stdout.splitlines()


def test_verbose_prints_what_the_default_callback_prints(tmp_path):
    proc = run(tmp_path, "-v")
    assert "TASK [Stand in for the baseline module]" in proc.stdout
    assert "PLAY RECAP" in proc.stdout
    assert "handled by the rescue" in proc.stdout
    # no_log holds at every verbosity.
    assert SECRET not in proc.stdout + proc.stderr
    assert "[1/3]" not in proc.stdout
