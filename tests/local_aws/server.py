"""Start, drive and stop the local AWS.

``LocalAWS`` runs ``python -m tests.local_aws serve`` in a child process bound
to a free loopback port, serving HTTPS with the CA of ``tests.local_aws.tls``,
and talks to moto's control API for resets and for the call recorder that tests
use to count API calls.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from typing import Iterable

from tests.local_aws import tls
from tests.local_aws.fidelity import wire

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


@dataclasses.dataclass(frozen=True)
class Call:
    """One API call the server received."""

    service: str
    action: str
    method: str
    path: str
    region: str
    access_key: str

    @property
    def is_write(self) -> bool:
        if self.service == "s3":
            return self.method not in ("GET", "HEAD")
        return not self.action.startswith(wire.READ_ONLY_PREFIXES)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parse_recording(lines: Iterable[str]) -> list[Call]:
    calls = []
    for line in lines:
        if not line.strip():
            continue
        entry = json.loads(line)
        headers = entry.get("headers", {})
        access_key, region, service = wire.credential_scope(headers)
        url = urllib.parse.urlparse(entry.get("url", ""))
        target = headers.get("X-Amz-Target", "")
        if target:
            action = target.rsplit(".", 1)[-1]
        else:
            body = entry.get("body") or ""
            if entry.get("body_encoded"):
                body = base64.b64decode(body).decode("utf-8", "replace")
            action = wire.form_params(body, urllib.parse.parse_qs(url.query)).get("Action", [""])[0]
            # S3 calls keep Call's own naming, method and path (tests and bench/run.py match on it).
            if not action and service == "s3":
                action = f"{entry['method']} {url.path}"
        calls.append(Call(service, action, entry["method"], url.path, region, access_key))
    return calls


class LocalAWS:
    """moto's server with the fidelity layer, on a free loopback port."""

    def __init__(self, port: int | None = None, https: bool = True) -> None:
        self.port = port or free_port()
        # AWS is HTTPS only; plain HTTP is only for tests of what it refuses.
        self.https = https
        self.endpoint = f"{'https' if https else 'http'}://127.0.0.1:{self.port}"
        # The CA that signed the server's certificate, for every client.
        self.ca_bundle = tls.CA_FILE
        self._process: subprocess.Popen | None = None
        self._recording = tempfile.NamedTemporaryFile(prefix="moto-recording-", delete=False)
        self._recording.close()

    # -- life cycle -------------------------------------------------------
    def start(self, timeout: float = 30.0) -> "LocalAWS":
        tls.ensure_certificates()
        env = dict(os.environ, MOTO_RECORDER_FILEPATH=self._recording.name)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.local_aws", "serve", "--port", str(self.port)] + ([] if self.https else ["--insecure-http"]),
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"local AWS exited with {self._process.returncode}")
            try:
                self._get("/moto-api/data.json")
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"local AWS did not answer on {self.endpoint} within {timeout}s")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        self._process = None
        if os.path.exists(self._recording.name):
            os.unlink(self._recording.name)

    def __enter__(self) -> "LocalAWS":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def env(self, region: str = REGION) -> dict[str, str]:
        """What a process needs to talk to this local AWS."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_CA_BUNDLE": self.ca_bundle,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
        }

    def client(self, service: str, region: str = REGION, **credentials):
        import boto3

        creds = {
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
            "aws_session_token": "testing",
        }
        creds.update(credentials)
        return boto3.client(service, region_name=region, endpoint_url=self.endpoint, verify=self.ca_bundle, **creds)

    # -- control API ------------------------------------------------------
    def _get(self, path: str) -> bytes:
        with tls.urlopen(self.endpoint + path, timeout=5) as response:
            return response.read()

    def _post(self, path: str, body: bytes = b"") -> bytes:
        request = urllib.request.Request(self.endpoint + path, data=body, method="POST")
        with tls.urlopen(request, timeout=10) as response:
            return response.read()

    def reset(self) -> None:
        """Wipe every account and region, and the call recording."""
        self._post("/moto-api/reset")
        self._post("/moto-api/recorder/reset-recording")

    def start_recording(self) -> None:
        self._post("/moto-api/recorder/reset-recording")
        self._post("/moto-api/recorder/start-recording")

    def stop_recording(self) -> list[Call]:
        self._post("/moto-api/recorder/stop-recording")
        return self.recorded_calls()

    def recorded_calls(self) -> list[Call]:
        return parse_recording(self._get("/moto-api/recorder/download-recording").decode().splitlines())

    def error_responses(self) -> list[tuple[str, str, int, str]]:
        """(service, action, status, code) of each answer with HTTP status >= 400
        while recording (``tests.local_aws.fidelity.responses``)."""
        from tests.local_aws.fidelity import responses

        return responses.error_responses(self)
