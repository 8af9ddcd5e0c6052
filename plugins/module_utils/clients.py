# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The boto3 clients of one module run that talks to several services, made
from one boto3 session.

Why by hand: amazon.aws's ``module.client()`` makes a new boto3 session for
every client, and each new session loads botocore's endpoint data and the
service's model again. For the baseline's four to six clients that was most
of a no-change run's own time (measured here: four clients 0.49 s from four
sessions, 0.13 s from one). The connection options are still amazon.aws's
own (``get_aws_connection_info``): region, endpoint, profile, credentials,
certificates and ``aws_config`` mean what they mean to every other module.
"""

from __future__ import annotations

import threading
from typing import Any
from typing import Optional

try:
    import boto3
    import botocore.config
except ImportError:
    pass  # AnsibleAWSModule reports a missing boto3

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

from ansible_collections.trailops.cloudtrail.plugins.module_utils.retries import transient_retry

# Clients made with botocore's own retries off (see ``Clients.__call__``).
NO_SDK_RETRIES = {"retries": {"total_max_attempts": 1}}


class Clients:
    """``clients(service)``: a client for the region, made once (under a
    lock: callers read in threads), wrapped with the collection's retry
    policy (calls pass ``aws_retry=True``). ``"s3-policy"`` is an S3 client
    without botocore's own retries: a PutBucketPolicy must never be re-sent
    as it was, only re-read and merged again (bucket_policy.py)."""

    def __init__(self, module, region: str, credentials: Optional[dict[str, str]] = None, session=None) -> None:
        dummy, self._endpoint, connect = get_aws_connection_info(module)
        profile = connect.pop("profile_name", None)
        self._config = botocore.config.Config(user_agent_extra="trailops.cloudtrail")
        if connect.get("aws_config") is not None:
            self._config = self._config.merge(connect.pop("aws_config"))
        connect.pop("aws_config", None)
        self._connect = dict(connect, **(credentials or {}))
        self._session = session or boto3.session.Session(profile_name=profile)
        self._region = region
        self._module = module
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def acting_with(self, credentials: dict[str, str]) -> "Clients":
        """The same session's clients with other credentials (an assumed
        role's): they go to each client, never into the module's parameters,
        whose values Ansible may echo back."""
        return Clients(self._module, self._region, credentials, self._session)

    def __call__(self, service: str):
        with self._lock:
            if service not in self._clients:
                config = self._config.merge(botocore.config.Config(**NO_SDK_RETRIES)) if service == "s3-policy" else self._config
                client = self._session.client(
                    "s3" if service == "s3-policy" else service,
                    region_name=self._region,
                    endpoint_url=self._endpoint,
                    config=config,
                    **self._connect,
                )
                self._clients[service] = RetryingBotoClientWrapper(client, transient_retry())
            return self._clients[service]
