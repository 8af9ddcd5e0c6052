# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The collection's one retry policy: every AWS client of every module and
plugin is built with ``transient_retry()`` (amazon.aws's AWSRetry, with the
transient answers it does not know). Call sites pass ``aws_retry=True``.

Justified exceptions, each beside the code it governs:

- the event_history lookup's pacing (``plugin_utils/event_history.py``): a
  token bucket at CloudTrail's 2 LookupEvents a second per account and region,
  with the SDK's retries off, since waiting *before* a call keeps the account's
  CloudTrail free of throttled events that retrying *after* would leave;
- PutBucketPolicy (``bucket_policy.py``): never re-sent as it was; each
  attempt re-reads and re-merges, so a statement another writer added since is
  kept, and the client is built without botocore's own retries;
- a KMS key just created (``kms_key.py``): NotFoundException is retried for a
  few seconds, as KMS is eventually consistent;
- an IAM role just created (``cloudwatch_logs.retry_role_propagation``):
  CloudTrail refuses it for a while with "access denied".
"""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# Transient answers AWSRetry does not retry by itself: JSON services (CloudTrail,
# KMS) throttle with ThrottlingException, S3 with SlowDown, and a 5xx answer
# without an AWS error document (a load balancer's 502/504) has its status as code.
TRANSIENT_ERROR_CODES = ["ThrottlingException", "SlowDown", "500", "502", "503", "504"]


def transient_retry():
    """AWSRetry's jittered backoff, also on the transient answers above: up to
    10 attempts in all, each retry after a random wait of up to 1, 2, 4, ...
    30 seconds."""
    return AWSRetry.jittered_backoff(retries=10, delay=1, max_delay=30, catch_extra_error_codes=TRANSIENT_ERROR_CODES)
