"""The trail role's variables live in one place, its argument spec: the role's
module task and the fleet's (playbooks/tasks/account_baseline.yml) map them
one to one onto the baseline module's options, and the fleet's list of the
variables it passes through is the spec's, minus those it sets itself."""

from __future__ import annotations

import os
import re

import yaml

from ansible_collections.trailops.cloudtrail.plugins.modules.baseline import argument_spec

from tests.conftest import REPO_ROOT

MODULE = "trailops.cloudtrail.baseline"
# The role's own variables, used by tasks/alarms.yml, not by the module.
ALARMS = {
    "trail_cloudwatch_alarms_cis",
    "trail_cloudwatch_alarms_cis_controls",
    "trail_cloudwatch_alarms",
    "trail_cloudwatch_alarms_sns_topic_arn",
    "trail_cloudwatch_alarms_namespace",
}
# What the fleet sets from the inventory and fleet_* variables.
FLEET_SETS = {
    "trail_name",
    "trail_region",
    "trail_account_id",
    "trail_assume_role_arn",
    "trail_assume_role_session_name",
    "trail_assume_role_duration_seconds",
}


def _load(*path: str):
    with open(os.path.join(REPO_ROOT, *path), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _spec_options() -> set[str]:
    return set(_load("roles", "trail", "meta", "argument_specs.yml")["argument_specs"]["main"]["options"])


def _module_tasks(tasks: list) -> list[dict]:
    found = []
    for task in tasks:
        if MODULE in task:
            found.append(task)
        for key in ("block", "rescue", "always"):
            found.extend(_module_tasks(task.get(key, [])))
    return found


def _mapping(task: dict) -> dict[str, set[str]]:
    """Module option -> the trail_* variables its value reads."""
    return {option: set(re.findall(r"\btrail_[a-z0-9_]+", str(value))) for option, value in task[MODULE].items()}


def test_the_role_maps_every_variable_to_the_option_of_its_name():
    tasks = _load("roles", "trail", "tasks", "main.yml")
    (task,) = _module_tasks(tasks)
    mapping = _mapping(task)
    # trail_region goes through module_defaults, so that without it the caller's region still reaches the module.
    assert set(mapping) == {name.removeprefix("trail_") for name in _spec_options() - ALARMS} - {"region"}
    for option, variables in mapping.items():
        assert variables == {f"trail_{option}"}, option
    (block,) = [t for t in tasks if task in t.get("block", [])]
    assert "trail_region" in block["module_defaults"][MODULE]


def test_every_module_option_is_a_role_variable():
    common = {
        "access_key",
        "secret_key",
        "session_token",
        "profile",
        "endpoint_url",
        "validate_certs",
        "aws_ca_bundle",
        "aws_config",
        "debug_botocore_endpoint_logs",
    }
    options = set(argument_spec())
    assert {f"trail_{option}" for option in options} <= _spec_options()
    assert {name.removeprefix("trail_") for name in _spec_options() - ALARMS} - options - common == {"region"}


def test_the_fleet_passes_through_the_spec_minus_what_it_sets():
    (block,) = _load("playbooks", "tasks", "account_baseline.yml")
    passed = block["vars"]["__fleet_trail_variables"]
    assert len(passed) == len(set(passed))
    assert set(passed) == _spec_options() - ALARMS - FLEET_SETS
    (task,) = _module_tasks([block])
    mapping = _mapping(task)
    # The preset defaults to all management events unless selectors are given
    # another way: that option alone reads the other two selector variables.
    defaulted = {"event_selectors_preset": {"trail_event_selectors", "trail_advanced_event_selectors"}}
    for variable in passed:
        option = variable.removeprefix("trail_")
        assert mapping[option] == {variable} | defaulted.get(option, set()), variable
    assert not set().union(*mapping.values()) - set(passed)
