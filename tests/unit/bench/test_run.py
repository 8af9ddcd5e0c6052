"""The bench's report: what it keeps of docs/performance.md and how it judges the targets."""

from __future__ import annotations

import pytest

from bench import run


def _spread(median: float) -> dict:
    return {"median": median, "min": median, "max": median, "runs": 1, "samples": [median]}


def _report(ours: float, theirs: float, share: float) -> dict:
    entry = {"ours no change": _spread(ours), "amazon.aws no change": _spread(theirs),
             "ours drift check": _spread(ours), "amazon.aws drift check": _spread(theirs),
             "ours create": ours * 2, "amazon.aws create": theirs * 2}
    return {
        "fleet": {"sizes": {"1": entry, "50": entry}},
        "history": [{"regions": 1, "events_per_second": 100 * share, "share": share, "ceiling": 100}],
    }


@pytest.mark.parametrize(
    "ours, theirs, share, fleet_word, history_word",
    [
        (5.0, 20.0, 0.9, "met", "met"),
        (6.0, 10.0, 0.89, "missed by 2.0x", "missed"),
        (9.0, 10.0, 1.0, "missed by 3.0x", "met"),
    ],
)
def test_verdict_judges_the_largest_fleet_and_each_history_run(ours, theirs, share, fleet_word, history_word):
    """No change and drift check at most 0.3 of theirs; the first run at most 0.7."""
    lines = run.verdict(_report(ours, theirs, share))
    assert len(lines) == 4
    assert all("N = 50" in line and line.endswith(fleet_word + (f" (ratio {ours / theirs:.2f})." if fleet_word != "met" else "."))
               for line in lines[:2]), lines
    assert "create" in lines[2] and "target at most 0.70" in lines[2]
    assert lines[2].endswith("met.") == (ours / theirs <= 0.7), lines[2]
    assert lines[3].endswith(f": {history_word}."), lines


@pytest.mark.parametrize(
    "before, expected",
    [
        # A new file is our section alone.
        (None, "NEW\n"),
        # A file without our markers (someone else's section) is kept after ours.
        ("## Log validation\nfigures\n", "NEW\n\n## Log validation\nfigures\n"),
        # Our old section is replaced; what others wrote before and after it stays.
        (f"intro\n{run.BEGIN}\nOLD\n{run.END}\n\n## Log validation\nfigures\n", "intro\nNEW\n\n## Log validation\nfigures\n"),
        (f"{run.BEGIN}\nOLD\n{run.END}\n", "NEW\n"),
    ],
)
def test_write_doc_replaces_only_its_own_section(tmp_path, monkeypatch, before, expected):
    doc = tmp_path / "performance.md"
    if before is not None:
        doc.write_text(before, encoding="utf-8")
    monkeypatch.setattr(run, "DOC", str(doc))
    run.write_doc("NEW\n")
    assert doc.read_text(encoding="utf-8") == expected


def test_spread_gives_median_and_range():
    assert run.spread([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "runs": 3, "samples": [3.0, 1.0, 2.0]}
