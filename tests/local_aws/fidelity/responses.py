"""The server's answers, beside moto's recording of the requests.

moto's recorder (``/moto-api/recorder/...``) keeps what the server received,
never what it answered. Issue 11 asks that a no-change run and a clean drift
check make no call that answers an error: in a real account each such call is
an error event in the customer's own CloudTrail. So, for every signed request
the server answers while moto's recorder is on, this module keeps the service,
the action, the HTTP status and the AWS error code, and forgets them when moto's
recording is reset. Start, stop and reset are moto's own
(``LocalAWS.start_recording()`` / ``stop_recording()`` / ``reset()``): this
module follows them rather than adding switches of its own.

Actions are named by ``wire``, as the fault rules name them: the
``X-Amz-Target`` action, the query ``Action``, and for S3 its API action
(``GetBucketPolicy``, ``HeadBucket``, ``<Verb>Object``) rather than method and
path, so that an S3 error says which call it was. The error code
is the answer's own, read by ``wire.answer_error`` (as for the recorded
events' ``errorCode``): the JSON ``__type`` or ``code``, the XML ``<Code>``, or
the ``x-amzn-ErrorType`` header; an answer with none of these (moto's HTML
500 for an unimplemented call, a load balancer's 502) has the code ``""``.
Unsigned requests (the control API) are not AWS calls and are not kept.

The view wrapper is installed last, outermost, so that it also sees what the
fault rules and the bucket-policy check answer before moto does.

The test side is ``answers`` and ``error_responses``; they only speak HTTP, so
importing this module does not import moto.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any, NamedTuple

from tests.local_aws import tls
from tests.local_aws.fidelity import hooks, wire

RESPONSES_PATH = "/moto-api/trailops/responses"

_LOCK = threading.Lock()
_ANSWERS: list[dict[str, Any]] = []
_RECORDING = {"on": False}
_ORIGINAL: dict[str, Any] = {}


class Answer(NamedTuple):
    """One answer the server gave: compares equal to a plain (service, action, status, code) tuple."""

    service: str
    action: str
    status: int
    code: str


# -- the test side --------------------------------------------------------


def answers(aws: Any) -> list[Answer]:
    """Every answer given while moto's recorder was on, since its last reset, in order."""
    with tls.urlopen(aws.endpoint + RESPONSES_PATH, timeout=30) as response:
        loaded = json.loads(response.read() or b"[]")
    return [Answer(entry["service"], entry["action"], entry["status"], entry["code"]) for entry in loaded]


def error_responses(aws: Any) -> list[Answer]:
    """The answers with HTTP status 400 or more: the calls a real account records as errors."""
    return [answer for answer in answers(aws) if answer.status >= 400]


# -- inside the server ----------------------------------------------------


def _keep(asked: tuple[str, str], status: int, code: str) -> None:
    with _LOCK:
        if _RECORDING["on"]:
            _ANSWERS.append({"service": asked[0], "action": asked[1], "status": status, "code": code})


def _answering_view(self: Any, args: Any = None, **kwargs: Any) -> Any:
    from flask import request

    if not _RECORDING["on"]:
        return _ORIGINAL["view"](self, args, **kwargs)
    try:
        signed = wire.signed_request(request)
        asked = (signed.service, signed.action) if signed else None
    except Exception:  # never let the bookkeeping break a request
        asked = None
    try:
        response = _ORIGINAL["view"](self, args, **kwargs)
    except Exception:
        # The server answers an exception with its HTML 500: no AWS error code.
        if asked is not None:
            _keep(asked, 500, "")
        raise
    if asked is not None:
        status = response.status_code
        _keep(asked, status, wire.answer_error(response.headers, response.get_data())[0] if status >= 400 else "")
    return response


def _responses_view(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    with _LOCK:
        return 200, {"Content-Type": "application/json"}, json.dumps(_ANSWERS)


def _follow_recorder() -> None:
    """Start, stop and forget with moto's recorder (its control API calls these methods)."""
    from moto.moto_api import recorder

    original = {name: getattr(recorder, name) for name in ("start_recording", "stop_recording", "reset_recording")}

    def start_recording() -> None:
        original["start_recording"]()
        with _LOCK:
            _RECORDING["on"] = True

    def stop_recording() -> None:
        original["stop_recording"]()
        with _LOCK:
            _RECORDING["on"] = False

    def reset_recording() -> None:
        original["reset_recording"]()
        with _LOCK:
            _ANSWERS.clear()

    recorder.start_recording = start_recording
    recorder.stop_recording = stop_recording
    recorder.reset_recording = reset_recording
    # moto's recorder starts on when the server starts with this variable set.
    _RECORDING["on"] = bool(os.environ.get("MOTO_ENABLE_RECORDING", False))


def install() -> None:
    """Wrap moto's view outermost (install after faults), and follow moto's recorder."""
    if _ORIGINAL:
        return
    hooks.wrap_view(_ORIGINAL, _answering_view)
    _follow_recorder()
    hooks.control_path(RESPONSES_PATH, _responses_view)
