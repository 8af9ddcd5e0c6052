"""SNS notifications on log file delivery (issue 19).

CloudTrail, configured with an SNS topic, publishes one message per log file it
delivers: ``{"s3Bucket": "<bucket>", "s3ObjectKey": ["<key>"]}`` (CloudTrail
user guide, "Configuring Amazon SNS notifications for CloudTrail"). It
publishes as its service principal, so the topic policy must let
``cloudtrail.amazonaws.com`` do ``SNS:Publish`` for this trail (the same
``aws:SourceArn`` check CreateTrail makes, ``policy_eval.policy_allows``).
When it may not, or the topic is gone, nothing is published and GetTrailStatus
shows ``LatestNotificationError``.

Publishing goes through moto's SNS backend, so subscribers (an SQS queue) get
the message as they would in AWS. It is not an API call of the account and is
not recorded.
"""

from __future__ import annotations

import json
from typing import Any

from tests.local_aws.fidelity import hooks, trail_status
from tests.local_aws.fidelity.policy_eval import policy_allows, request_context

# SNS's own error codes for what went wrong (Publish's AuthorizationError / NotFound).
DENIED = "AuthorizationError"
NOT_FOUND = "NotFound"


def notification_message(bucket: str, key: str) -> str:
    return json.dumps({"s3Bucket": bucket, "s3ObjectKey": [key]})


def _topic(arn: str) -> Any:
    from moto.sns.models import sns_backends

    parts = arn.split(":")
    if len(parts) != 6:
        return None
    return sns_backends[parts[4]][parts[3]].topics.get(arn)


def notify(trail: Any, account_id: str, region: str, key: str, events: list[dict[str, Any]]) -> None:
    """Publish the notification of one delivered log file, or record why not."""
    topic_arn = trail.sns_topic_name
    if not topic_arn:
        return
    from moto.sns.models import sns_backends

    attempt = trail_status.now()
    topic = _topic(topic_arn)
    if topic is None:
        error = NOT_FOUND
    elif not policy_allows(topic.policy, "SNS:Publish", topic_arn, request_context(trail.account_id, trail.arn)):
        error = DENIED
    else:
        parts = topic_arn.split(":")
        sns_backends[parts[4]][parts[3]].publish(notification_message(trail.bucket_name, key), arn=topic_arn)
        trail_status.record(
            trail.arn,
            {
                "LatestNotificationTime": attempt.timestamp(),
                "LatestNotificationAttemptTime": trail_status.iso(attempt),
                "LatestNotificationAttemptSucceeded": trail_status.iso(attempt),
                "LatestNotificationError": None,
            },
        )
        return
    trail_status.record(trail.arn, {"LatestNotificationAttemptTime": trail_status.iso(attempt), "LatestNotificationError": error})


def install() -> None:
    hooks.on_log_file(notify)
