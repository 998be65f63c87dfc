"""``make bench-scale`` on a tiny store: the table a user reads, and its corpus."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from bench.scale import Corpus, main

SHAPES = [
    "topic=",
    "topic=&since=",
    "entity=",
    "q=<common word>",
    "sort=relevance",
    "counts",
    "counts&since=",
    "counts?interval=day",
    "counts?interval=hour&since=",
    "20 pages (each)",
]


def test_the_corpus_is_varied_and_the_same_every_run() -> None:
    first, again = Corpus(), Corpus()
    articles = [first.article(i) for i in range(50)]
    assert articles[7] == again.article(7)
    assert len({a.body for a in articles}) == 50
    assert len({w for a in articles for w in a.body.split()}) > 500
    assert len({t.slug for a in articles for t in a.topics}) > 5
    assert all(a.entities and a.topics for a in articles)
    # Newer as N grows (30 s apart, up to 6 h early or late), so since= keeps one window.
    assert first.article(2_000).published_at > first.article(0).published_at


def test_bench_scale_prints_latency_at_three_sizes_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--n", "300", "--batch", "100", "--reps", "2", "--shape-seconds", "1"]
    main([*args, "--results", str(tmp_path)])
    out = capsys.readouterr().out
    assert "| query | 30 p50 / p95 | 150 p50 / p95 | 300 p50 / p95 | p50 last/first |" in out
    for shape in SHAPES:
        assert f"| {shape} | " in out
    assert "| 150 -> 300 |" in out and "| last / first |" in out
    (report_file,) = tmp_path.glob("scale-sqlite-*.json")
    report = orjson.loads(report_file.read_bytes())
    assert [size["stored"] for size in report["sizes"]] == [30, 150, 300]
    assert all(report["sizes"][-1]["latency_ms"][s]["p50"] > 0 for s in SHAPES)


def test_bench_scale_names_a_bad_n(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--n", "3"])
    assert "--n" in capsys.readouterr().err
