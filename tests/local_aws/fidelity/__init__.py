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
    from tests.local_aws.fidelity import api_calls, cloudtrail, cloudwatch_logs, delivery, event_store, faults, lookup_events
    from tests.local_aws.fidelity import notifications, s3_policy, trail_status

    cloudtrail.install()
    event_store.install()
    # s3_policy, api_calls and faults each wrap moto's request view: the last installed is outermost.
    s3_policy.install()
    api_calls.install()
    lookup_events.install()
    delivery.install()
    faults.install()
    trail_status.install()
    notifications.install()
    cloudwatch_logs.install()
    from tests.local_aws.fidelity import sts_credentials

    sts_credentials.install()
    from tests.local_aws.fidelity import responses

    # Outermost of the view wrappers: it keeps what faults and s3_policy answer too.
    responses.install()
    _INSTALLED = True
