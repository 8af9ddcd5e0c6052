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
    from tests.local_aws.fidelity import cloudtrail, cloudwatch_logs, delivery, faults, lookup_events, notifications, s3_policy, trail_status

    cloudtrail.install()
    # s3_policy, lookup_events and faults each wrap moto's request view: the last installed is outermost.
    s3_policy.install()
    lookup_events.install()
    delivery.install()
    faults.install()
    trail_status.install()
    notifications.install()
    cloudwatch_logs.install()
    from tests.local_aws.fidelity import sts_credentials

    sts_credentials.install()
    _INSTALLED = True
