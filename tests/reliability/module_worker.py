"""Runs module invocations in one long-lived Python process, one per line:
a JSON ``{"module": name, "params": {...}}`` on stdin gives one JSON result
line on stdout. Unlike ``module_batch.py``, the caller decides when each run
starts, so two workers can run the same module at the same moment, round
after round, without paying Python's and boto3's start-up each time.
"""

from __future__ import annotations

import json
import sys

from tests.reliability.module_batch import run_one


def main() -> None:
    for line in sys.stdin:
        run = json.loads(line)
        sys.stdout.write(json.dumps(run_one(run["module"], run["params"])) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
