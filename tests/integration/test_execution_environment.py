"""The execution environment (meta/execution-environment.yml): `ansible-builder
create` makes a complete build context from it, offline (create only writes
files; building the image needs podman and a registry)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.conftest import REPO_ROOT

BIN = os.path.dirname(sys.executable)
EE_FILES = ("execution-environment.yml", "ee-requirements.txt", "ee-bindep.txt", "ee-collections.yml")


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """The build context, made from a copy of meta/ and a collection tarball
    where the EE file expects it (../build/ee/), so the work tree is untouched."""
    root = tmp_path_factory.mktemp("ee")
    (root / "meta").mkdir()
    for name in EE_FILES:
        shutil.copy(os.path.join(REPO_ROOT, "meta", name), root / "meta" / name)
    built = root / "collection"
    subprocess.run(
        [os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(built), REPO_ROOT],
        check=True, capture_output=True, text=True, cwd=REPO_ROOT,
    )
    (root / "build" / "ee").mkdir(parents=True)
    tarball = next(built.glob("trailops-cloudtrail-*.tar.gz"))
    shutil.copy(tarball, root / "build" / "ee" / "trailops-cloudtrail.tar.gz")
    proc = subprocess.run(
        [os.path.join(BIN, "ansible-builder"), "create", "-f", "meta/execution-environment.yml", "-c", "context", "--output-filename", "Containerfile"],
        capture_output=True, text=True, cwd=root, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root / "context"


def test_containerfile_uses_the_base_image_and_pins_ansible(context):
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="registry.fedoraproject.org/fedora:41"' in containerfile
    assert "ansible-core==2.19.14" in containerfile
    assert "ansible-runner==2.4.1" in containerfile


def test_every_file_the_containerfile_copies_is_in_the_context(context):
    containerfile = (context / "Containerfile").read_text()
    sources = [line.split()[1] for line in containerfile.splitlines() if line.startswith("COPY ") and "--from=" not in line]
    assert sources, containerfile
    for source in sources:
        assert (context / source).exists(), source


def test_python_requirements_are_the_aws_sdk(context):
    lines = [line for line in (context / "_build" / "requirements.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert lines == ["boto3==1.44.5", "botocore==1.44.5"]


def test_the_sdk_pins_match_the_tested_versions():
    tested = dict(
        line.strip().split("==") for line in open(os.path.join(REPO_ROOT, "requirements-dev.txt"), encoding="utf-8") if re.match(r"^(boto3|botocore)==", line)
    )
    assert tested == {"boto3": "1.44.5", "botocore": "1.44.5"}


def test_system_requirements_are_bindep(context):
    bindep = (context / "_build" / "bindep.txt").read_text()
    assert re.search(r"^git-core \[platform:rpm\]$", bindep, re.M)


def test_collections_cover_galaxy_dependencies(context):
    wanted = {item["name"] for item in yaml.safe_load((context / "_build" / "requirements.yml").read_text())["collections"]}
    with open(os.path.join(REPO_ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        dependencies = set(yaml.safe_load(handle)["dependencies"])
    assert dependencies <= wanted


def test_the_collection_is_installed_from_its_tarball(context):
    tarball = context / "_build" / "collections" / "trailops-cloudtrail.tar.gz"
    assert tarball.stat().st_size > 0
    listing = subprocess.run(["tar", "-tzf", str(tarball)], capture_output=True, text=True, check=True).stdout.split()
    assert "plugins/inventory/accounts.py" in listing
    assert "playbooks/fleet.yml" in listing
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install --no-deps -p /usr/share/ansible/collections /tmp/trailops-cloudtrail.tar.gz" in containerfile
