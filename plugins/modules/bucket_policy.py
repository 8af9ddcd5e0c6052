#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: bucket_policy
short_description: Let CloudTrail write to an S3 bucket, merged into the bucket's policy
version_added: 1.0.0
description:
  - Ensures the statements CloudTrail needs in an S3 bucket's policy, as the CloudTrail user guide gives them, merged into
    whatever policy the bucket already has.
  - An ACL check (V(s3:GetBucketAcl) on the bucket) and a write (V(s3:PutObject) on
    C(arn:aws:s3:::<bucket>[/<prefix>]/AWSLogs/<account id>/*) with C(s3:x-amz-acl) = C(bucket-owner-full-control)), both for the
    service principal C(cloudtrail.amazonaws.com) and restricted by C(aws:SourceArn) to the ARNs of O(trails).
  - The write covers the account of every trail in O(trails); with O(organization_id) it also covers C(AWSLogs/<organization id>/*).
  - The module owns its statements by C(Sid) and never changes or removes any other statement. It owns exactly
    C(AWSCloudTrailAclCheck<sid_suffix>), C(AWSCloudTrailWrite<sid_suffix>) and C(AWSCloudTrailDenyInsecureTransport<sid_suffix>).
  - With the default O(sid_suffix) these are the Sids of the user guide and of the CloudTrail console, so a bucket set up by hand
    from the guide is adopted (its two CloudTrail statements are replaced by this module's) rather than given a second, overlapping grant.
  - Policies are compared semantically, so statement order, list order and formatting never cause a write.
  - Safe on a bucket that other writers change at the same time. Every write, and every retry of one (after throttling), is merged
    from a policy read just before it, never re-sent as it was. After a write the policy is read back (after a short settling pause);
    it must hold this module's statements and every other statement the write was merged from. A write lost to another writer is
    merged and written again, up to 10 times; a statement of another writer that went missing is never re-added, and the module
    fails naming it. RV(policy) is the policy as read back.
  - A statement that carries one of the module's Sids but is not CloudTrail's grant (other principal, action or effect) makes the
    module fail naming the Sid, with nothing written; it is never rewritten.
  - The 20 KB size limit is checked on the exact text that is sent, before any write.
  - A run that changes nothing makes one S3 call (GetBucketPolicy), plus one STS GetCallerIdentity when a trail is given by name
    and O(account_id) is not set.
  - A bucket whose current policy is not valid JSON is never overwritten; the module fails instead.
author:
  - trailops.cloudtrail contributors (@trailops)
options:
  bucket:
    description:
      - The name of the existing S3 bucket that CloudTrail delivers log files to.
    type: str
    required: true
    aliases: [s3_bucket_name]
  trails:
    description:
      - The trails that may write to the bucket, each by name or by ARN. Required when O(state=present).
      - A trail given by name is taken to be in the module's region and in O(account_id) (or the caller's account).
        A trail in another account, or a multi-region trail whose home region is not the module's region, must be given by ARN.
      - This list is the whole set of trails for these Sids; a trail left out loses its grant on the next run.
        To grant several independent groups of trails (for example with different O(s3_key_prefix)), run the module once per group
        with a different O(sid_suffix).
    type: list
    elements: str
  account_id:
    description:
      - The account of the trails given by name in O(trails).
      - When omitted and a trail is given by name, it is the caller's account (one STS GetCallerIdentity call).
    type: str
  s3_key_prefix:
    description:
      - The trails' S3 key prefix (their C(S3KeyPrefix)), at most 200 characters. A trailing V(/) is removed; a leading V(/) is an error.
      - Omitted or V(""), the log files are written under C(AWSLogs/) at the top of the bucket.
    type: str
  organization_id:
    description:
      - For organization trails, the organization id (V(o-...)); the write then also covers C(AWSLogs/<organization id>/*).
    type: str
  deny_insecure_transport:
    description:
      - Also ensure a statement that denies every request made without TLS (C(aws:SecureTransport) = V(false)) on the bucket and its objects.
      - V(false) removes that statement if this module put it there.
    type: bool
    default: false
  sid_suffix:
    description:
      - Appended to the Sids the module owns; ASCII letters and digits, at most 64 characters.
      - The default is the suffix of the user guide's Sids. Use another value to manage a second, independent set of CloudTrail
        statements in the same bucket (each set is then managed, and removed, on its own).
    type: str
    default: "20150319"
  state:
    description:
      - V(present) ensures the statements. V(absent) removes the statements this module owns (for O(sid_suffix)) and deletes the
        bucket policy only when no other statement is left.
    type: str
    choices: [present, absent]
    default: present
notes:
  - The bucket must not be Requester Pays; CloudTrail cannot deliver to such a bucket whatever its policy.
  - A trail that uses a KMS key also needs the key policy of the user guide; this module manages only the bucket policy.
  - Trails are not looked up in CloudTrail (the policy must exist before CreateTrail accepts the bucket), so a trail that does not
    exist yet is granted all the same.
  - Run the module in the bucket's region; otherwise S3 answers with a redirect that costs an extra call on every run.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details:
      - Makes no write call; RV(policy) is the policy the bucket would have.
  diff_mode:
    support: full
    details:
      - The diff shows the bucket policy before and after (an empty dict for no policy).
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change and makes no write call.
    support: full
  platform:
    platforms: aws
"""

EXAMPLES = r"""
- name: Let one trail write to its bucket
  trailops.cloudtrail.bucket_policy:
    bucket: my-cloudtrail-logs
    trails:
      - management-events

- name: Several trails, a key prefix, an organization trail, and TLS-only access
  trailops.cloudtrail.bucket_policy:
    bucket: org-cloudtrail-logs
    s3_key_prefix: cloudtrail
    organization_id: o-abcdefghij
    deny_insecure_transport: true
    trails:
      - org-trail
      - arn:aws:cloudtrail:eu-west-1:210987654321:trail/security

- name: A second, independent grant in the same bucket
  trailops.cloudtrail.bucket_policy:
    bucket: my-cloudtrail-logs
    s3_key_prefix: team-b
    sid_suffix: TeamB
    trails:
      - team-b-trail

- name: Remove the CloudTrail statements, keeping every other statement
  trailops.cloudtrail.bucket_policy:
    bucket: my-cloudtrail-logs
    state: absent
"""

RETURN = r"""
policy:
  description:
    - The bucket policy as read back after the run (the predicted one in check mode); an empty dict when the bucket has no policy.
  returned: always
  type: dict
  sample:
    Version: "2012-10-17"
    Statement:
      - Sid: AWSCloudTrailAclCheck20150319
        Effect: Allow
        Principal:
          Service: cloudtrail.amazonaws.com
        Action: s3:GetBucketAcl
        Resource: arn:aws:s3:::my-cloudtrail-logs
        Condition:
          StringEquals:
            aws:SourceArn: arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events
      - Sid: AWSCloudTrailWrite20150319
        Effect: Allow
        Principal:
          Service: cloudtrail.amazonaws.com
        Action: s3:PutObject
        Resource: arn:aws:s3:::my-cloudtrail-logs/AWSLogs/123456789012/*
        Condition:
          StringEquals:
            s3:x-amz-acl: bucket-owner-full-control
            aws:SourceArn: arn:aws:cloudtrail:us-east-1:123456789012:trail/management-events
statements:
  description:
    - The statements of RV(policy) that this module owns (for O(sid_suffix)); empty after O(state=absent).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.trailops.cloudtrail.plugins.module_utils.bucket_policy import DEFAULT_SID_SUFFIX
from ansible_collections.trailops.cloudtrail.plugins.module_utils.bucket_policy import run
from ansible_collections.trailops.cloudtrail.plugins.module_utils.bucket_policy import validate_params
from ansible_collections.trailops.cloudtrail.plugins.module_utils.runner import exit_with
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import with_hidden_access_key


def main():
    argument_spec = dict(
        bucket=dict(type="str", required=True, aliases=["s3_bucket_name"]),
        trails=dict(type="list", elements="str"),
        account_id=dict(type="str"),
        s3_key_prefix=dict(type="str", no_log=False),
        organization_id=dict(type="str"),
        deny_insecure_transport=dict(type="bool", default=False),
        sid_suffix=dict(type="str", default=DEFAULT_SID_SUFFIX),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(argument_spec=with_hidden_access_key(argument_spec), supports_check_mode=True)
    exit_with(module, run, validate_params)


if __name__ == "__main__":
    main()
