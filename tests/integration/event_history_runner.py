"""Runs the event_history lookup in a fresh Python process, loaded by Ansible's
plugin loader as a playbook would load it, without ansible-playbook's start-up.

stdin: {"collections": PATH, "runs": [options, ...]}; stdout: one result per
run, {"events": [...], "seconds": wall time} or {"error": message, "type": class}.
Runs share the process, so they share the lookup's pacing, as lookups in one
playbook do. The environment carries the endpoint, credentials and region.
"""

from __future__ import annotations

import json
import sys
import time


def main() -> None:
    spec = json.load(sys.stdin)
    from ansible.plugins.loader import init_plugin_loader, lookup_loader

    init_plugin_loader([spec["collections"]])
    lookup = lookup_loader.get("trailops.cloudtrail.event_history")
    results = []
    for options in spec["runs"]:
        started = time.monotonic()
        try:
            events = lookup.run(options.pop("_terms", []), {}, **options)
            results.append({"events": events, "seconds": time.monotonic() - started})
        except Exception as error:  # the test asserts on the message and type
            results.append({"error": str(error), "type": type(error).__name__})
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
