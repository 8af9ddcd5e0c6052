"""Every module under throttling and 5xx answers: check mode writes nothing and
predicts the real run; the real run converges to the state a run without
faults reaches (nothing half-applied); the second run changes nothing.

``AWS_MAX_ATTEMPTS=1`` turns botocore's own retries off, as if they were used
up: every fault must then be survived by the module's retry decorator, and a
call made without ``aws_retry=True`` fails the test."""

from __future__ import annotations

from typing import Any

import pytest

from tests.local_aws.fidelity.faults import fault_counts, inject_faults
from tests.reliability.scenarios import SCENARIOS, TRAIL, Scenario, read_state

NO_SDK_RETRIES = {"AWS_MAX_ATTEMPTS": "1"}

# Only the modules' calls (the local AWS's default key) get faults.
MODULES = {"access_key": "testing"}
THROTTLE = [dict(MODULES, fault="throttle", every=3)]
UNAVAILABLE = [dict(MODULES, fault="server_error", status=503, every=3)]
MIXED = [
    dict(MODULES, fault="throttle", share=0.15, seed=7),
    dict(MODULES, fault="server_error", status=500, every=7),
    dict(MODULES, service="s3", fault="server_error", status=502, every=5),
]
PROFILES = {
    "trail-create": MIXED,
    "trail-update": UNAVAILABLE,
    "trail-absent": MIXED,
    "bucket_policy": THROTTLE,
    "event_selectors": THROTTLE,
}


def writes(calls) -> list:
    return [(c.service, c.action) for c in calls if c.is_write]


def _run_steps(run_module, scenario: Scenario, *, check: bool) -> list[dict[str, Any]]:
    results = []
    for module, params in scenario.steps:
        result = run_module(module, params, check=check, diff=True, env=NO_SDK_RETRIES)
        assert not result.get("failed"), (module, result)
        results.append(result)
    return results


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_module_converges_under_faults(aws, run_module, scenario: Scenario):
    # The state the steps reach without faults.
    scenario.setup(aws)
    _run_steps(run_module, scenario, check=False)
    expected = read_state(aws)

    aws.reset()
    scenario.setup(aws)
    before = read_state(aws)
    inject_faults(aws, PROFILES[scenario.name])

    # Check mode: only reads, and the same answer as the real run below. (For
    # several steps only the first is predicted: later ones depend on it.)
    aws.start_recording()
    predicted = run_module(scenario.steps[0][0], scenario.steps[0][1], check=True, diff=True, env=NO_SDK_RETRIES)
    calls = aws.stop_recording()
    assert not predicted.get("failed"), predicted
    assert writes(calls) == []
    assert read_state(aws) == before

    applied = _run_steps(run_module, scenario, check=False)
    assert all(result["changed"] for result in applied), applied
    assert predicted["changed"] == applied[0]["changed"]
    assert predicted["diff"]["after"] == applied[0]["diff"]["after"]
    assert read_state(aws) == expected

    # The second run, under faults too: clean.
    aws.start_recording()
    second = _run_steps(run_module, scenario, check=False)
    calls = aws.stop_recording()
    for result in second:
        assert result["changed"] is False, result
        assert result["diff"]["before"] == result["diff"]["after"]
    # What check mode predicted is what the module now reads back.
    assert second[0]["diff"]["before"] == predicted["diff"]["after"]
    assert writes(calls) == []
    assert read_state(aws) == expected
    assert sum(rule["injected"] for rule in fault_counts(aws)) > 0


def test_trail_info_answers_the_same_under_faults(aws, run_module):
    SCENARIOS[1].setup(aws)
    params = {"trail_names": [TRAIL]}
    expected = run_module("trail_info", params, env=NO_SDK_RETRIES)
    inject_faults(aws, [dict(MODULES, fault="throttle", every=4, limit=2), dict(MODULES, fault="server_error", status=504, every=4, limit=2)])
    aws.start_recording()
    answers = [run_module("trail_info", params, check=check, env=NO_SDK_RETRIES) for check in (True, False)]
    calls = aws.stop_recording()
    assert writes(calls) == []
    assert sum(rule["injected"] for rule in fault_counts(aws)) > 0
    for answer in answers:
        assert not answer.get("failed"), answer
        assert answer["trails"] == expected["trails"]
