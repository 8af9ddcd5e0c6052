"""validate_logs against the reference client: for each way a bucket can be
tampered with (or a chain can legitimately break), ``aws cloudtrail
validate-logs`` and ``validate_logs`` read the same bucket on the same local
AWS and must reach the same verdict, and name the same objects as invalid.

The AWS CLI runs from its own virtual environment (``build/awscli-venv``, made
by the Makefile's ``$(AWSCLI_VENV)/.installed`` target, a prerequisite of
``make integration``). It validates one region per run (its ``--region``), so a
multi-region trail is validated region by region and the worst verdict counts.
"""

from __future__ import annotations

import dataclasses
import datetime
import gzip
import json
import os
import re
import subprocess
from typing import Callable

import pytest

from tests.conftest import REPO_ROOT
from tests.integration.setup_helpers import make_log_bucket
from tests.local_aws.fidelity.delivery import deliver, rotate_key
from tests.local_aws.fidelity.lookup_events import seed_events

AWS_CLI = os.path.join(REPO_ROOT, "build", "awscli-venv", "bin", "aws")
BUCKET = "cross-checked-logs"
TRAIL = "cross-checked"
ACCOUNT = "123456789012"
HOME = "us-east-1"
# What the CLI prints for each object it finds invalid, on stderr.
INVALID_LINE = re.compile(r"s3://[^/\s]+/(\S+)\tINVALID")
GAP_LINE = "No log files were delivered by CloudTrail between"

pytestmark = pytest.mark.skipif(not os.path.exists(AWS_CLI), reason="the AWS CLI venv is missing: make build/awscli-venv/.installed")


def _iso(value: datetime.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclasses.dataclass
class Delivered:
    """A trail's delivered history: the flushes (keys written) in order, and the range to validate."""

    start: datetime.datetime
    flushes: list[dict[str, list[str]]]
    end: datetime.datetime | None = None
    regions: tuple[str, ...] = (HOME,)

    def digests(self, region: str = HOME) -> list[str]:
        return [key for flush in self.flushes for key in flush["digests"] if f"/CloudTrail-Digest/{region}/" in key]

    def log_files(self, region: str = HOME) -> list[str]:
        return [key for flush in self.flushes for key in flush["log_files"] if f"/CloudTrail/{region}/" in key]


def make_trail(aws, *, prefix: str | None = None, multi_region: bool = False) -> None:
    make_log_bucket(aws, BUCKET, prefixes=(None, prefix) if prefix else (None,))
    params = {"Name": TRAIL, "S3BucketName": BUCKET, "EnableLogFileValidation": True, "IsMultiRegionTrail": multi_region}
    if prefix:
        params["S3KeyPrefix"] = prefix
    cloudtrail = aws.client("cloudtrail")
    cloudtrail.create_trail(**params)
    cloudtrail.start_logging(Name=TRAIL)


def hours_ago(hours: int) -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, second=0) - datetime.timedelta(hours=hours)


def deliver_hour(aws, at: datetime.datetime, region: str = HOME, **options) -> dict[str, list[str]]:
    """One hour's events, then one flush at ``at``."""
    seed_events(aws, [{"EventName": f"Call{at:%H%M}", "EventTime": _iso(at - datetime.timedelta(minutes=20))}], region=region)
    return deliver(aws, at=at, trail=TRAIL, **options)


def history(aws, hours: int = 4, **trail) -> Delivered:
    """A trail that delivered ``hours`` hourly digests, the last an hour ago."""
    make_trail(aws, **trail)
    start = hours_ago(hours + 1)
    return Delivered(start, [deliver_hour(aws, start + datetime.timedelta(hours=hour)) for hour in range(1, hours + 1)])


# -- tampering ------------------------------------------------------------


def s3(aws):
    return aws.client("s3")


def rewrite(aws, key: str, transform: Callable[[bytes], bytes], metadata: Callable[[dict], dict] = dict) -> None:
    """Put the object back with its uncompressed content changed, keeping (or changing) its metadata."""
    got = s3(aws).get_object(Bucket=BUCKET, Key=key)
    body = gzip.compress(transform(gzip.decompress(got["Body"].read())))
    s3(aws).put_object(Bucket=BUCKET, Key=key, Body=body, Metadata=metadata(got["Metadata"]))


