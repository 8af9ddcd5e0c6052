"""delivery_status: what trail_info (and so the dashboard) says of log file delivery."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.trailops.cloudtrail.plugins.module_utils.trail_info import delivery_status

WHEN = datetime.datetime(2024, 5, 1, 12, 5, tzinfo=datetime.timezone.utc)
STARTED = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize(
    "status, expected",
    [
        (None, {"latest_delivery_time": None, "latest_delivery_error": None, "start_logging_time": None, "stop_logging_time": None}),
        # moto and CloudTrail leave fields out, or send "", before the first delivery
        ({"IsLogging": False, "LatestDeliveryError": ""},
         {"latest_delivery_time": None, "latest_delivery_error": None, "start_logging_time": None, "stop_logging_time": None}),
        ({"IsLogging": True, "LatestDeliveryTime": WHEN, "StartLoggingTime": STARTED},
         {"latest_delivery_time": "2024-05-01T12:05:00+00:00", "latest_delivery_error": None,
          "start_logging_time": "2024-05-01T12:00:00+00:00", "stop_logging_time": None}),
        ({"IsLogging": True, "LatestDeliveryTime": WHEN, "LatestDeliveryError": "AccessDenied"},
         {"latest_delivery_time": "2024-05-01T12:05:00+00:00", "latest_delivery_error": "AccessDenied",
          "start_logging_time": None, "stop_logging_time": None}),
        # notification and CloudWatch Logs delivery errors (issue 19)
        ({"IsLogging": True, "LatestNotificationError": "AuthorizationError", "LatestCloudWatchLogsDeliveryError": "AccessDenied"},
         {"latest_delivery_time": None, "latest_delivery_error": None, "start_logging_time": None, "stop_logging_time": None,
          "latest_notification_error": "AuthorizationError", "latest_cloudwatch_logs_delivery_error": "AccessDenied"}),
    ],
)
def test_delivery_status(status, expected):
    no_errors = {"latest_notification_error": None, "latest_cloudwatch_logs_delivery_error": None}
    assert delivery_status(status) == dict(no_errors, **expected)
