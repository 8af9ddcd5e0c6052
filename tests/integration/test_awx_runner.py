"""playbooks/fleet.yml and playbooks/drift_report.yml run as AWX / Automation
Platform runs a job: through ``ansible-runner run`` with a private data dir
laid out as AWX lays it (docs/fleet.md, "Job template"):

    env/extravars   the job template's Extra variables (fleet_region, ...)
    env/envvars     what AWX puts in the job's environment: the Amazon Web
                    Services credential, and (standing for the execution
                    environment's installed collections) ANSIBLE_COLLECTIONS_PATH
    env/cmdline     the job type's options: --check for a Check job
    inventory/      the accounts inventory file (trailops.cloudtrail.accounts)
    project/        the project: this repository's playbooks/

ansible-runner is started with an environment that holds no AWS or Ansible
variable, so everything the job needs comes from the private data dir. The
checks read what AWX reads: artifacts/<ident>/status, rc and job_events/.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.conftest import COLLECTIONS, REPO_ROOT
from tests.integration.fleet_helpers import account_client, make_organization, write_inventory
from tests.local_aws.server import ACCOUNT_ID

TRAIL = "awx-baseline"
REGION = "us-east-1"
N_ACCOUNTS = 3
ANSIBLE_RUNNER = os.path.join(os.path.dirname(sys.executable), "ansible-runner")


class Job:
    """One AWX job's private data dir and its artifacts after the run."""

    def __init__(self, private_data_dir: str, ident: str, proc: subprocess.CompletedProcess) -> None:
        self.artifacts = os.path.join(private_data_dir, "artifacts", ident)
        self.proc = proc

    def _read(self, name: str) -> str:
        with open(os.path.join(self.artifacts, name), encoding="utf-8") as handle:
            return handle.read().strip()

    @property
    def status(self) -> str:
        return self._read("status")

    @property
    def rc(self) -> int:
        return int(self._read("rc"))

    @property
    def events(self) -> list[dict]:
        events = []
        for path in glob.glob(os.path.join(self.artifacts, "job_events", "*.json")):
            with open(path, encoding="utf-8") as handle:
                events.append(json.load(handle))
        return sorted(events, key=lambda event: event["counter"])

    def hosts_with(self, event: str, task: str) -> set[str]:
        return {
            e["event_data"]["host"] for e in self.events if e["event"] == event and e["event_data"].get("task") == task
        }

    @property
    def stats(self) -> dict:
        (stats,) = [e["event_data"] for e in self.events if e["event"] == "playbook_on_stats"]
        return stats

    def output(self) -> str:
        return self.proc.stdout[-6000:] + self.proc.stderr[-3000:]


