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
