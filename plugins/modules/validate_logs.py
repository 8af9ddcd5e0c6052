#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: validate_logs
short_description: Prove that a CloudTrail trail's log files were not changed or deleted
version_added: 1.0.0
description:
  - Validates the integrity of the log files a trail delivered in a time range, and reaches the verdict of
    C(aws cloudtrail validate-logs), the reference client, on every tampering case it detects.
  - Finds the trail's digest files whose end time is from O(start_time) to one hour after O(end_time) (log files of the
    range's last hour are listed in the next digest), backfill digests (C(*_backfill.json.gz)) included. Checks that each
    is where it says it was delivered, carries its C(signature) and C(signature-algorithm) metadata, and verifies its
    SHA256withRSA signature with the public key of ListPublicKeys whose fingerprint it names. Follows the chain of
    previous-digest links by key, and checks that every log file a valid digest lists is still in the bucket, is exactly
    one gzip member, and has the SHA-256 the digest recorded (over the uncompressed content).
  - Reports digests valid, invalid and missing; log files valid, modified, deleted; every failure with its S3 key; and,
    as information that does not make the result invalid, each restart of the chain (logging was stopped or log file
    validation was off for a while, so CloudTrail started a new chain).
  - Organization trails (C(AWSLogs/<org id>/<account>/)), S3 key prefixes and multi-region trails are handled.
  - Reads digests and log files with a pool of O(max_concurrency) threads, ahead of the checks and across digests (the log
    files of the whole range are one stream of reads, so the pool never waits for a digest's last log file), but checks
    them in order, so the findings are those of a one-at-a-time read; hashes log files as they stream, so memory grows
    with the pool, not with the bucket. Makes one GetTrail call, one ListPublicKeys call per region (one per page if it pages, and one more around a backfill
    digest signed with a key not valid in the range), ListObjectsV2 calls (1,000 keys a page), one GetObject per digest
    and one per log file.
  - Never reports success for something it could not check. A trail without log file validation, or a range without any
    digest file, fails with RV(verdict=not_validated); the AWS CLI reports "No digests found" and succeeds there.
  - An object that cannot be read is named with its bucket and key and the likely cause (a bucket policy that denies
    requests not made over HTTPS, or a caller without C(s3:GetObject) or C(kms:Decrypt)).
author:
  - trailops.cloudtrail contributors (@trailops)
requirements:
  - cryptography
options:
  trail_name:
    description:
      - The trail, by name or ARN. A trail whose home is another region needs its ARN.
    type: str
    required: true
    aliases: [name, trail]
  start_time:
    description:
      - The start of the range, ISO 8601 (for example V(2024-05-01T00:00:00Z)); a time without offset is UTC.
      - Digest files whose end time is from O(start_time) to one hour after O(end_time) are validated, with the log files they list.
      - Must be in the past and before O(end_time).
    type: str
    required: true
  end_time:
    description:
      - The end of the range, ISO 8601. Omitted means now. Must not be in the future.
    type: str
  regions:
    description:
      - The regions whose digests to validate. Omitted or V([]) means every region the trail delivered digests for
        (only the home region for a single-region trail).
    type: list
    elements: str
    default: []
  account_ids:
    description:
      - For an organization trail, the member accounts whose digests to validate. Omitted or V([]) means every account
        found under the organization's folder. Ignored for other trails (their own account is validated).
    type: list
    elements: str
    default: []
  max_concurrency:
    description:
      - How many digest and log files are read from S3 at once, by a pool of threads of this size.
      - Against S3 each read waits tens of milliseconds on the network; reading ahead hides that wait. Results are
        checked in order, so the findings do not depend on this value, and memory grows with it, not with the number of files.
      - V(1) reads one object at a time, without threads. S3 throttling (C(SlowDown), HTTP 503) is retried with backoff
        by each thread, as every call of this collection is.
      - The default, 16, is where the gain flattens with 30 to 50 ms per S3 call; more helps when S3 is further away.
      - From 1 to 64.
    type: int
    default: 16
  fail_on_invalid:
    description:
      - Whether the task fails when a digest or log file is invalid, missing or deleted. A restart of the chain is
        information (RV(information)), not a failure.
      - With V(false) the findings are returned in RV(failures) and RV(verdict) and the task succeeds, which lets a play
        collect the verdicts of many accounts.
    type: bool
    default: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details:
      - The module only reads; check mode changes nothing about what it does.
  diff_mode:
    support: none
  idempotent:
    description: The module only reads and never changes anything.
    support: full
"""

EXAMPLES = r"""
- name: Prove the last day of management-events logs
  trailops.cloudtrail.validate_logs:
    trail_name: management-events
    start_time: "{{ '%Y-%m-%dT%H:%M:%SZ' | strftime(now(utc=true).timestamp() - 86400) }}"
  register: integrity

- name: One week of an organization trail, two member accounts, without failing the play
  trailops.cloudtrail.validate_logs:
    trail_name: arn:aws:cloudtrail:us-east-1:111122223333:trail/organization
    start_time: "2024-05-01T00:00:00Z"
    end_time: "2024-05-08T00:00:00Z"
    account_ids: ["444455556666", "777788889999"]
    fail_on_invalid: false
  register: integrity

- name: Show what failed
  ansible.builtin.debug:
    msg: "{{ item.kind }}: {{ item.s3_key }} ({{ item.detail }})"
  loop: "{{ integrity.failures }}"
"""

RETURN = r"""
verdict:
  description:
    - V(valid) when every digest in the range and every log file they list checked out;
      V(invalid) when anything failed; V(not_validated) when there was nothing to check;
      V(unreadable) when the trail or the bucket could not be read (the task fails).
  returned: always
  type: str
  sample: valid
seconds:
  description:
    - How long the module took, from its start to its result (the trail's lookup, the listings, and every digest and log
      file read and checked), in seconds, to a tenth.
    - One module run cannot print while it runs, so this is what a play shows as each trail finishes (the
      C(trailops.cloudtrail.fleet) callback prints it for C(playbooks/validate_logs.yml)).
  returned: always
  type: float
  sample: 41.2
trail_arn:
  description: The trail validated.
  returned: when the trail was found
  type: str
  sample: arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events
s3_bucket:
  description: The bucket the digests and log files were read from.
  returned: when the trail was found
  type: str
  sample: my-cloudtrail-logs
summary:
  description: What was checked and how it came out.
  returned: always
  type: dict
  contains:
    start_time:
      description: The start of the range, UTC.
      type: str
      sample: "2024-05-01T00:00:00Z"
    end_time:
      description: The end of the range, UTC.
      type: str
      sample: "2024-05-02T00:00:00Z"
    digests:
      description: Digest files V(valid), V(invalid) (unreadable, moved, bad or missing signature, unknown key) and V(missing) (deleted).
      type: dict
      sample: {"valid": 24, "invalid": 0, "missing": 0}
    backfill_digests:
      description: Backfill digest files (C(*_backfill.json.gz)), counted like RV(summary.digests).
      type: dict
      sample: {"valid": 1, "invalid": 0, "missing": 0}
    log_files:
      description:
        - Log files V(valid), V(modified), V(deleted), V(unreadable), and V(not_validated) (listed in a digest that is itself invalid).
      type: dict
      sample: {"valid": 288, "modified": 0, "deleted": 0, "unreadable": 0, "not_validated": 0}
    chain_gaps:
      description: How many times the chain of digests restarts in the range (logging was stopped or log file validation was off in between).
      type: int
      sample: 0
    scopes:
      description: The account and region folders that were validated.
      type: list
      elements: dict
      sample: [{"account_id": "123456789012", "region": "us-east-1", "folder": "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/"}]
failures:
  description: Every failure found, in the order found.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description:
        - One of V(digest_missing), V(digest_unreadable), V(digest_moved), V(digest_signature_missing), V(digest_signature_invalid),
          V(digest_public_key_unknown), V(digest_modified), V(digest_signature_replaced), V(log_file_modified),
          V(log_file_deleted), V(log_file_unreadable).
      type: str
      sample: log_file_modified
    s3_key:
      description: The key of the digest or log file concerned.
      type: str
      sample: AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01/123456789012_CloudTrail_us-east-1_20240501T0005Z_abcdefghijklmnop.json.gz
    detail:
      description: What is wrong with it.
      type: str
      sample: its SHA-256 differs from the one in the digest
information:
  description:
    - What an auditor should know that is not a failure, in the order found. V(chain_gap) is a digest that starts a new
      chain after another one (logging was stopped or log file validation was off, so no digest covers that time);
      the AWS CLI reports it the same way and exits 0.
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: V(chain_gap).
      type: str
      sample: chain_gap
    s3_key:
      description: The key of the digest that starts the new chain.
      type: str
      sample: AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/05/01/123456789012_CloudTrail-Digest_us-east-1_trail_us-east-1_20240501T101500Z.json.gz
    detail:
      description: What happened.
      type: str
      sample: "the chain restarts: no digest links to ..."
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import with_hidden_access_key
from ansible_collections.trailops.cloudtrail.plugins.module_utils.s3_objects import DEFAULT_MAX_CONCURRENCY
from ansible_collections.trailops.cloudtrail.plugins.module_utils.validate_logs import run


def main():
    argument_spec = dict(
        trail_name=dict(type="str", required=True, aliases=["name", "trail"]),
        start_time=dict(type="str", required=True),
        end_time=dict(type="str"),
        regions=dict(type="list", elements="str", default=[]),
        account_ids=dict(type="list", elements="str", default=[]),
        fail_on_invalid=dict(type="bool", default=True),
        max_concurrency=dict(type="int", default=DEFAULT_MAX_CONCURRENCY),
    )
    module = AnsibleAWSModule(argument_spec=with_hidden_access_key(argument_spec), supports_check_mode=True)
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
