"""Where moto's answers differ from AWS, these patches make them AWS's.

Each submodule patches one concern in place (subclass or wrap, never rewrite).
``install()`` must run before moto's server dispatches its first request.
"""

from __future__ import annotations

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from tests.local_aws.fidelity import cloudtrail, delivery, faults, lookup_events

    cloudtrail.install()
    lookup_events.install()
    delivery.install()
    faults.install()
    _INSTALLED = True