class AWXProject:
    """A private data dir per job, sharing one project and one inventory."""

    def __init__(self, aws, tmp_path) -> None:
        self.aws = aws
        self.tmp_path = tmp_path
        self.members = make_organization(aws, N_ACCOUNTS)
        self.inventory = write_inventory(tmp_path, aws, options={"exclude_accounts": [ACCOUNT_ID]})

    def envvars(self) -> dict[str, str]:
        # The Amazon Web Services credential as AWX injects it (keys, no
        # region: the job template gives fleet_region), the local AWS, and the
        # collections an execution environment would have installed.
        env = {key: value for key, value in self.aws.env(REGION).items() if key not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
        env.update(
            {
                "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
                "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "false",
                "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
            }
        )
        return env

    def run(self, ident: str, playbook: str, extravars: dict, cmdline: str = "") -> Job:
        data = os.path.join(str(self.tmp_path), ident)
        os.makedirs(os.path.join(data, "env"))
        os.makedirs(os.path.join(data, "inventory"))
        shutil.copytree(os.path.join(REPO_ROOT, "playbooks"), os.path.join(data, "project", "playbooks"))
        shutil.copy(self.inventory, os.path.join(data, "inventory", os.path.basename(self.inventory)))
        with open(os.path.join(data, "env", "extravars"), "w", encoding="utf-8") as handle:
            yaml.safe_dump(extravars, handle)
        with open(os.path.join(data, "env", "envvars"), "w", encoding="utf-8") as handle:
            yaml.safe_dump(self.envvars(), handle)
        if cmdline:
            with open(os.path.join(data, "env", "cmdline"), "w", encoding="utf-8") as handle:
                handle.write(cmdline)
        # Nothing of this process's AWS or Ansible settings reaches the job.
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANSIBLE_", "PYTHONPATH"))}
        clean["PATH"] = os.path.dirname(sys.executable) + os.pathsep + clean.get("PATH", "")
        proc = subprocess.run(
            [ANSIBLE_RUNNER, "run", data, "--ident", ident, "-p", f"playbooks/{playbook}", "--forks", str(N_ACCOUNTS)],
            capture_output=True,
            text=True,
            env=clean,
            timeout=900,
            check=False,
        )
        return Job(data, ident, proc)

    def trails(self, account: str) -> list[dict]:
        return account_client(self.aws, account, "cloudtrail", REGION).describe_trails()["trailList"]


@pytest.fixture(scope="module")
def project(local_aws_server, tmp_path_factory):
    local_aws_server.reset()
    yield AWXProject(local_aws_server, tmp_path_factory.mktemp("awx"))
    local_aws_server.reset()


@pytest.fixture(scope="module")
def fleet_job(project):
    return project.run("fleet", "fleet.yml", {"fleet_region": REGION, "fleet_trail_name": TRAIL})


def test_fleet_job_applies_the_baseline_in_every_account(project, fleet_job):
    assert (fleet_job.status, fleet_job.rc) == ("successful", 0), fleet_job.output()
    assert fleet_job.hosts_with("runner_on_ok", "Apply the baseline") == set(project.members)
    stats = fleet_job.stats
    assert stats["failures"] == {} and stats["dark"] == {}
    assert set(stats["changed"]) == set(project.members)
    for account in project.members:
        (trail,) = project.trails(account)
        assert trail["TrailARN"] == f"arn:aws:cloudtrail:{REGION}:{account}:trail/{TRAIL}"
    assert project.aws.client("cloudtrail", REGION).describe_trails()["trailList"] == []


def test_check_job_writes_the_drift_report_where_extravars_say(project, fleet_job):
    account_client(project.aws, project.members[1], "cloudtrail", REGION).stop_logging(Name=TRAIL)
    report_dir = os.path.join(str(project.tmp_path), "drift-artifacts")
    project.aws.start_recording()
    job = project.run(
        "drift", "drift_report.yml", {"fleet_region": REGION, "fleet_trail_name": TRAIL, "report_dir": report_dir}, "--check"
    )
    calls = project.aws.stop_recording()
    assert (job.status, job.rc) == ("successful", 0), job.output()
    assert job.hosts_with("runner_on_ok", "Apply the baseline") == set(project.members)
    assert [c for c in calls if c.is_write and c.action != "AssumeRole"] == []
    with open(os.path.join(report_dir, "drift_report.json"), encoding="utf-8") as handle:
        report = json.load(handle)
    statuses = {a["account_id"]: a["status"] for a in report["accounts"]}
    assert statuses == {account: "drifted" if account == project.members[1] else "clean" for account in project.members}
    assert os.path.isfile(os.path.join(report_dir, "drift_report.md"))


@pytest.mark.parametrize(
    "extravars, reason",
    [
        # `region` is not a variable of the playbooks: the job has no region.
        ({"region": REGION, "fleet_trail_name": TRAIL}, "no region: set fleet_region"),
        # The baseline module rejects a setting that is not a boolean; the fleet names the trail role's variable.
        ({"fleet_region": REGION, "fleet_trail_name": TRAIL, "trail_enable_logging": "sometimes"}, "trail_enable_logging"),
    ],
    ids=["wrong-variable-name", "wrong-value"],
)
def test_wrong_extravars_fail_the_job_in_every_account(project, fleet_job, extravars, reason, request):
    before = {account: project.trails(account) for account in project.members}
    job = project.run(request.node.callspec.id, "fleet.yml", extravars)
    assert (job.status, job.rc) == ("failed", 2), job.output()
    failed = [e for e in job.events if e["event"] == "runner_on_failed" and not e["event_data"].get("ignore_errors")]
    assert {e["event_data"]["host"] for e in failed} >= set(project.members), job.output()
    assert reason in job.proc.stdout, job.output()
    assert set(job.stats["failures"]) == set(project.members)
    assert {account: project.trails(account) for account in project.members} == before
