"""``make bench``'s validate_logs part: our module against ``aws cloudtrail
validate-logs`` on the same bucket (``tests/tools/bench_validate_logs.py``
measures), judged against the targets and written to its own section of
docs/performance.md, between its own markers, so the other sections stay as
they are whichever part runs."""

from __future__ import annotations

import os
from typing import Any

BEGIN, END = "<!-- bench:validate_logs:begin -->", "<!-- bench:validate_logs:end -->"
# The section this one replaces, from before it had markers.
OLD_HEADING = "## validate_logs: 1,000 log files"
# Targets (issue 18): wall time against the AWS CLI's, by added S3 latency;
# peak memory at the largest size against the smallest.
RATIO_TARGETS = {0: 0.5, 30: 0.2}
MEMORY_TARGET = 2.0


def verdict(rows: list[dict[str, Any]]) -> list[str]:
    """One line per (size, latency) with a target, and one for memory."""
    lines = []
    for row in rows:
        target = RATIO_TARGETS.get(row["latency_ms"])
        if target is None:
            continue
        ratio = row["ratio"]
        status = "met" if ratio <= target else f"missed by {ratio / target:.2f}x"
        lines.append(f"validate_logs, {row['log_files']:,} log files, {row['latency_ms']} ms per S3 call: "
                     f"{ratio:.2f} x the AWS CLI's wall time (target at most {target:.2f}): {status}.")
    sizes = sorted({row["log_files"] for row in rows})
    if len(sizes) > 1:
        def peak(size: int) -> float:
            return max(row["ours"]["peak_mib"] for row in rows if row["log_files"] == size)

        growth = peak(sizes[-1]) / peak(sizes[0])
        status = "met" if growth <= MEMORY_TARGET else f"missed by {growth / MEMORY_TARGET:.2f}x"
        lines.append(f"validate_logs peak memory: {peak(sizes[-1]):.0f} MiB at {sizes[-1]:,} log files, {peak(sizes[0]):.0f} MiB at "
                     f"{sizes[0]:,}: {growth:.2f} x (target at most {MEMORY_TARGET:.0f} x): {status}.")
    return lines


def render(result: dict[str, Any]) -> str:
    rows = result["rows"]
    machine = result.get("machine", {})
    out = [BEGIN, "", "## validate_logs against the AWS CLI", "",
           f"Measured on {result.get('date', '?')} with `{result.get('command', 'make bench')}`. "
           "One trail with log file validation on, N log files of 20 events each delivered by the local AWS as CloudTrail "
           "does (a log file per five-minute flush, a digest per 12 flushes: hourly digests). On the same bucket and range, "
           "alternately (the first to go taking turns): `validate_logs` as Ansible runs it on localhost (a Python process "
           f"reading its arguments from a file; `max_concurrency` {result.get('max_concurrency') or 'at its default, 16'}) and "
           "`aws cloudtrail validate-logs` (the reference client, one object at a time). Both must find every digest and log "
           "file valid. The latency is the local AWS's latency rule on every S3 call (`tests/local_aws/fidelity/faults.py`). "
           "Calls are counted on the server; peak memory is each process's own peak resident set (`wait4`).", "",
           f"**The machine**: {machine.get('nproc', '?')} cores ({machine.get('cpu', '?')}), load average "
           f"{result.get('load') or str(result.get('load_at_start', '?')) + ' at the start, ' + str(result.get('load_at_end', '?')) + ' at the end'}. "
           "A load above the number of cores means other work shared the machine, and the seconds are inflated; the ratios, "
           "from runs taken alternately, are the figures to read.", "",
           "| log files | S3 latency | runs | validate_logs, s | AWS CLI, s | ratio | calls: ours / CLI | peak memory, MiB: ours / CLI |",
           "|---|---|---|---|---|---|---|---|"]

    def cell(side: dict[str, Any]) -> str:
        seconds = side["seconds"]
        return f"{seconds['median']:.1f} ({seconds['min']:.1f}-{seconds['max']:.1f})" if seconds["runs"] > 1 else f"{seconds['median']:.1f}"

    for row in rows:
        ours, cli = row["ours"], row["aws_cli"]
        out.append(f"| {row['log_files']:,} ({ours['digests']} digests) | {row['latency_ms']} ms | {ours['seconds']['runs']} "
                   f"| {cell(ours)} | {cell(cli)} | {row['ratio']:.2f} | {ours['calls']:,} / {cli['calls']:,} "
                   f"| {ours['peak_mib']:.0f} / {cli['peak_mib']:.0f} |")
    out += ["", "Verdict:", ""]
    out += [f"- {line}" for line in verdict(rows)]
    out.append("")
    for note in result.get("notes", []):
        out += [note, ""]
    out += ["Reproduce this section alone: `make bench BENCH_ARGS='--only validate_logs'` "
            "(sizes, latencies and runs: `--validate-logs-sizes 1000,10000 --validate-logs-latency-ms 0,30 "
            "--validate-logs-runs 3,1`); or `.venv/bin/python -m tests.tools.bench_validate_logs --help`.", "", END]
    return "\n".join(out) + "\n"


def write_section(doc: str, text: str) -> None:
    """Replace this part's section of ``doc`` (or the unmarked one it replaces); else add it at the end."""
    current = ""
    if os.path.exists(doc):
        with open(doc, encoding="utf-8") as handle:
            current = handle.read()
    if BEGIN in current and END in current:
        before, rest = current.split(BEGIN, 1)
        after = rest.split(END, 1)[1].lstrip("\n")
    elif OLD_HEADING in current:
        before, rest = current.split(OLD_HEADING, 1)
        following = rest.find("\n## ")
        after = rest[following + 1:] if following >= 0 else ""
    else:
        before, after = current, ""
    if before and not before.endswith("\n\n"):
        before = before.rstrip("\n") + "\n\n"
    with open(doc, "w", encoding="utf-8") as handle:
        handle.write(before + text + ("\n" + after if after else ""))