def append(aws, key: str, data: bytes) -> None:
    got = s3(aws).get_object(Bucket=BUCKET, Key=key)
    s3(aws).put_object(Bucket=BUCKET, Key=key, Body=got["Body"].read() + data, Metadata=got["Metadata"])


def digest_of(aws, key: str) -> dict:
    return json.loads(gzip.decompress(s3(aws).get_object(Bucket=BUCKET, Key=key)["Body"].read()))


def delete(aws, key: str) -> None:
    s3(aws).delete_object(Bucket=BUCKET, Key=key)


def change_a_record(body: bytes) -> bytes:
    records = json.loads(body)
    records["Records"].append({"eventName": "Forged"})
    return json.dumps(records).encode()


def change_a_digest(body: bytes) -> bytes:
    digest = json.loads(body)
    digest["logFiles"] = []
    return json.dumps(digest).encode()


# -- the cases: each returns what it delivered and the keys it expects named invalid


def untouched(aws):
    return history(aws), set()


def prefix_trail(aws):
    return history(aws, prefix="audit/ct"), set()


def multi_region_other_region_modified(aws):
    make_trail(aws, multi_region=True)
    start = hours_ago(4)
    flushes = []
    for hour in (1, 2, 3):
        at = start + datetime.timedelta(hours=hour)
        seed_events(aws, [{"EventName": f"Elsewhere{hour}", "EventTime": _iso(at - datetime.timedelta(minutes=20))}], region="eu-west-1")
        flushes.append(deliver_hour(aws, at))
    delivered = Delivered(start, flushes, regions=("eu-west-1", HOME))
    assert delivered.digests("eu-west-1") and delivered.digests(HOME)
    key = delivered.log_files("eu-west-1")[1]
    rewrite(aws, key, change_a_record)
    return delivered, {key}


def log_file_modified(aws):
    delivered = history(aws)
    key = delivered.log_files()[1]
    rewrite(aws, key, change_a_record)
    return delivered, {key}


def log_file_deleted(aws):
    delivered = history(aws)
    key = delivered.log_files()[2]
    delete(aws, key)
    return delivered, {key}


def digest_modified(position: int):
    def case(aws):
        delivered = history(aws)
        key = delivered.digests()[position]
        rewrite(aws, key, change_a_digest)
        return delivered, {key}

    return case


def digest_deleted(position: int):
    def case(aws):
        delivered = history(aws)
        key = delivered.digests()[position]
        delete(aws, key)
        # Nothing links to the newest digest yet: neither client can see it is gone.
        return delivered, set() if position == -1 else {key}

    return case


def digest_resigned_with_another_key(aws):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from tests.local_aws.fidelity.delivery import signing_string

    delivered = history(aws)
    key = delivered.digests()[1]
    got = s3(aws).get_object(Bucket=BUCKET, Key=key)
    raw = got["Body"].read()
    body = gzip.decompress(raw)
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = forger.sign(signing_string(json.loads(body), body), padding.PKCS1v15(), hashes.SHA256()).hex()
    s3(aws).put_object(Bucket=BUCKET, Key=key, Body=raw, Metadata=dict(got["Metadata"], signature=forged))
    return delivered, {key}


def junk_appended_to_a_log_file(aws):
    delivered = history(aws)
    key = delivered.log_files()[0]
    append(aws, key, b"junk")
    return delivered, {key}


def key_rotated_mid_range(aws):
    make_trail(aws)
    start = hours_ago(5)
    rotate_key(aws, HOME, start + datetime.timedelta(hours=2, minutes=30))
    delivered = Delivered(start, [deliver_hour(aws, start + datetime.timedelta(hours=hour)) for hour in range(1, 5)])
    fingerprints = {digest_of(aws, key)["digestPublicKeyFingerprint"] for key in delivered.digests()}
    assert len(fingerprints) == 2
    return delivered, set()


