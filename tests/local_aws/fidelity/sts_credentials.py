"""The credentials moto's STS has issued, for tests that must prove no secret
is ever printed: ``GET /moto-api/trailops/sts/credentials`` answers with every
assumed role's access key id, secret key, session token and account, so a
test can look for the exact secrets in what a playbook printed and wrote, and
tell the account each access key acts in. Not a CloudTrail behaviour: a
window on moto's own state (``sts_backends[...].assumed_roles``)."""

from __future__ import annotations

import json
from typing import Any

from tests.local_aws.fidelity import hooks

CREDENTIALS_PATH = "/moto-api/trailops/sts/credentials"


def issued_credentials() -> list[dict[str, str]]:
    from moto.sts.models import sts_backends

    issued = []
    for account_id in list(sts_backends.keys()):
        for partition in list(sts_backends[account_id].keys()):
            for role in sts_backends[account_id][partition].assumed_roles:
                issued.append(
                    {
                        "access_key_id": role.access_key_id,
                        "secret_access_key": role.secret_access_key,
                        "session_token": role.session_token,
                        "account_id": role.account_id,
                    }
                )
    return issued


def _credentials_view(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    return 200, {"Content-Type": "application/json"}, json.dumps(issued_credentials())


def install() -> None:
    hooks.control_path(CREDENTIALS_PATH, _credentials_view)
