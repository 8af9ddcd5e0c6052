"""The bench's validate_logs part: how it judges the targets and which part of
docs/performance.md it rewrites."""

from __future__ import annotations

import pytest

from bench import validate_logs as part


def _row(files: int, latency: int, ratio: float, peak: float) -> dict:
    side = {"seconds": {"median": 1.0, "min": 1.0, "max": 1.0, "runs": 1}, "calls": 10, "peak_mib": peak, "digests": 1}
    return {"log_files": files, "latency_ms": latency, "ratio": ratio, "ours": side, "aws_cli": dict(side, peak_mib=100.0)}


def test_verdict_judges_each_size_and_latency_and_memory():
    lines = part.verdict([_row(1000, 0, 0.4, 60.0), _row(1000, 30, 0.25, 61.0), _row(10000, 0, 0.5, 70.0), _row(10000, 30, 0.1, 150.0)])
    assert lines[0].endswith("0.40 x the AWS CLI's wall time (target at most 0.50): met.")
    assert lines[1].endswith("0.25 x the AWS CLI's wall time (target at most 0.20): missed by 1.25x.")
    assert lines[2].endswith("(target at most 0.50): met.")
    assert lines[3].endswith("(target at most 0.20): met.")
    # 150 MiB at 10,000 against 61 at 1,000: 2.46 x.
    assert lines[4] == ("validate_logs peak memory: 150 MiB at 10,000 log files, 61 MiB at 1,000: 2.46 x (target at most 2 x): missed by 1.23x.")


def test_a_latency_without_a_target_is_shown_but_not_judged():
    assert part.verdict([_row(1000, 100, 0.05, 60.0)]) == []


def test_render_has_a_row_per_size_and_latency_between_the_markers():
    text = part.render({"rows": [_row(1000, 0, 0.4, 60.0), _row(1000, 30, 0.1, 61.0)], "machine": {"nproc": "2"}, "load": "3.5 2.0 1.0"})
    assert text.startswith(part.BEGIN) and text.rstrip().endswith(part.END)
    assert "| 1,000 (1 digests) | 0 ms | 1 | 1.0 | 1.0 | 0.40 | 10 / 10 | 60 / 100 |" in text
    assert "| 1,000 (1 digests) | 30 ms |" in text
    # The load it was measured under, read against the number of cores.
    assert "**The machine**: 2 cores" in text and "load average 3.5 2.0 1.0." in text


@pytest.mark.parametrize(
    "before, expected",
    [
        # No file: the section alone.
        (None, "NEW\n"),
        # Ours already there: replaced, the rest kept.
        (f"<!-- bench:begin -->\nMAIN\n<!-- bench:end -->\n\n{part.BEGIN}\nOLD\n{part.END}\n\n## Other\nx\n",
         "<!-- bench:begin -->\nMAIN\n<!-- bench:end -->\n\nNEW\n\n## Other\nx\n"),
        # The unmarked section from before is replaced, up to the next section.
        ("<!-- bench:end -->\n\n## validate_logs: 1,000 log files\n\nold table\n\n## Other\nx\n", "<!-- bench:end -->\n\nNEW\n\n## Other\nx\n"),
        ("<!-- bench:end -->\n\n## validate_logs: 1,000 log files\n\nold table\n", "<!-- bench:end -->\n\nNEW\n"),
        # Neither: added at the end.
        ("# Performance\n", "# Performance\n\nNEW\n"),
    ],
)
def test_write_section_replaces_only_its_own(tmp_path, before, expected):
    doc = tmp_path / "performance.md"
    if before is not None:
        doc.write_text(before, encoding="utf-8")
    part.write_section(str(doc), "NEW\n")
    assert doc.read_text(encoding="utf-8") == expected
