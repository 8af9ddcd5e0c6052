"""Events both the LookupEvents fidelity tests and the event_history lookup
tests seed: their times are relative to one ``NOW`` taken at import."""

from __future__ import annotations

import datetime

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

# One event per user, key, source and resource, so each attribute picks out its own.
ONE_OF_EACH = [
    {"EventName": "StopLogging", "Username": "alice", "AccessKeyId": "AKIAALICE", "ReadOnly": False,
     "EventSource": "cloudtrail.amazonaws.com", "Resources": [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": "main"}]},
    {"EventName": "GetBucketPolicy", "Username": "bob", "AccessKeyId": "AKIABOB", "ReadOnly": True,
     "EventSource": "s3.amazonaws.com", "Resources": [{"ResourceType": "AWS::S3::Bucket", "ResourceName": "logs"}]},
    {"EventName": "Decrypt", "Username": "carol", "AccessKeyId": "AKIACAROL", "ReadOnly": True,
     "EventSource": "kms.amazonaws.com", "Resources": [{"ResourceType": "AWS::KMS::Key", "ResourceName": "key-1"}]},
]
# The window is from two hours to one hour ago; events on either edge count.
WINDOW = (NOW - datetime.timedelta(hours=2), NOW - datetime.timedelta(hours=1))


def ago(**delta) -> str:
    return (NOW - datetime.timedelta(**delta)).isoformat()


def one_of_each() -> list[dict]:
    """ONE_OF_EACH a minute apart, the last the newest."""
    return [dict(event, EventTime=ago(minutes=10 - i)) for i, event in enumerate(ONE_OF_EACH)]


def around_the_window() -> list[dict]:
    """Named by where they fall: before, on the start, inside, on the end, after the window; and too old to keep."""
    return [
        {"EventName": "TooOld", "EventTime": ago(days=91)},
        {"EventName": "Before", "EventTime": ago(hours=3)},
        {"EventName": "AtStart", "EventTime": ago(hours=2)},
        {"EventName": "Inside", "EventTime": ago(minutes=90)},
        {"EventName": "AtEnd", "EventTime": ago(hours=1)},
        {"EventName": "After", "EventTime": ago(minutes=1)},
    ]


def newest_first(count: int, prefix: str = "Call") -> list[dict]:
    """``count`` events a second apart, named in newest-first order."""
    return [{"EventName": f"{prefix}{i:04d}", "EventTime": ago(seconds=i)} for i in range(count)]
