"""Integration tests run our modules and playbooks against the local AWS
(moto's server with the fidelity layer), then read the real state back with
boto3 and count the calls the server received."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any

import pytest

from tests.conftest import COLLECTIONS, REPO_ROOT
from tests.local_aws import LocalAWS
from tests.local_aws.server import ACCOUNT_ID, REGION

MODULE_PACKAGE = "ansible_collections.trailops.cloudtrail.plugins.modules"


@pytest.fixture(scope="session")
def local_aws_server():
    """One local AWS (HTTPS) per test session. Its CA is also this process's
    ``AWS_CA_BUNDLE``, as in the children it starts, so that any boto3 client a
    test makes with ``endpoint_url=aws.endpoint`` trusts the server."""
    with LocalAWS() as aws:
        previous = os.environ.get("AWS_CA_BUNDLE")
        os.environ["AWS_CA_BUNDLE"] = aws.ca_bundle
        try:
            yield aws
        finally:
            if previous is None:
                os.environ.pop("AWS_CA_BUNDLE", None)
            else:
                os.environ["AWS_CA_BUNDLE"] = previous


@pytest.fixture
def aws(local_aws_server: LocalAWS) -> LocalAWS:
    """A wiped local AWS for each test."""
    local_aws_server.reset()
    return local_aws_server


def _env(aws: LocalAWS, region: str, extra: dict[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(aws.env(region))
    env["PYTHONPATH"] = os.pathsep.join([COLLECTIONS, REPO_ROOT])
    env["ANSIBLE_COLLECTIONS_PATH"] = COLLECTIONS
    # Only build/collections: proves it holds every collection we use.
    env["ANSIBLE_COLLECTIONS_SCAN_SYS_PATH"] = "false"
    env.update(extra or {})
    return env


class ModuleRunner:
    """Runs one of our modules the way ansible does on localhost: a Python
    process that reads its arguments from a JSON file and prints its result."""

    def __init__(self, aws: LocalAWS) -> None:
        self.aws = aws

    def __call__(
        self,
        module: str,
        params: dict[str, Any],
        *,
        check: bool = False,
        diff: bool = False,
        region: str = REGION,
        env: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        args = dict(params)
        args["_ansible_check_mode"] = check
        args["_ansible_diff"] = diff
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
        try:
            proc = subprocess.run(
                [sys.executable, "-m", f"{MODULE_PACKAGE}.{module}", handle.name],
                capture_output=True,
                text=True,
                env=_env(self.aws, region, env),
                timeout=300,
                check=False,
            )
        finally:
            os.unlink(handle.name)
        try:
            result = json.loads(proc.stdout)
        except ValueError:
            raise AssertionError(
                f"{module} printed no JSON (rc={proc.returncode})\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        result.setdefault("failed", proc.returncode != 0)
        assert "Traceback" not in proc.stderr, proc.stderr
        return result


@pytest.fixture
def run_module(aws: LocalAWS) -> ModuleRunner:
    return ModuleRunner(aws)


@pytest.fixture
def run_playbook(aws: LocalAWS):
    """Runs ansible-playbook against the local AWS; returns the CompletedProcess."""

    def run(
        playbook: str,
        extra_vars: dict[str, Any] | None = None,
        *args: str,
        region: str = REGION,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess:
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), playbook]
        if extra_vars:
            command += ["-e", json.dumps(extra_vars)]
        command += list(args)
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=_env(aws, region, dict({"ANSIBLE_PYTHON_INTERPRETER": sys.executable}, **(env or {}))),
            timeout=900,
            check=False,
        )

    return run


@pytest.fixture
def account_id() -> str:
    return ACCOUNT_ID
