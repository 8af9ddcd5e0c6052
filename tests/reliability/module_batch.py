"""Runs many module invocations in ONE Python process (the bad-input matrix
would otherwise pay Python's and boto3's start-up once per case).

stdin: [{"module": name, "params": {...}}, ...]; stdout: one result per run,
the module's JSON answer as Ansible would read it (plus "stderr" if it wrote
any). Only for runs that need no state between them: each run starts from the
same process, so what one module imports the next finds loaded.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import sys

MODULE_PACKAGE = "ansible_collections.trailops.cloudtrail.plugins.modules"


def run_one(module: str, params: dict) -> dict:
    from ansible.module_utils import basic

    basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": dict(params, _ansible_check_mode=False)}).encode()
    basic._ANSIBLE_PROFILE = "legacy"
    main = importlib.import_module(f"{MODULE_PACKAGE}.{module}").main
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            main()
        except SystemExit:
            pass
    result = json.loads(stdout.getvalue())
    if stderr.getvalue():
        result["stderr"] = stderr.getvalue()
    return result


def main() -> None:
    runs = json.load(sys.stdin)
    json.dump([run_one(run["module"], run["params"]) for run in runs], sys.stdout)


if __name__ == "__main__":
    main()
