"""Case tables for the event_history lookup's pure part: option validation,
times and the 90-day window, request building, pacing, paging with throttling
retries, and shaping and merging events. Clocks and sleeps are fakes."""

from __future__ import annotations

import datetime
import json

import botocore.exceptions
import pytest

from ansible_collections.trailops.cloudtrail.plugins.module_utils.parameters import ParameterError
from ansible_collections.trailops.cloudtrail.plugins.plugin_utils import event_history as eh

NOW = datetime.datetime(2024, 6, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
UTC = datetime.timezone.utc
REGIONS = ["us-east-1", "eu-west-1", "ap-south-1"]


def at(**delta) -> datetime.datetime:
    return NOW - datetime.timedelta(**delta)


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ("", None),
        ("now", NOW),
        ("NOW", NOW),
        ("-30m", at(minutes=30)),
        ("-2h", at(hours=2)),
        ("-7d", at(days=7)),
        ("-1w", at(weeks=1)),
        ("-90s", at(seconds=90)),
        ("2024-05-01T08:00:00Z", datetime.datetime(2024, 5, 1, 8, tzinfo=UTC)),
        ("2024-05-01T08:00:00+02:00", datetime.datetime(2024, 5, 1, 6, tzinfo=UTC)),
        ("2024-05-01T08:00:00", datetime.datetime(2024, 5, 1, 8, tzinfo=UTC)),
        ("2024-05-01", datetime.datetime(2024, 5, 1, tzinfo=UTC)),
        (datetime.datetime(2024, 5, 1, 8), datetime.datetime(2024, 5, 1, 8, tzinfo=UTC)),
    ],
)
def test_parse_time(value, expected):
    assert eh.parse_time(value, "start_time", NOW) == expected


@pytest.mark.parametrize("value", ["yesterday", "-2", "2h", "-2y", "2024-13-01", "-h"])
def test_parse_time_rejects(value):
    with pytest.raises(ParameterError, match=r"^end_time: cannot parse .*ISO 8601.*-7d"):
        eh.parse_time(value, "end_time", NOW)


@pytest.mark.parametrize(
    "start, end, expected_start, expected_end, warns",
    [
        (None, None, None, None, False),
        ("-2h", "now", at(hours=2), NOW, False),
        ("-90d", None, at(days=90), None, False),
        ("-100d", None, at(days=90), None, True),
        ("2020-01-01T00:00:00Z", "-1d", at(days=90), at(days=1), True),
        ("-1h", "-1h", at(hours=1), at(hours=1), False),
    ],
)
def test_resolve_window(start, end, expected_start, expected_end, warns):
    got_start, got_end, warning = eh.resolve_window(start, end, NOW)
    assert (got_start, got_end) == (expected_start, expected_end)
    assert (warning is not None) == warns
    if warns:
        assert "90 days" in warning


@pytest.mark.parametrize(
    "start, end, message",
    [
        ("-1h", "-2h", r"^start_time: .* must not be after end_time"),
        ("now", "2024-01-01T00:00:00Z", r"^start_time: .* must not be after end_time"),
        ("-200d", "-100d", r"^end_time: .* older than the 90 days"),
    ],
)
def test_resolve_window_rejects(start, end, message):
    with pytest.raises(ParameterError, match=message):
        eh.resolve_window(start, end, NOW)


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ({}, None),
        ({"EventName": "CreateTrail"}, {"AttributeKey": "EventName", "AttributeValue": "CreateTrail"}),
        ({"ReadOnly": False}, {"AttributeKey": "ReadOnly", "AttributeValue": "false"}),
        ({"ReadOnly": "True"}, {"AttributeKey": "ReadOnly", "AttributeValue": "true"}),
        ({"Username": "alice"}, {"AttributeKey": "Username", "AttributeValue": "alice"}),
        ({"ResourceType": "AWS::S3::Bucket"}, {"AttributeKey": "ResourceType", "AttributeValue": "AWS::S3::Bucket"}),
    ]
    + [({key: "x"}, {"AttributeKey": key, "AttributeValue": "x"}) for key in eh.LOOKUP_ATTRIBUTE_KEYS if key != "ReadOnly"],
)
def test_lookup_attribute(value, expected):
    assert eh.lookup_attribute(value) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        ({"EventName": "CreateTrail", "Username": "alice"}, r"exactly one key .* got 2: EventName, Username; allowed keys: EventId, "),
        ({"eventName": "CreateTrail"}, r"unknown key 'eventName'; allowed keys: EventId, EventName, ReadOnly"),
        ({"EventName": ""}, r"EventName must not be empty"),
        ({"ReadOnly": "maybe"}, r"ReadOnly must be true or false"),
        ("EventName=CreateTrail", r"must be a dictionary with one key, one of EventId"),
    ],
)
def test_lookup_attribute_rejects(value, message):
    with pytest.raises(ParameterError, match=r"^lookup_attribute.*" + message):
        eh.lookup_attribute(value)


