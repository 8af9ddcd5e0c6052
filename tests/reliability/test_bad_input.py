"""The bad-input matrix: every module, the event_history lookup and every role.
Each case must fail with a message that names what is wrong (the parameter or
variable, and the rule where the message states one), and the server must
receive no write call.

The module cases run in one Python process (``module_batch.py``). The roles' and the lookup's
cases run in ONE ansible-playbook run, one play per case, each case in a block
whose rescue saves the failure, so Ansible's start-up is paid once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from tests.conftest import REPO_ROOT
from tests.integration.conftest import _env
from tests.local_aws.server import ACCOUNT_ID, REGION

TRAIL = {"name": "bad-input-trail", "s3_bucket_name": "bad-input-logs"}
BUCKET = {"bucket": "bad-input-logs", "trails": ["bad-input-trail"]}
SELECTORS = {"trail_name": "bad-input-trail"}
GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:CloudTrail/x:*"

# (case id, module, parameters, fragments that must all be in the message)
MODULE_CASES = [
    ("trail name too short", "trail", dict(TRAIL, name="ab"), ["name", "3 to 128"]),
    ("trail name with adjacent punctuation", "trail", dict(TRAIL, name="my-_trail"), ["name", "punctuation"]),
    ("trail name is an IP address", "trail", dict(TRAIL, name="10.0.0.1"), ["name", "IP address"]),
    ("trail state unknown", "trail", dict(TRAIL, state="paused"), ["state", "present"]),
    (
        "trail multi-region without global events",
        "trail",
        dict(TRAIL, is_multi_region_trail=True, include_global_service_events=False),
        ["include_global_service_events"],
    ),
    ("trail prefix too long", "trail", dict(TRAIL, s3_key_prefix="p" * 201), ["s3_key_prefix", "200"]),
    ("trail invalid bucket name", "trail", dict(TRAIL, s3_bucket_name="Not_A_Bucket"), ["s3_bucket_name"]),
    ("trail log group without role", "trail", dict(TRAIL, cloudwatch_logs_log_group_arn=GROUP_ARN), ["cloudwatch_logs_role_arn"]),
    ("trail KMS key that is no id", "trail", dict(TRAIL, kms_key_id="my-key"), ["kms_key_id"]),
    ("trail malformed SNS ARN", "trail", dict(TRAIL, sns_topic_name="arn:aws:sqs:us-east-1:123456789012:q"), ["sns_topic_name"]),
    ("trail tags not a dict", "trail", dict(TRAIL, tags=["a", "b"]), ["tags"]),
    ("trail bucket that does not exist", "trail", TRAIL, ["s3_bucket_name", "does not exist"]),
    ("trail_info shadow trails not a bool", "trail_info", {"include_shadow_trails": "sometimes"}, ["include_shadow_trails"]),
    ("trail_info unknown option", "trail_info", {"trail_name": "x"}, ["trail_name"]),
    ("bucket_policy bad bucket name", "bucket_policy", dict(BUCKET, bucket="Bad_Bucket"), ["bucket"]),
    ("bucket_policy no trails", "bucket_policy", dict(BUCKET, trails=[]), ["trails"]),
    ("bucket_policy bad trail name", "bucket_policy", dict(BUCKET, trails=["my..trail"]), ["trails"]),
    ("bucket_policy short account id", "bucket_policy", dict(BUCKET, account_id="1234"), ["account_id"]),
    ("bucket_policy bad organization id", "bucket_policy", dict(BUCKET, organization_id="abc"), ["organization_id"]),
    ("bucket_policy prefix with a leading slash", "bucket_policy", dict(BUCKET, s3_key_prefix="/logs"), ["s3_key_prefix"]),
    ("bucket_policy bucket missing", "bucket_policy", dict(BUCKET, bucket="no-such-bucket"), ["bucket", "no-such-bucket"]),
    (
        "event_selectors both kinds",
        "event_selectors",
        dict(SELECTORS, event_selectors=[{}], advanced_event_selectors=[{"field_selectors": [{"field": "eventCategory", "equals": ["Management"]}]}]),
        ["event_selectors"],
    ),
    ("event_selectors six basic selectors", "event_selectors", dict(SELECTORS, event_selectors=[{}] * 6), ["event_selectors", "at most 5"]),
    ("event_selectors unknown preset", "event_selectors", dict(SELECTORS, preset="everything"), ["preset"]),
    ("event_selectors unknown insight type", "event_selectors", dict(SELECTORS, insight_selectors=[{"insight_type": "ApiLatencyInsight"}]), ["insight_type"]),
    ("event_selectors bad trail name", "event_selectors", dict(SELECTORS, trail_name="my..trail", event_selectors=[{}]), ["trail_name"]),
    ("event_selectors missing trail", "event_selectors", dict(SELECTORS, event_selectors=[{}]), ["trail_name", "bad-input-trail"]),
    ("validate_logs start_time not a time", "validate_logs", {"trail_name": "audited", "start_time": "yesterday"}, ["start_time"]),
    (
        "validate_logs end before start",
        "validate_logs",
        {"trail_name": "audited", "start_time": "2024-01-02T00:00:00Z", "end_time": "2024-01-01T00:00:00Z"},
        ["start_time"],
    ),
    ("validate_logs bad trail name", "validate_logs", {"trail_name": "a..b", "start_time": "2024-01-01T00:00:00Z"}, ["trail_name"]),
    (
        "validate_logs short account id",
        "validate_logs",
        {"trail_name": "audited", "start_time": "2024-01-01T00:00:00Z", "account_ids": ["12345"]},
        ["account_ids"],
    ),
    (
        "validate_logs pool of none",
        "validate_logs",
        {"trail_name": "audited", "start_time": "2024-01-01T00:00:00Z", "max_concurrency": 0},
        ["max_concurrency", "1 to 64"],
    ),
    ("validate_logs missing trail", "validate_logs", {"trail_name": "audited", "start_time": "2024-01-01T00:00:00Z"}, ["trail_name", "audited"]),
    (
        "event_selectors unknown resource type",
        "event_selectors",
        dict(SELECTORS, event_selectors=[{"data_resources": [{"type": "AWS::S3::Bucket", "values": ["arn:aws:s3"]}]}]),
        ["data_resources[0].type"],
    ),
]

# (case id, lookup options, fragments)
LOOKUP_CASES = [
    ("lookup two attributes", {"lookup_attribute": {"EventName": "CreateTrail", "Username": "alice"}}, ["lookup_attribute"]),
    ("lookup unknown attribute", {"lookup_attribute": {"Region": "us-east-1"}}, ["lookup_attribute"]),
    ("lookup max_events zero", {"max_events": 0}, ["max_events"]),
    ("lookup start_time not a time", {"start_time": "yesterday"}, ["start_time"]),
    ("lookup start after end", {"start_time": "-1h", "end_time": "-2h"}, ["start_time", "end_time"]),
    ("lookup misspelt region", {"regions": ["us-east-1", "us-esat-1"]}, ["regions"]),
    ("lookup unknown category", {"event_category": "data"}, ["event_category"]),
]

# (case id, role, variables, fragments)
ROLE_CASES = [
    ("trail role without a name", "trail", {}, ["trail_name"]),
    ("trail role multi-region not a bool", "trail", {"trail_name": "t-one", "trail_is_multi_region_trail": "sometimes"}, ["trail_is_multi_region_trail"]),
    ("trail role unknown preset", "trail", {"trail_name": "t-one", "trail_event_selectors_preset": "everything"}, ["trail_event_selectors_preset"]),
    ("trail role tags not a dict", "trail", {"trail_name": "t-one", "trail_tags": ["a"]}, ["trail_tags"]),
    ("trail role unknown variable", "trail", {"trail_name": "t-one", "trail_kms_key_creat": True}, ["trail_kms_key_creat", "nothing was written"]),
    (
        "trail role key created and given",
        "trail",
        {"trail_name": "t-one", "trail_kms_key_create": True, "trail_kms_key_id": "alias/given"},
        ["trail_kms_key_create", "trail_kms_key_id"],
    ),
    (
        "trail role CIS alarms without a log group",
        "trail",
        {"trail_name": "t-one", "trail_cloudwatch_alarms_cis": True},
        ["trail_cloudwatch_alarms_cis", "trail_cloudwatch_logs_create"],
    ),
    (
        "trail role unknown CIS control",
        "trail",
        {"trail_name": "t-one", "trail_cloudwatch_logs_create": True, "trail_cloudwatch_alarms_cis": True, "trail_cloudwatch_alarms_cis_controls": ["4.99"]},
        ["trail_cloudwatch_alarms_cis_controls", "4.99"],
    ),
    (
        "trail role existing bucket without name",
        "trail",
        {"trail_name": "t-one", "trail_s3_bucket_existing": True},
        ["trail_s3_bucket_existing", "trail_s3_bucket_name"],
    ),
    (
        "trail role log group without role",
        "trail",
        {"trail_name": "t-one", "trail_cloudwatch_logs_log_group_arn": GROUP_ARN},
        ["trail_cloudwatch_logs_role_arn"],
    ),
    ("log_bucket role without a name", "log_bucket", {}, ["log_bucket_name"]),
    ("log_bucket role unknown encryption", "log_bucket", {"log_bucket_name": "b-one", "log_bucket_encryption": "DES"}, ["log_bucket_encryption"]),
    (
        "log_bucket role key with AES256",
        "log_bucket",
        {"log_bucket_name": "b-one", "log_bucket_trails": ["t-one"], "log_bucket_encryption": "AES256", "log_bucket_kms_key_id": "k"},
        ["log_bucket_kms_key_id", "log_bucket_encryption"],
    ),
    ("event_selectors role without trails", "event_selectors", {}, ["event_selectors_trails"]),
    ("event_selectors role nothing to apply", "event_selectors", {"event_selectors_trails": ["t-one"]}, ["nothing to apply"]),
    (
        "event_selectors role both kinds",
        "event_selectors",
        {"event_selectors_trails": ["t-one"], "event_selectors_basic": [{}], "event_selectors_advanced": [{}]},
        ["event_selectors_basic", "event_selectors_advanced"],
    ),
]


# (case id, inventory options, fragments)
INVENTORY_CASES = [
    ("inventory role_arn_template without account_id", {"role_arn_template": "arn:aws:iam::123456789012:role/Audit"}, ["role_arn_template", "{account_id}"]),
    ("inventory unknown status", {"statuses": ["SLEEPING"]}, ["statuses", "SLEEPING"]),
    ("inventory bad OU id", {"organizational_units": ["prod"]}, ["organizational_units", "prod"]),
    ("inventory short static account id", {"accounts": [{"id": "1234"}]}, ["accounts[0].id", "12 digits"]),
    ("inventory static account without id", {"accounts": [{"name": "x"}]}, ["accounts[0]", "no id"]),
    ("inventory unknown option", {"regionz": ["us-east-1"]}, ["regionz"]),
]


def writes(calls) -> list:
    return [(c.service, c.action) for c in calls if c.is_write]


def run_inventory(aws, sources: list[str]) -> subprocess.CompletedProcess:
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "--list"]
    for source in sources:
        command += ["-i", source]
    env = _env(aws, REGION, {"ANSIBLE_INVENTORY_ENABLED": "trailops.cloudtrail.accounts", "ANSIBLE_NOCOLOR": "1"})
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)


def test_the_matrix_has_at_least_40_cases():
    assert len(MODULE_CASES) + len(LOOKUP_CASES) + len(ROLE_CASES) + len(INVENTORY_CASES) >= 40
    covered = {case[1] for case in MODULE_CASES} | {case[1] for case in ROLE_CASES}
    assert {"trail", "trail_info", "bucket_policy", "event_selectors", "validate_logs", "log_bucket"} <= covered


def test_module_bad_input(aws):
    """All module cases in one process (tests/reliability/module_batch.py)."""
    aws.start_recording()
    proc = subprocess.run(
        [sys.executable, "-m", "tests.reliability.module_batch"],
        input=json.dumps([{"module": module, "params": params} for _case_id, module, params, _fragments in MODULE_CASES]),
        capture_output=True,
        text=True,
        env=_env(aws, REGION, None),
        cwd=REPO_ROOT,
        timeout=300,
        check=False,
    )
    calls = aws.stop_recording()
    assert proc.returncode == 0, proc.stderr
    assert writes(calls) == []
    results = json.loads(proc.stdout)
    unclear = []
    for (case_id, _module, _params, fragments), result in zip(MODULE_CASES, results):
        message = result.get("msg", "")
        if result.get("failed") is not True or not all(fragment in message for fragment in fragments) or "Traceback" in result.get("stderr", ""):
            unclear.append((case_id, fragments, result.get("failed"), message))
    assert len(results) == len(MODULE_CASES)
    assert unclear == []


def _play(case_id: str, variables: dict, task: dict) -> dict:
    return {
        "name": case_id,
        "hosts": "localhost",
        "gather_facts": False,
        "vars": variables,
        "tasks": [
            {
                "block": [task],
                "rescue": [
                    {
                        "ansible.builtin.copy": {
                            "content": "{{ ansible_failed_result | to_json }}",
                            "dest": "{{ outcome_dir }}/" + str(len(case_id)) + "-" + case_id.replace(" ", "_") + ".json",
                            "mode": "0600",
                        }
                    }
                ],
            }
        ],
    }


def test_roles_and_lookup_bad_input(aws, run_playbook, tmp_path):
    lookup_task = {"ansible.builtin.set_fact": {"events": "{{ lookup('trailops.cloudtrail.event_history', **lookup_options) }}"}}
    plays = [_play(case[0], {"lookup_options": case[1]}, lookup_task) for case in LOOKUP_CASES]
    plays += [_play(case[0], case[2], {"ansible.builtin.include_role": {"name": f"trailops.cloudtrail.{case[1]}"}}) for case in ROLE_CASES]
    playbook = tmp_path / "bad_input.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    outcomes = tmp_path / "outcomes"
    outcomes.mkdir()

    aws.start_recording()
    result = run_playbook(str(playbook), {"outcome_dir": str(outcomes)})
    calls = aws.stop_recording()
    assert result.returncode == 0, result.stdout + result.stderr
    assert writes(calls) == []

    missing, unclear = [], []
    for case_id, *_rest, fragments in LOOKUP_CASES + ROLE_CASES:
        path = outcomes / (str(len(case_id)) + "-" + case_id.replace(" ", "_") + ".json")
        if not os.path.exists(path):
            missing.append(case_id)
            continue
        # The whole failed result: an assert over a loop keeps its message per item.
        message = path.read_text()
        if not all(fragment in message for fragment in fragments) or "Traceback" in message:
            unclear.append((case_id, fragments, message))
    assert missing == [], f"these cases did not fail: {missing}"
    assert unclear == []


def test_inventory_bad_input(aws, tmp_path):
    """Every bad inventory source in one ansible-inventory run: each fails alone, with a warning naming the option."""
    sources = []
    for number, (_case_id, options, _fragments) in enumerate(INVENTORY_CASES):
        path = tmp_path / f"case{number}.accounts.yml"
        path.write_text(yaml.safe_dump(dict({"plugin": "trailops.cloudtrail.accounts"}, **options)))
        sources.append(str(path))
    aws.start_recording()
    proc = run_inventory(aws, sources)
    calls = aws.stop_recording()
    assert writes(calls) == []
    assert "Traceback" not in proc.stderr
    # A warning per source that failed, naming the source; Ansible may wrap long warnings.
    warnings = [w for w in " ".join(proc.stderr.split()).split("[WARNING]:") if w.strip().startswith("Failed to parse inventory")]
    unclear = []
    for path, (case_id, _options, fragments) in zip(sources, INVENTORY_CASES):
        found = [w for w in warnings if f"accounts inventory {path}: " in w]
        if not found or not all(fragment in found[0] for fragment in fragments):
            unclear.append((case_id, fragments, found))
    assert unclear == [], proc.stderr
