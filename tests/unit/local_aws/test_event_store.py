"""The local AWS's event store (``tests.local_aws.fidelity.event_store``): what
LookupEvents and log file delivery read back is what was recorded, per account
and region, in the order it was recorded."""

from __future__ import annotations

import datetime
import json
import threading

import pytest

from tests.local_aws.fidelity import event_store

ACCOUNT = "111111111111"
OTHER_ACCOUNT = "222222222222"
NOON = datetime.datetime(2026, 11, 29, 12, 0, 0, 750000, tzinfo=datetime.timezone.utc)
USER = {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/alice", "accountId": ACCOUNT, "accessKeyId": "AKIAALICE", "userName": "alice"}


def event(name: str = "DescribeTrails", at: datetime.datetime = NOON, **given):
    fields = {
        "account_id": ACCOUNT,
        "region": "us-east-1",
        "event_name": name,
        "event_source": "cloudtrail.amazonaws.com",
        "event_time": at,
        "user_identity": USER,
        "read_only": name.startswith("Describe"),
        "request_parameters": None,
        "resources": [],
    }
    fields.update(given)
    return event_store.new_event(**fields)


@pytest.fixture(autouse=True)
def empty_store():
    event_store.clear()
    yield
    event_store.clear()


def test_events_come_back_per_account_and_region_in_recorded_order():
    first, second, elsewhere = event("CreateTrail"), event("StartLogging"), event("DeleteTrail")
    event_store.record(ACCOUNT, "us-east-1", [first])
    event_store.record(ACCOUNT, "us-east-1", [second])
    event_store.record(OTHER_ACCOUNT, "eu-west-1", [elsewhere])

    assert [e["EventName"] for e in event_store.events(ACCOUNT, "us-east-1")] == ["CreateTrail", "StartLogging"]
    assert [e["EventName"] for e in event_store.events(OTHER_ACCOUNT, "eu-west-1")] == ["DeleteTrail"]
    assert event_store.events(ACCOUNT, "eu-west-1") == []
    assert event_store.counts() == {(ACCOUNT, "us-east-1"): 2, (OTHER_ACCOUNT, "eu-west-1"): 1}


def test_readers_get_a_copy():
    event_store.record(ACCOUNT, "us-east-1", [event()])
    event_store.events(ACCOUNT, "us-east-1").clear()
    assert event_store.counts() == {(ACCOUNT, "us-east-1"): 1}


def test_clear_forgets_every_event():
    event_store.record(ACCOUNT, "us-east-1", [event()])
    event_store.clear()
    assert event_store.counts() == {}
    assert event_store.events(ACCOUNT, "us-east-1") == []


def test_an_event_has_lookup_events_fields_and_the_record_behind_them():
    stored = event("PutEventSelectors", error=("InvalidEventSelectorsException", "bad"), request_parameters={"trailName": "t"})

    summary = event_store.summary(stored)
    assert set(summary) == {"EventId", "EventName", "ReadOnly", "AccessKeyId", "EventTime", "EventSource", "Username", "Resources", "CloudTrailEvent"}
    # CloudTrail records whole seconds.
    assert summary["EventTime"] == NOON.replace(microsecond=0)
    assert (summary["ReadOnly"], summary["AccessKeyId"], summary["Username"]) == ("false", "AKIAALICE", "alice")
    record = json.loads(summary["CloudTrailEvent"])
    assert record["eventID"] == summary["EventId"]
    assert record["eventTime"] == "2026-11-29T12:00:00Z"
    assert (record["errorCode"], record["errorMessage"]) == ("InvalidEventSelectorsException", "bad")
    assert record["requestParameters"] == {"trailName": "t"}
    assert (record["eventType"], record["managementEvent"], record["recipientAccountId"]) == ("AwsApiCall", True, ACCOUNT)
    assert event_store.category(stored) == event_store.MANAGEMENT


def test_an_insight_event_is_not_a_management_event():
    stored = event("UpdateTrail", category=event_store.INSIGHT)
    record = json.loads(stored["CloudTrailEvent"])
    assert event_store.category(stored) == "Insight"
    assert (record["eventType"], record["managementEvent"]) == ("AwsCloudTrailInsight", False)


@pytest.mark.parametrize(
    "identity, username",
    [
        (USER, "alice"),
        ({"type": "AssumedRole", "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Audit/session-7"}, "session-7"),
        ({"type": "Root", "arn": f"arn:aws:iam::{ACCOUNT}:root"}, "root"),
    ],
)
def test_username_is_what_lookup_events_filters_on(identity, username):
    assert event_store.lookup_username(identity) == username
    assert event(user_identity=identity)["Username"] == username


def test_a_given_username_wins():
    assert event(username="seeder")["Username"] == "seeder"


def test_events_of_the_same_second_keep_their_recorded_order():
    later_in_the_second, earlier_in_the_second = event("B", at=NOON), event("A", at=NOON.replace(microsecond=0))
    earlier_second = event("C", at=NOON - datetime.timedelta(seconds=1))
    ordered = sorted([earlier_second, earlier_in_the_second, later_in_the_second], key=event_store.arrival_order)
    # Both of the same second have the same EventTime: the one recorded first comes first.
    assert [e["EventName"] for e in ordered] == ["C", "B", "A"]


def test_concurrent_writers_lose_no_event():
    def write(index: int) -> None:
        for _number in range(200):
            event_store.record(ACCOUNT, "us-east-1", [event(f"Call{index}")])

    writers = [threading.Thread(target=write, args=(index,)) for index in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert event_store.counts() == {(ACCOUNT, "us-east-1"): 800}
    assert len({e["EventId"] for e in event_store.events(ACCOUNT, "us-east-1")}) == 800


def test_now_is_utc():
    assert event_store.now().tzinfo == datetime.timezone.utc
