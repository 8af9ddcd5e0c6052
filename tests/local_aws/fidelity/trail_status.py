"""GetTrailStatus fields that delivery fills (issue 19): notifications and
CloudWatch Logs delivery.

moto's ``TrailStatus`` knows only logging and S3 delivery times. Delivery
(``notifications``, ``cloudwatch_logs``) records here, per trail ARN, the
fields of CloudTrail's GetTrailStatus response (botocore's model:
``LatestNotificationError``, ``LatestNotificationTime``,
``LatestNotificationAttemptTime``, ``LatestNotificationAttemptSucceeded``,
``LatestCloudWatchLogsDeliveryError``, ``LatestCloudWatchLogsDeliveryTime``),
and GetTrailStatus answers with them merged in. The ``...Time`` fields are
timestamps, the ``...Attempt...`` fields ISO 8601 strings, as in the model.
An error field describes the latest attempt: a later success clears it.
"""

from __future__ import annotations

import datetime
import functools
import json
import threading
from typing import Any, Callable

from tests.local_aws.fidelity import hooks

_LOCK = threading.Lock()
_STATUS: dict[str, dict[str, Any]] = {}


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def iso(value: datetime.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def record(trail_arn: str, fields: dict[str, Any]) -> None:
    """Set fields of the trail's status; a field set to None is removed."""
    with _LOCK:
        status = _STATUS.setdefault(trail_arn, {})
        for name, value in fields.items():
            if value is None:
                status.pop(name, None)
            else:
                status[name] = value


def status_of(trail_arn: str) -> dict[str, Any]:
    with _LOCK:
        return dict(_STATUS.get(trail_arn, {}))


def clear() -> None:
    with _LOCK:
        _STATUS.clear()


def _with_delivery_fields(method: Callable[[Any], str]) -> Callable[[Any], str]:
    @functools.wraps(method)
    def get_trail_status(self: Any) -> str:
        answer = json.loads(method(self))
        name = json.loads(self.body or "{}").get("Name", "")
        trail = self.cloudtrail_backend.get_trail(name)
        answer.update(status_of(trail.arn))
        return json.dumps(answer)

    get_trail_status.trailops_delivery_fields = True  # type: ignore[attr-defined]
    return get_trail_status


def install() -> None:
    """Wraps (does not replace) whatever GetTrailStatus answer is installed before."""
    from moto.cloudtrail.responses import CloudTrailResponse

    if getattr(CloudTrailResponse.get_trail_status, "trailops_delivery_fields", False):
        return
    CloudTrailResponse.get_trail_status = _with_delivery_fields(CloudTrailResponse.get_trail_status)
    hooks.on_reset(clear)
