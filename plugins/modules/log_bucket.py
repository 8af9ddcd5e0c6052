#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the trailops.cloudtrail project
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: log_bucket
short_description: The S3 bucket CloudTrail delivers log files to, with CloudTrail's statements in its policy
version_added: 1.1.0
description:
  - Creates, or adopts, the S3 bucket CloudTrail delivers log files to, and merges the statements CloudTrail needs into its bucket
    policy as M(trailops.cloudtrail.bucket_policy) does (statements the module does not own are left as they are).
  - A bucket the module owns (O(existing=false)) is private (Block Public Access on, object ownership V(BucketOwnerEnforced)),
    encrypted by default (SSE-S3, or SSE-KMS with O(kms_key_id)) and versioned, unless an option says otherwise. It is tagged
    C(trailops.cloudtrail:created-by) when it is created; a bucket that exists without that tag was not created by the collection,
    and the module then fails before any write, naming O(existing), rather than take it over.
  - An adopted bucket (O(existing=true)) gets only the CloudTrail statements and, when asked, the lifecycle rules; a setting option
    that would change it fails before any write. Only the settings an option names are read.
  - SSE-KMS default encryption is never changed to SSE-S3 unless O(encryption_downgrade=true).
  - The lifecycle rules cover only CloudTrail's own objects, one rule per prefix C([prefix/]AWSLogs/<account>/CloudTrail/),
    C(CloudTrail-Digest/) and C(CloudTrail-Insight/) for each trail's account (and C(AWSLogs/<organization id>/) for an organization
    trail), each with the ID C(trailops-cloudtrail:<prefix>) (C(trailops-cloudtrail:<sha256 of the prefix>) for a prefix over 200
    characters). Other rules are kept as they are; the rule C(trailops-cloudtrail-logs) of earlier versions (all of C(AWSLogs/)) is
    removed whenever the lifecycle is written.
  - Reads are made at once (one thread per S3 call) and only for what the options manage, so that a run that changes nothing makes
    no call that answers an error. The lifecycle configuration is read only when a lifecycle option is set, or when the bucket's
    C(trailops.cloudtrail:created-by) tag is V(log_bucket:lifecycle), which the module writes while rules of its own exist.
  - A missing bucket is told by the first read's C(NoSuchBucket) answer; no C(HeadBucket) is made.
author:
  - trailops.cloudtrail contributors (@trailops)
