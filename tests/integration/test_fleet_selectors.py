"""The fleet's default baseline owns the event selectors (all management
events, the console's default): a trail narrowed to write-only events is
drift, and the fleet puts the selectors back."""

from __future__ import annotations

import json
import os

from tests.integration.fleet_helpers import account_client, make_organization, write_inventory
from tests.integration.test_fleet import ansible_playbook, output, writes
from tests.local_aws.server import ACCOUNT_ID

TRAIL = "management-events"


def test_a_narrowed_selector_is_drift_and_is_put_back(aws, tmp_path):
    narrowed, untouched = make_organization(aws, 2)
    inventory = write_inventory(tmp_path, aws, options={"exclude_accounts": [ACCOUNT_ID]}, name="org")
    region = ["-e", json.dumps({"fleet_region": "us-east-1"})]
    assert ansible_playbook(aws, "playbooks/fleet.yml", [inventory], *region).returncode == 0
    account_client(aws, narrowed, "cloudtrail").put_event_selectors(
        TrailName=TRAIL, EventSelectors=[{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]
    )

    report_dir = str(tmp_path / "reports")
    aws.start_recording()
    proc = ansible_playbook(aws, "playbooks/drift_report.yml", [inventory], "--check", "-e", json.dumps({"report_dir": report_dir}), *region)
    assert writes(aws.stop_recording()) == []
    assert proc.returncode == 0, output(proc)
    with open(os.path.join(report_dir, "drift_report.json"), encoding="utf-8") as handle:
        accounts = {a["account_id"]: a for a in json.load(handle)["accounts"]}
    assert accounts[untouched]["status"] == "clean"
    assert accounts[narrowed]["status"] == "drifted"
    (item,) = accounts[narrowed]["drift"]
    assert item["resource"] == f"trail {TRAIL} selectors" and item["setting"] == "event_selectors"
    assert [s["read_write_type"] for s in item["actual"]] == ["WriteOnly"]
    assert [s["read_write_type"] for s in item["desired"]] == ["All"]

    assert ansible_playbook(aws, "playbooks/fleet.yml", [inventory], *region).returncode == 0
    selectors = account_client(aws, narrowed, "cloudtrail").get_event_selectors(TrailName=TRAIL)["EventSelectors"]
    assert [s["ReadWriteType"] for s in selectors] == ["All"]
