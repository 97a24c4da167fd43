"""Server-drawn SVG charts: escaped labels, proportional bars, a note when empty."""

from __future__ import annotations

import re
from collections import Counter

from app.web import charts


def heights(svg: str) -> list[float]:
    return [float(h) for h in re.findall(r'<rect class="bar" [^>]*height="([\d.]+)"', svg)]


def test_columns_are_proportional_to_values():
    svg = charts.columns([("a", 1), ("b", 2), ("c", None)], "t")
    first, second = heights(svg)
    assert second == 2 * first
    assert "c: " not in svg  # no bar for missing data


def test_labels_are_escaped():
    svg = charts.hbars([("<script>alert(1)</script>", 3)], "t & co")
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "t &amp; co" in svg


def test_stacked_bars_show_each_segment_and_a_total():
    svg = charts.stacked({"+1": Counter(verified=3, expired=1)}, ["verified", "expired"], "t")
    assert "+1 verified: 3" in svg and "+1 expired: 1" in svg
    assert ">4</text>" in svg


def test_empty_chart_says_so():
    assert "no data" in charts.hbars([], "t")