@pytest.mark.parametrize("value, expected", [(None, "management"), ("management", "management"), ("Insight", "insight")])
def test_event_category(value, expected):
    assert eh.event_category(value) == expected


def test_event_category_rejects():
    with pytest.raises(ParameterError, match=r"^event_category: must be one of management, insight"):
        eh.event_category("data")


@pytest.mark.parametrize("value, expected", [(None, None), (1, 1), (1000, 1000), ("25", 25)])
def test_max_events(value, expected):
    assert eh.max_events(value) == expected


@pytest.mark.parametrize("value", [0, -1, "0", "ten", 2.5, True])
def test_max_events_rejects(value):
    with pytest.raises(ParameterError, match=r"^max_events: must be a whole number greater than 0"):
        eh.max_events(value)


@pytest.mark.parametrize(
    "values, default, expected",
    [
        (None, "us-east-1", ["us-east-1"]),
        ([], "eu-west-1", ["eu-west-1"]),
        (["eu-west-1", "us-east-1", "eu-west-1"], "us-east-1", ["eu-west-1", "us-east-1"]),
        (REGIONS, None, REGIONS),
    ],
)
def test_regions(values, default, expected):
    assert eh.regions(values, default, REGIONS) == expected


@pytest.mark.parametrize(
    "values, default, message",
    [
        (["us-east-1", "us-esat-1"], None, r"^regions: unknown region 'us-esat-1'; CloudTrail's regions are: ap-south-1, eu-west-1"),
        (None, "mars-1", r"^region: unknown region 'mars-1'"),
        (None, None, r"^regions: no region given"),
    ],
)
def test_regions_rejects(values, default, message):
    with pytest.raises(ParameterError, match=message):
        eh.regions(values, default, REGIONS)


@pytest.mark.parametrize(
    "attribute, start, end, category, size, expected",
    [
        (None, None, None, "management", 50, {"MaxResults": 50}),
        (
            {"AttributeKey": "EventName", "AttributeValue": "CreateTrail"},
            at(hours=1),
            NOW,
            "management",
            10,
            {
                "MaxResults": 10,
                "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "CreateTrail"}],
                "StartTime": at(hours=1),
                "EndTime": NOW,
            },
        ),
        (None, None, None, "insight", 50, {"MaxResults": 50, "EventCategory": "insight"}),
    ],
)
def test_lookup_request(attribute, start, end, category, size, expected):
    assert eh.lookup_request(attribute, start, end, category, size) == expected


@pytest.mark.parametrize("limit, expected", [(None, 50), (1, 1), (50, 50), (51, 50), (1000, 50)])
def test_page_size(limit, expected):
    assert eh.page_size(limit) == expected