# The eight disagreements of issue 14.


def backfill_lists_a_modified_log_file(aws):
    make_trail(aws)
    start = hours_ago(5)
    flushes = [deliver_hour(aws, start + datetime.timedelta(hours=hour)) for hour in (1, 2)]
    flushes.append(deliver_hour(aws, start + datetime.timedelta(hours=2, minutes=30), backfill=True))
    flushes += [deliver_hour(aws, start + datetime.timedelta(hours=hour)) for hour in (3, 4)]
    (backfilled,) = flushes[2]["log_files"]
    assert flushes[2]["digests"][0].endswith("_backfill.json.gz")
    rewrite(aws, backfilled, change_a_record)
    return Delivered(start, flushes), {backfilled}


def log_file_of_the_hour_after_end_time_modified(aws):
    delivered = history(aws)
    # The range ends just after the third digest; the log files of its last hour are listed in the fourth.
    third_end = delivered.start + datetime.timedelta(hours=3)
    delivered.end = third_end + datetime.timedelta(minutes=5)
    key = delivered.flushes[3]["log_files"][0]
    rewrite(aws, key, change_a_record)
    return delivered, {key}


def chain_restarted_by_stop_and_start_logging(aws):
    make_trail(aws)
    start = hours_ago(5)
    flushes = [deliver_hour(aws, start + datetime.timedelta(hours=hour)) for hour in (1, 2)]
    aws.client("cloudtrail").stop_logging(Name=TRAIL)
    aws.client("cloudtrail").start_logging(Name=TRAIL)
    flushes += [deliver_hour(aws, start + datetime.timedelta(hours=hour)) for hour in (3, 4)]
    return Delivered(start, flushes), set()


def chain_restarted_by_validation_off_and_on(aws):
    make_trail(aws)
    start = hours_ago(5)
    cloudtrail = aws.client("cloudtrail")
    flushes = [deliver_hour(aws, start + datetime.timedelta(hours=hour)) for hour in (1, 2)]
    cloudtrail.update_trail(Name=TRAIL, EnableLogFileValidation=False)
    flushes.append(deliver_hour(aws, start + datetime.timedelta(hours=3)))
    cloudtrail.update_trail(Name=TRAIL, EnableLogFileValidation=True)
    flushes.append(deliver_hour(aws, start + datetime.timedelta(hours=4)))
    return Delivered(start, flushes), set()


def empty_gzip_member_appended_to_a_log_file(aws):
    delivered = history(aws)
    key = delivered.log_files()[1]
    append(aws, key, gzip.compress(b""))
    return delivered, {key}


def digest_without_signature_algorithm(aws):
    delivered = history(aws)
    key = delivered.digests()[1]
    rewrite(aws, key, lambda body: body, lambda metadata: {name: value for name, value in metadata.items() if name != "signature-algorithm"})
    return delivered, {key}


def one_digest_moved(aws):
    delivered = history(aws)
    moved = delivered.digests()[1]
    # Renamed to a later time of the same trail, so it is listed after the newest digest.
    folder, _year, _month, _day, name = moved.rsplit("/", 4)
    now = hours_ago(0)
    later = f"{folder}/{now:%Y/%m/%d}/{name.rsplit('_', 1)[0]}_{now:%Y%m%dT%H%M%SZ}.json.gz"
    s3(aws).copy_object(Bucket=BUCKET, Key=later, CopySource={"Bucket": BUCKET, "Key": moved}, MetadataDirective="COPY")
    delete(aws, moved)
    return delivered, {moved, later}


def empty_previous_signature(aws):
    make_trail(aws)
    start = hours_ago(5)
    flushes = [deliver_hour(aws, start + datetime.timedelta(hours=1), chain_start_signature="")]
    flushes += [deliver_hour(aws, start + datetime.timedelta(hours=hour)) for hour in (2, 3)]
    assert digest_of(aws, flushes[0]["digests"][0])["previousDigestSignature"] == ""
    return Delivered(start, flushes), set()


