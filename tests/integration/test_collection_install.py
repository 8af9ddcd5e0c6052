"""The collection as users get it: `ansible-galaxy collection build`, installed
into a fresh collections path beside amazon.aws and community.aws (linked from
the `ansible` package, as `make collection` does), and every playbook run by
its collection name (`ansible-playbook trailops.cloudtrail.<playbook>`) from a
working directory outside the collection. Reports go to that working
directory, or to the report_dir given, never into the installed collection.
"""

from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
import sysconfig

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.fleet_helpers import account_client, make_organization, write_inventory
from tests.local_aws.server import ACCOUNT_ID, REGION

BIN = os.path.dirname(sys.executable)
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
PLAYBOOKS = sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(REPO_ROOT, "playbooks", "*.yml")))


def files_under(root: str) -> set[str]:
    # Python may cache bytecode of the plugins it imports from the collection;
    # that is Python's doing, not a report.
    return {
        os.path.relpath(os.path.join(folder, name), root)
        for folder, dirs, names in os.walk(root)
        if "__pycache__" not in folder.split(os.sep)
        for name in names
    }


class Installed:
    """The built collection installed into a fresh collections path."""

    def __init__(self, tmp_path) -> None:
        self.tmp_path = tmp_path
        self.collections = str(tmp_path / "collections")
        self.build = subprocess.run(
            [os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), REPO_ROOT],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        (self.tarball,) = glob.glob(str(tmp_path / "trailops-cloudtrail-*.tar.gz")) or [None]
        # --no-deps: the dependencies come from the `ansible` package, linked
        # below; offline, Galaxy cannot be asked for them.
        self.install = subprocess.run(
            [os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--no-deps", "-p", self.collections, str(self.tarball)],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            env=self.env({}),
        )
        site = sysconfig.get_paths()["purelib"]
        for namespace, name in (("amazon", "aws"), ("community", "aws")):
            os.makedirs(os.path.join(self.collections, "ansible_collections", namespace), exist_ok=True)
            os.symlink(
                os.path.join(site, "ansible_collections", namespace, name),
                os.path.join(self.collections, "ansible_collections", namespace, name),
            )
        self.root = os.path.join(self.collections, "ansible_collections", "trailops", "cloudtrail")

    def env(self, aws_env: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANSIBLE_", "PYTHONPATH"))}
        env.update(aws_env)
        env.update(
            {
                "ANSIBLE_COLLECTIONS_PATH": self.collections,
                "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
                "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
                "ANSIBLE_LOCALHOST_WARNING": "false",
                "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            }
        )
        return env

    def playbook(self, aws, name: str, cwd: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [os.path.join(BIN, "ansible-playbook"), f"trailops.cloudtrail.{name}", *args],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=self.env(aws.env(REGION)),
            timeout=900,
            check=False,
        )


def output(proc: subprocess.CompletedProcess) -> str:
    return proc.stdout[-6000:] + proc.stderr[-3000:]


def recap(proc: subprocess.CompletedProcess) -> dict[str, dict[str, int]]:
    return {
        host: {"ok": int(ok), "changed": int(changed), "failed": int(failed)}
        for host, ok, changed, _unreachable, failed in RECAP.findall(proc.stdout)
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    return Installed(tmp_path_factory.mktemp("install"))


def test_built_collection_installs_into_a_fresh_collections_path(installed):
    assert installed.build.returncode == 0, installed.build.stdout + installed.build.stderr
    assert installed.install.returncode == 0, installed.install.stdout + installed.install.stderr
    with open(os.path.join(installed.root, "MANIFEST.json"), encoding="utf-8") as handle:
        manifest = json.load(handle)["collection_info"]
    assert (manifest["namespace"], manifest["name"]) == ("trailops", "cloudtrail")
    shipped = files_under(installed.root)
    assert {f"playbooks/{name}.yml" for name in PLAYBOOKS} <= shipped
    # What make and the tests generate stays out of the tarball.
    assert not [path for path in shipped if path.startswith(("build/", ".venv/", "tests/output/"))]
    listed = subprocess.run(
        [os.path.join(BIN, "ansible-galaxy"), "collection", "list", "trailops.cloudtrail", "--format", "json"],
        capture_output=True,
        text=True,
        env=installed.env({}),
        timeout=300,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == {
        os.path.join(installed.collections, "ansible_collections"): {"trailops.cloudtrail": {"version": manifest["version"]}}
    }


def test_demo_runs_by_its_collection_name_and_the_second_run_changes_nothing(aws, installed, tmp_path):
    before = files_under(installed.root)
    first = installed.playbook(aws, "demo", str(tmp_path))
    assert first.returncode == 0, output(first)
    assert recap(first)["localhost"]["changed"] > 0
    aws.start_recording()
    second = installed.playbook(aws, "demo", str(tmp_path))
    calls = aws.stop_recording()
    assert second.returncode == 0, output(second)
    assert recap(second)["localhost"]["changed"] == 0, output(second)
    assert [c for c in calls if c.is_write] == []
    (trail,) = aws.client("cloudtrail").describe_trails()["trailList"]
    assert trail["TrailARN"] == f"arn:aws:cloudtrail:{REGION}:{ACCOUNT_ID}:trail/management-events"
    assert aws.client("cloudtrail").get_trail_status(Name=trail["TrailARN"])["IsLogging"]
    history = installed.playbook(aws, "event_history", str(tmp_path))
    assert history.returncode == 0, output(history)
    assert "CreateTrail" in history.stdout
    assert files_under(installed.root) == before


def test_fleet_playbooks_run_by_collection_name_write_reports_in_the_current_directory(aws, installed, tmp_path):
    members = make_organization(aws, 2)
    inventory = write_inventory(tmp_path, aws, options={"exclude_accounts": [ACCOUNT_ID]})
    work = tmp_path / "work"
    work.mkdir()
    before = files_under(installed.root)

    fleet = installed.playbook(aws, "fleet", str(work), "-i", inventory)
    assert fleet.returncode == 0, output(fleet)
    assert {host for host, counts in recap(fleet).items() if counts["changed"]} == set(members)
    for account in members:
        assert len(account_client(aws, account, "cloudtrail").describe_trails()["trailList"]) == 1

    runs = {
        "validate_logs": installed.playbook(aws, "validate_logs", str(work), "-i", inventory),
        "drift_report": installed.playbook(aws, "drift_report", str(work), "-i", inventory, "--check"),
        "dashboard": installed.playbook(aws, "dashboard", str(work), "-i", inventory),
        "event_search": installed.playbook(aws, "event_search", str(work), "-i", inventory),
    }
    for name, proc in runs.items():
        assert proc.returncode == 0, f"{name}:\n{output(proc)}"
    assert sorted(os.listdir(work)) == [
        "dashboard.html", "drift_report.json", "drift_report.md", "event_search.json", "event_search.md", "log_validation.json"
    ]
    with open(work / "drift_report.json", encoding="utf-8") as handle:
        report = json.load(handle)
    assert {a["account_id"]: a["status"] for a in report["accounts"]} == {account: "clean" for account in members}
    with open(work / "log_validation.json", encoding="utf-8") as handle:
        assert set(json.load(handle)["accounts"]) == set(members)
    # Nothing was written into the installed collection (the old default,
    # playbook_dir/../build/reports, was inside it).
    assert files_under(installed.root) == before
    assert not os.path.exists(os.path.join(installed.root, "build"))

    # A report_dir the user names wins.
    elsewhere = tmp_path / "elsewhere"
    named = installed.playbook(aws, "drift_report", str(work), "-i", inventory, "--check", "-e", f"report_dir={elsewhere}")
    assert named.returncode == 0, output(named)
    assert sorted(os.listdir(elsewhere)) == ["drift_report.json", "drift_report.md"]


def test_every_playbook_is_covered_here():
    assert PLAYBOOKS == ["dashboard", "demo", "drift_report", "event_history", "event_search", "fleet", "validate_logs"]