class FakeClock:
    """A clock that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_token_bucket_spaces_requests_half_a_second_apart():
    clock = FakeClock()
    bucket = eh.TokenBucket(2.0, clock=clock, sleep=clock.sleep)
    times = []
    for _request in range(5):
        bucket.acquire()
        times.append(clock.now)
    assert [round(t - times[0], 6) for t in times] == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_token_bucket_reservations_from_several_readers_queue_up():
    clock = FakeClock()
    bucket = eh.TokenBucket(2.0, clock=clock, sleep=clock.sleep)
    # Three readers ask at the same instant: each gets its own slot.
    assert [bucket.reserve() for _reader in range(3)] == [0.0, 0.5, 1.0]


def test_token_bucket_does_not_save_up_idle_time():
    clock = FakeClock()
    bucket = eh.TokenBucket(2.0, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    clock.now += 10
    assert [bucket.reserve() for _request in range(2)] == [0.0, 0.5]


def test_bucket_for_is_shared_per_identity_and_region():
    assert eh.bucket_for("AKIA1", "us-east-1") is eh.bucket_for("AKIA1", "us-east-1")
    assert eh.bucket_for("AKIA1", "us-east-1") is not eh.bucket_for("AKIA1", "eu-west-1")
    assert eh.bucket_for("AKIA1", "us-east-1") is not eh.bucket_for("AKIA2", "us-east-1")


def client_error(code: str) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": code}}, "LookupEvents")


class FakeLookupEvents:
    """Pages of events; raises the given errors first."""

    def __init__(self, total: int, page: int = 50, errors: list[str] | None = None) -> None:
        self.events = [{"EventId": f"e{i:05d}"} for i in range(total)]
        self.page = page
        self.errors = list(errors or [])
        self.calls: list[dict] = []

    def __call__(self, **params):
        self.calls.append(params)
        if self.errors:
            raise client_error(self.errors.pop(0))
        offset = int(params.get("NextToken") or 0)
        result = {"Events": self.events[offset:offset + self.page]}
        if offset + self.page < len(self.events):
            result["NextToken"] = str(offset + self.page)
        return result


@pytest.mark.parametrize(
    "total, limit, requests, returned",
    [
        (0, None, 1, 0),
        (1000, None, 20, 1000),
        (1001, None, 21, 1001),
        (1000, 120, 3, 120),
        (30, 100, 1, 30),
    ],
)
def test_read_events_pages(total, limit, requests, returned):
    clock = FakeClock()
    fake = FakeLookupEvents(total)
    events, sent = eh.read_events(fake, {"MaxResults": 50}, limit, eh.TokenBucket(2.0, clock, clock.sleep), sleep=clock.sleep)
    assert (sent, len(events), len(fake.calls)) == (requests, returned, requests)
    assert [e["EventId"] for e in events] == [f"e{i:05d}" for i in range(returned)]
    # NextToken calls repeat the first call's parameters.
    assert all({k: v for k, v in call.items() if k != "NextToken"} == {"MaxResults": 50} for call in fake.calls)
    # Paced: 20 requests take 9.5 s at 2 a second.
    assert clock.now - 100.0 == pytest.approx(0.5 * (requests - 1))


def test_read_events_retries_throttling_through_the_bucket():
    clock = FakeClock()
    fake = FakeLookupEvents(60, errors=["ThrottlingException", "ThrottlingException"])
    events, sent = eh.read_events(fake, {}, None, eh.TokenBucket(2.0, clock, clock.sleep), sleep=clock.sleep, rand=lambda: 1.0)
    assert (len(events), sent, len(fake.calls)) == (60, 2, 4)
    # backoff 0.5 then 1.0 (full jitter at its top), each followed by the next bucket slot
    assert clock.now - 100.0 == pytest.approx(0.5 + 1.0 + 0.5)


def test_read_events_gives_up_after_max_attempts():
    clock = FakeClock()
    fake = FakeLookupEvents(10, errors=["ThrottlingException"] * eh.MAX_ATTEMPTS)
    with pytest.raises(botocore.exceptions.ClientError):
        eh.read_events(fake, {}, None, eh.TokenBucket(2.0, clock, clock.sleep), sleep=clock.sleep, rand=lambda: 0.0)
    assert len(fake.calls) == eh.MAX_ATTEMPTS


@pytest.mark.parametrize("code", ["InvalidNextTokenException", "AccessDeniedException", "InvalidLookupAttributesException"])
def test_read_events_does_not_retry_other_errors(code):
    clock = FakeClock()
    fake = FakeLookupEvents(10, errors=[code])
    with pytest.raises(botocore.exceptions.ClientError):
        eh.read_events(fake, {}, None, eh.TokenBucket(2.0, clock, clock.sleep), sleep=clock.sleep)
    assert len(fake.calls) == 1


@pytest.mark.parametrize("attempt, expected", [(0, 0.5), (1, 1.0), (3, 4.0), (4, 8.0), (9, 8.0)])
def test_backoff_caps(attempt, expected):
    assert eh.backoff(attempt, rand=lambda: 1.0) == expected


RECORD = {
    "eventName": "StopLogging",
    "userIdentity": {"type": "IAMUser", "userName": "alice"},
    "requestParameters": {"name": "main"},
    "errorCode": "AccessDenied",
    "errorMessage": "no",
}


def raw_event(event_id: str, when: datetime.datetime, **extra) -> dict:
    event = {
        "EventId": event_id,
        "EventName": "StopLogging",
        "ReadOnly": "false",
        "AccessKeyId": "AKIA1",
        "EventTime": when,
        "EventSource": "cloudtrail.amazonaws.com",
        "Username": "alice",
        "Resources": [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": "main"}],
        "CloudTrailEvent": json.dumps(RECORD),
    }
    event.update(extra)
    return event


def test_shape_event():
    shaped = eh.shape_event(raw_event("id-1", datetime.datetime(2024, 5, 1, 8, 30, tzinfo=UTC)), "eu-west-1")
    assert shaped == {
        "event_id": "id-1",
        "event_name": "StopLogging",
        "event_time": "2024-05-01T08:30:00Z",
        "event_source": "cloudtrail.amazonaws.com",
        "username": "alice",
        "read_only": False,
        "access_key_id": "AKIA1",
        "resources": [{"resource_type": "AWS::CloudTrail::Trail", "resource_name": "main"}],
        "region": "eu-west-1",
        "error_code": "AccessDenied",
        "error_message": "no",
        "cloud_trail_event": RECORD,
    }


@pytest.mark.parametrize(
    "extra, key, expected",
    [
        ({"ReadOnly": "true"}, "read_only", True),
        ({"CloudTrailEvent": "not json"}, "cloud_trail_event", {"unparsed": "not json"}),
        ({"CloudTrailEvent": "{}"}, "error_code", None),
        ({"Resources": None}, "resources", []),
        ({"EventTime": datetime.datetime(2024, 5, 1, 10, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))}, "event_time", "2024-05-01T08:30:00Z"),
    ],
)
def test_shape_event_edges(extra, key, expected):
    assert eh.shape_event(raw_event("id", NOW, **extra), "us-east-1")[key] == expected


def test_merge_newest_first_across_regions():
    east = [eh.shape_event(raw_event(f"east-{i}", at(minutes=2 * i)), "us-east-1") for i in range(3)]
    west = [eh.shape_event(raw_event(f"west-{i}", at(minutes=2 * i + 1)), "eu-west-1") for i in range(3)]
    merged = eh.merge_newest_first([east, west], None)
    assert [e["event_id"] for e in merged] == ["east-0", "west-0", "east-1", "west-1", "east-2", "west-2"]
    assert [e["event_id"] for e in eh.merge_newest_first([east, west], 3)] == ["east-0", "west-0", "east-1"]


def test_merge_orders_fractional_and_whole_seconds_by_time():
    whole = eh.shape_event(raw_event("a", NOW), "us-east-1")
    later = eh.shape_event(raw_event("b", NOW + datetime.timedelta(microseconds=500000)), "us-east-1")
    assert [e["event_id"] for e in eh.merge_newest_first([[whole], [later]], None)] == ["b", "a"]


def test_merge_keeps_cloudtrails_order_for_events_of_the_same_second():
    # CloudTrail answers newest first; two calls of one second must not be
    # reordered by their (random) event ids.
    events = [eh.shape_event(raw_event(event_id, NOW), "us-east-1") for event_id in ("z-newer", "a-older")]
    assert [e["event_id"] for e in eh.merge_newest_first([events], None)] == ["z-newer", "a-older"]