options:
  name:
    description: Name of the S3 bucket.
    type: str
    required: true
  state:
    description:
      - V(present) makes the bucket and its CloudTrail statements as described.
      - V(absent) removes only the module's CloudTrail statements (for O(sid_suffix)) from the bucket policy; the bucket and its
        log files stay unless O(delete=true).
    type: str
    choices: [present, absent]
    default: present
  existing:
    description:
      - V(true) adopts a bucket that must already exist; only the CloudTrail statements (and the lifecycle rules, when asked) are
        written to it.
      - V(false) creates the bucket when it does not exist and keeps its settings as the options say.
    type: bool
    default: false
  trails:
    description:
      - The trails (names or ARNs) allowed to deliver to the bucket; the statements are restricted to them with C(aws:SourceArn).
        Required when O(state=present).
      - A trail given by name is in the module's region and in O(account_id) (or the caller's account, one STS call).
    type: list
    elements: str
  s3_key_prefix:
    description: The S3 key prefix the trails deliver under (omitted or V("") for none), at most 200 characters, not starting with V(/).
    type: str
  organization_id:
    description: The AWS Organizations id, for an organization trail (also allows writes under C(AWSLogs/<org id>/)).
    type: str
  account_id:
    description:
      - The account of the trails given by name in O(trails). When omitted and a trail is given by name, the caller's account
        (one STS GetCallerIdentity call).
    type: str
  deny_insecure_transport:
    description:
      - Adds a statement denying any request to the bucket not made over TLS (owned by the module, for O(sid_suffix)).
      - When omitted, V(true) for a bucket the module owns and V(false) for an adopted bucket.
    type: bool
  encryption:
    description:
      - Default encryption of the bucket.
      - When omitted, a bucket the module owns gets V(aws:kms) if O(kms_key_id) is set, else V(AES256) (SSE-S3); an adopted bucket
        keeps its own.
    type: str
    choices: [AES256, "aws:kms"]
  kms_key_id:
    description:
      - The KMS key (ARN preferred) for SSE-KMS default encryption; omitted for none (or the bucket's own, when adopted).
      - Requires O(encryption) omitted or V(aws:kms).
    type: str
  versioning:
    description: Object versioning. When omitted, V(true) for a bucket the module owns; an adopted bucket keeps its own.
    type: bool
  public_access_block:
    description:
      - All four Block Public Access settings on (V(true)) or off (V(false)).
      - When omitted, V(true) for a bucket the module owns; an adopted bucket keeps its own.
    type: bool
  object_ownership:
    description: Object ownership. When omitted, V(BucketOwnerEnforced) for a bucket the module owns; an adopted bucket keeps its own.
    type: str
    choices: [BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter]
  lifecycle_transition_days:
    description: Days after which log files move to O(lifecycle_storage_class), in the module's lifecycle rules. Omitted for no transition.
    type: int
  lifecycle_storage_class:
    description: Storage class of the lifecycle transition.
    type: str
    default: GLACIER
    choices: [STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER, DEEP_ARCHIVE]
  lifecycle_expiration_days:
    description:
      - Days after which log files expire, in the module's lifecycle rules. Omitted for no expiration.
      - Must be greater than O(lifecycle_transition_days) when both are set.
    type: int
  delete:
    description:
      - With O(state=absent), also deletes the bucket and every object version in it (log files included). Only this option ever
        deletes the bucket.
      - Refused, before any delete, for an adopted bucket (O(existing=true), or a bucket without the C(trailops.cloudtrail:created-by)
        tag) and for a bucket holding any object outside CloudTrail's own prefixes (C([prefix/]AWSLogs/<account or organization id>/CloudTrail/),
        C(CloudTrail-Digest/), C(CloudTrail-Insight/)); the message names what is there.
    type: bool
    default: false
  sid_suffix:
    description:
      - The O(trailops.cloudtrail.bucket_policy#module:sid_suffix) of the bucket policy statements this module owns.
    type: str
    default: "20150319"
  encryption_downgrade:
    description:
      - V(true) lets the module change a bucket encrypted with SSE-KMS to SSE-S3. Without it such a change fails before any write.
    type: bool
    default: false
  option_prefix:
    description:
      - Put before each option's name in failure messages, for a caller that maps its own variables onto the options one to one
        (the C(trailops.cloudtrail.log_bucket) role passes V(log_bucket_), so its messages name its variables).
    type: str
    default: ""
notes:
  - Run the module in the bucket's region; a new bucket is created in the module's region.
  - Object versions are listed only for O(delete=true).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details:
      - Makes no write call; RV(bucket) and RV(parts) are the state the run would leave.
  diff_mode:
    support: full
    details:
      - One diff per changed part (C(log_bucket), C(bucket_policy)), each the normalized state before and after.
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change and makes no write call.
    support: full
  platform:
    platforms: aws
"""

EXAMPLES = r"""
- name: A private, encrypted, versioned bucket one trail delivers to, expiring its log files after a year
  trailops.cloudtrail.log_bucket:
    name: my-cloudtrail-logs
    trails:
      - management-events
    lifecycle_expiration_days: 365

- name: Adopt a team's bucket as it is, adding only CloudTrail's statements
  trailops.cloudtrail.log_bucket:
    name: team-logs
    existing: true
    s3_key_prefix: cloudtrail
    trails:
      - arn:aws:cloudtrail:eu-west-1:123456789012:trail/security

- name: Remove the trail's statements and delete the bucket with its log files
  trailops.cloudtrail.log_bucket:
    name: my-cloudtrail-logs
    state: absent
    delete: true
"""

RETURN = r"""
bucket:
  description:
    - The bucket after the run (the predicted state in check mode), as C(parts.log_bucket.after), with its C(name); null after a delete.
  returned: always
  type: dict
  sample:
    name: my-cloudtrail-logs
    encryption: AES256
    kms_key_id: null
    versioning: true
    public_access_block: true
    object_ownership: BucketOwnerEnforced
    lifecycle: {}
    created_by: log_bucket
parts:
  description: Each part the run manages, as C(changed), C(before) and C(after) (null before, the bucket did not exist; null after, it will not).
  returned: always
  type: dict
  contains:
    log_bucket:
      description:
        - The bucket's settings, normalized. C(lifecycle) holds only the collection's rules, by ID. C(created_by) is the value of
          the C(trailops.cloudtrail:created-by) tag (V(log_bucket), or V(log_bucket:lifecycle) while the collection's rules exist).
        - For an adopted bucket, only the settings an option names (and C(lifecycle) when a lifecycle option is set).
      type: dict
      returned: always
    bucket_policy:
      description: The bucket policy's statements owned by the module (for O(sid_suffix)), as C(statements) by Sid.
      type: dict
      returned: always
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.trailops.cloudtrail.plugins.module_utils.bucket_policy import DEFAULT_SID_SUFFIX
from ansible_collections.trailops.cloudtrail.plugins.module_utils.log_bucket import run
from ansible_collections.trailops.cloudtrail.plugins.module_utils.runner import exit_with
from ansible_collections.trailops.cloudtrail.plugins.module_utils.cloudtrail import with_hidden_access_key


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        existing=dict(type="bool", default=False),
        trails=dict(type="list", elements="str"),
        s3_key_prefix=dict(type="str", no_log=False),
        organization_id=dict(type="str"),
        account_id=dict(type="str"),
        deny_insecure_transport=dict(type="bool"),
        encryption=dict(type="str", choices=["AES256", "aws:kms"]),
        kms_key_id=dict(type="str", no_log=False),
        versioning=dict(type="bool"),
        public_access_block=dict(type="bool"),
        object_ownership=dict(type="str", choices=["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"]),
        lifecycle_transition_days=dict(type="int"),
        lifecycle_storage_class=dict(type="str", default="GLACIER", choices=["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE"]),
        lifecycle_expiration_days=dict(type="int"),
        delete=dict(type="bool", default=False),
        sid_suffix=dict(type="str", default=DEFAULT_SID_SUFFIX),
        encryption_downgrade=dict(type="bool", default=False),
        option_prefix=dict(type="str", default=""),
    )
    module = AnsibleAWSModule(argument_spec=with_hidden_access_key(argument_spec), supports_check_mode=True)
    exit_with(module, run)


if __name__ == "__main__":
    main()
