"""Credentials never show: every module, the lookup and a role run through
``ansible-playbook -vvv`` with distinctive credentials (as module options and in
the environment); none of them may appear in stdout, stderr (warnings, the
-vvv invocation and results, diffs) or the registered results."""

from __future__ import annotations

import json
import re

PLAYBOOK = "tests/reliability/playbooks/secrets.yml"

MARKERS = {
    "marker_access_key": "AKIAEXAMPLESECRET01",
    "marker_secret_key": "secret-marker-7f3a9c1e-do-not-print",
    "marker_session_token": "session-token-marker-51b2d8e4-do-not-print",
}


def test_no_credential_in_output_or_results(aws, run_playbook, tmp_path):
    aws.client("s3").create_bucket(Bucket="secrets-logs")
    registered = tmp_path / "registered.json"
    env = {
        "AWS_ACCESS_KEY_ID": MARKERS["marker_access_key"],
        "AWS_SECRET_ACCESS_KEY": MARKERS["marker_secret_key"],
        "AWS_SESSION_TOKEN": MARKERS["marker_session_token"],
        "ANSIBLE_NOCOLOR": "1",
    }
    result = run_playbook(PLAYBOOK, dict(MARKERS, registered_file=str(registered)), "-vvv", "--diff", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads(registered.read_text())
    # The run did the work (so the output had something to leak).
    assert results["trail"]["changed"] is True and results["selectors"]["changed"] is True
    assert results["failed"]["failed"] is True
    assert results["validate"]["failed"] is True and "digest" in results["validate"]["msg"]
    assert [t["name"] for t in results["info"]["trails"]] == ["secrets-trail"]
    assert any(e["event_name"] == "CreateTrail" for e in results["history"])
    assert "<TASK: trailops.cloudtrail.event_selectors : " in result.stdout or "event_selectors :" in result.stdout

    # The one place an access key id belongs: the events CloudTrail recorded
    # (their accessKeyId is what event_history is asked for), never the caller's key elsewhere.
    recorded = re.compile(r'(access_key_id|accessKeyId)\\*"\s*:\s*\\*"' + MARKERS["marker_access_key"])
    outputs = {name: recorded.sub("", text) for name, text in
               {"stdout": result.stdout, "stderr": result.stderr, "registered": registered.read_text()}.items()}
    leaks = [(where, name) for name, marker in MARKERS.items() for where, text in outputs.items() if marker in text]
    assert leaks == []


# -- the fleet playbooks, with credentials the local AWS's STS issued ----------
FLEET_RUNS = [
    ("playbooks/fleet.yml", ("-v",)),
    ("playbooks/fleet.yml", ("-vvv", "--diff")),
    ("playbooks/drift_report.yml", ("--check", "-v")),
    ("playbooks/drift_report.yml", ("--check", "-vvv", "--diff")),
    ("playbooks/dashboard.yml", ("-v",)),
    ("playbooks/dashboard.yml", ("-vvv", "--diff")),
    ("playbooks/validate_logs.yml", ("-v",)),
    ("playbooks/validate_logs.yml", ("-vvv", "--diff")),
]


def test_no_member_account_secret_in_fleet_output_or_reports(aws, run_playbook, tmp_path):
    from tests.integration.fleet_helpers import make_organization, static_account, write_inventory
    from tests.local_aws.fidelity.sts_credentials import CREDENTIALS_PATH

    members = make_organization(aws, 2)
    inventory = write_inventory(tmp_path, accounts=[static_account(account) for account in members], source="yaml")
    report_dir = tmp_path / "reports"
    outputs = {}
    for playbook, args in FLEET_RUNS:
        run = run_playbook(playbook, {"report_dir": str(report_dir)}, "-i", inventory, *args, env={"ANSIBLE_NOCOLOR": "1"})
        assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-3000:]
        outputs[f"{playbook} {' '.join(args)} stdout"] = run.stdout
        outputs[f"{playbook} {' '.join(args)} stderr"] = run.stderr
    # The runs did the work, in every member account (so the output had secrets to leak).
    assert "changed=" in outputs["playbooks/fleet.yml -v stdout"]
    assert all(account in outputs["playbooks/fleet.yml -vvv --diff stdout"] for account in members)
    written = sorted(path.name for path in report_dir.iterdir())
    assert written == ["dashboard.html", "drift_report.json", "drift_report.md", "log_validation.json"]
    for path in report_dir.iterdir():
        outputs[str(path)] = path.read_text()

    issued = [entry for entry in json.loads(aws._get(CREDENTIALS_PATH)) if entry["account_id"] in members]
    # One assumed role per account and run.
    assert len(issued) >= len(members) * len(FLEET_RUNS)
    secrets = {entry["secret_access_key"] for entry in issued} | {entry["session_token"] for entry in issued}
    leaks = sorted({where for where, text in outputs.items() for secret in secrets if secret in text})
    assert leaks == []
    # -vvv used to print them in every EXEC line, as environment variables.
    assert not any("AWS_SECRET_ACCESS_KEY=" in text or "AWS_SESSION_TOKEN=" in text for text in outputs.values())