CASES = {
    "untouched chain": untouched,
    "prefix trail": prefix_trail,
    "multi-region trail, a log file of another region modified": multi_region_other_region_modified,
    "log file modified": log_file_modified,
    "log file deleted": log_file_deleted,
    "oldest digest modified": digest_modified(0),
    "middle digest modified": digest_modified(1),
    "newest digest modified": digest_modified(-1),
    "oldest digest deleted": digest_deleted(0),
    "middle digest deleted": digest_deleted(1),
    "newest digest deleted": digest_deleted(-1),
    "digest re-signed with another key": digest_resigned_with_another_key,
    "junk appended to a log file": junk_appended_to_a_log_file,
    "key rotated mid-range": key_rotated_mid_range,
    "backfill digest lists a modified log file": backfill_lists_a_modified_log_file,
    "log file of the hour after end_time modified": log_file_of_the_hour_after_end_time_modified,
    "chain restarted by StopLogging and StartLogging": chain_restarted_by_stop_and_start_logging,
    "chain restarted by validation off and on": chain_restarted_by_validation_off_and_on,
    "empty gzip member appended to a log file": empty_gzip_member_appended_to_a_log_file,
    "digest without signature-algorithm metadata": digest_without_signature_algorithm,
    "one digest moved": one_digest_moved,
    "previousDigestSignature empty": empty_previous_signature,
}


# -- the two clients ------------------------------------------------------


@dataclasses.dataclass
class Verdict:
    verdict: str
    invalid: set[str]
    gaps: int
    output: str


def cli_validate(aws, delivered: Delivered) -> Verdict:
    """``aws cloudtrail validate-logs`` for each region; the endpoint, credentials and CA from the local AWS's env."""
    trail_arn = f"arn:aws:cloudtrail:{HOME}:{ACCOUNT}:trail/{TRAIL}"
    verdicts, invalid, gaps, output = [], set(), 0, []
    for region in delivered.regions:
        env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        # The CLI's --endpoint-url reaches only its CloudTrail client; its S3 clients take AWS_ENDPOINT_URL.
        env.update(aws.env(region))
        command = [AWS_CLI, "cloudtrail", "validate-logs", "--trail-arn", trail_arn, "--start-time", _iso(delivered.start), "--region", region]
        command += ["--endpoint-url", aws.endpoint]
        if delivered.end:
            command += ["--end-time", _iso(delivered.end)]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
        text = f"$ {' '.join(command)}\n{done.stdout}{done.stderr}"
        assert done.returncode in (0, 1), text
        assert "No digests found" not in done.stdout, text
        verdicts.append("valid" if done.returncode == 0 else "invalid")
        invalid |= set(INVALID_LINE.findall(done.stderr))
        gaps += done.stderr.count(GAP_LINE)
        output.append(text)
    return Verdict("invalid" if "invalid" in verdicts else "valid", invalid, gaps, "\n".join(output))


def module_validate(run_module, delivered: Delivered) -> Verdict:
    params = {"trail_name": TRAIL, "start_time": _iso(delivered.start), "fail_on_invalid": False}
    if delivered.end:
        params["end_time"] = _iso(delivered.end)
    result = run_module("validate_logs", params)
    assert result["verdict"] in ("valid", "invalid"), result
    return Verdict(result["verdict"], {failure["s3_key"] for failure in result["failures"]}, result["summary"]["chain_gaps"], json.dumps(result, indent=1))


@pytest.mark.parametrize("case", list(CASES))
def test_same_verdict_as_the_aws_cli(aws, run_module, case):
    delivered, expected_invalid = CASES[case](aws)

    cli = cli_validate(aws, delivered)
    module = module_validate(run_module, delivered)

    assert cli.invalid == expected_invalid, cli.output
    assert (module.verdict, module.invalid) == (cli.verdict, cli.invalid), f"CLI:\n{cli.output}\n\nmodule:\n{module.output}"
    assert cli.verdict == ("invalid" if expected_invalid else "valid")
    assert module.gaps == cli.gaps, f"CLI:\n{cli.output}\n\nmodule:\n{module.output}"
