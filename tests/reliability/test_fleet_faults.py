"""The fleet-era pieces under faults: validate_logs gives the same verdict and
summary (in check mode too), and the accounts inventory lists the same accounts, as without faults."""

from __future__ import annotations

import datetime

from tests.integration.fleet_helpers import make_organization, write_inventory
from tests.integration.test_inventory_accounts import inventory
from tests.integration.test_validate_logs import HOURS, TRAIL, _iso, deliver_hours, make_trail
from tests.local_aws.fidelity.faults import fault_counts, inject_faults
from tests.reliability.test_module_faults import MODULES, NO_SDK_RETRIES, writes


def test_validate_logs_reads_the_same_under_faults(aws, run_module):
    start = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(hours=HOURS + 1)
    make_trail(aws)
    deliver_hours(aws, start)
    end = datetime.datetime.now(datetime.timezone.utc)
    params = {"trail_name": TRAIL, "start_time": _iso(start), "end_time": _iso(end), "fail_on_invalid": False}
    expected = run_module("validate_logs", params, env=NO_SDK_RETRIES)
    assert expected["verdict"] == "valid", expected

    inject_faults(aws, [dict(MODULES, fault="throttle", every=4), dict(MODULES, service="s3", fault="server_error", status=503, every=5)])
    aws.start_recording()
    results = [run_module("validate_logs", params, check=check, env=NO_SDK_RETRIES) for check in (True, False)]
    calls = aws.stop_recording()
    for result in results:
        assert not result.get("failed"), result
        assert (result["verdict"], result["summary"], result["failures"]) == (expected["verdict"], expected["summary"], expected["failures"])
    assert writes(calls) == []
    assert sum(rule["injected"] for rule in fault_counts(aws)) > 0


def test_accounts_inventory_lists_the_same_under_faults(aws, tmp_path):
    make_organization(aws, 3, ous=["prod"])
    path = write_inventory(tmp_path, aws)
    proc, expected = inventory(aws, path, NO_SDK_RETRIES)
    assert proc.returncode == 0, proc.stderr

    inject_faults(aws, [dict(MODULES, service="organizations", fault="throttle", every=2), dict(MODULES, fault="server_error", status=500, every=5)])
    proc, listing = inventory(aws, path, NO_SDK_RETRIES)
    assert proc.returncode == 0, proc.stderr
    assert listing == expected
    assert sum(rule["injected"] for rule in fault_counts(aws)) > 0
