"""Each role's meta/argument_specs.yml and defaults/main.yml agree: every
option typed and described, every default identical in both files, every
variable prefixed with the role's name."""

from __future__ import annotations

import os

import pytest
import yaml

from tests.conftest import REPO_ROOT

ROLES_DIR = os.path.join(REPO_ROOT, "roles")
ROLES = sorted(name for name in os.listdir(ROLES_DIR) if os.path.isdir(os.path.join(ROLES_DIR, name)))


def _load(role: str, *path: str):
    with open(os.path.join(ROLES_DIR, role, *path), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_the_three_roles_are_there():
    assert ROLES == ["event_selectors", "log_bucket", "trail"]


@pytest.mark.parametrize("role", ROLES)
def test_every_option_is_typed_described_and_prefixed(role):
    options = _load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    for name, spec in options.items():
        assert name.startswith(f"{role}_"), name
        assert spec.get("type"), f"{name} has no type"
        assert spec.get("description"), f"{name} has no description"
        if spec["type"] == "list":
            assert spec.get("elements"), f"{name} has no elements type"


@pytest.mark.parametrize("role", ROLES)
def test_defaults_match_the_argument_spec(role):
    options = _load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    defaults = _load(role, "defaults", "main.yml") or {}
    assert set(defaults) <= set(options), f"defaults without a spec: {sorted(set(defaults) - set(options))}"
    for name, spec in options.items():
        if spec.get("required"):
            assert name not in defaults, f"{name} is required and must have no default"
            continue
        assert name in defaults, f"{name} is missing from defaults/main.yml"
        assert defaults[name] == spec.get("default"), f"{name}: defaults/main.yml {defaults[name]!r} != spec {spec.get('default')!r}"
        if spec.get("choices") is not None:
            assert defaults[name] in spec["choices"], f"{name}: default {defaults[name]!r} not among the choices"
