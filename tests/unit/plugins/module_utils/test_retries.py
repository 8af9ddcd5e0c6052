"""The one retry policy: transient answers are retried, others are not."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from ansible_collections.trailops.cloudtrail.plugins.module_utils import retries


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, "AnyCall")


class FlakyCall:
    """Fails with ``code`` ``times`` times, then answers."""

    def __init__(self, code: str, times: int) -> None:
        self.code, self.times, self.calls = code, times, 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.times:
            raise _error(self.code)
        return "answer"


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)


@pytest.mark.parametrize("code", ["ThrottlingException", "SlowDown", "503", "RequestLimitExceeded", "TooManyRequestsException"])
def test_a_transient_answer_is_retried(code):
    call = FlakyCall(code, 2)
    assert retries.transient_retry()(call)() == "answer"
    assert call.calls == 3


@pytest.mark.parametrize("code", ["AccessDenied", "NoSuchBucket", "ValidationException"])
def test_any_other_answer_fails_at_once(code):
    call = FlakyCall(code, 1)
    with pytest.raises(ClientError):
        retries.transient_retry()(call)()
    assert call.calls == 1


def test_retries_give_up_after_ten_attempts():
    call = FlakyCall("SlowDown", 100)
    with pytest.raises(ClientError):
        retries.transient_retry()(call)()
    assert call.calls == 10
