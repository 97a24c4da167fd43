"""Charts as inline SVG, drawn on the server: no script, no external resource.

Each function returns SVG markup sized by a viewBox (it scales with the page); colours come
from classes styled in static/admin.css. Every bar carries a <title>, which browsers show
on hover. Labels are escaped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = 8
# Words that keep one colour wherever they appear (c0 green ... c7 grey, see admin.css).
SEMANTIC = {
    "verified": 0, "matched": 0, "pending": 1, "expired": 2, "failed": 3,
    "wrong_sender": 3, "cancelled": 7, "no_code": 4, "unknown_code": 5, "duplicate": 7,
}  # fmt: skip


def colour(name: str, index: int) -> str:
    """Return the colour class of a series: fixed for known words, else by position."""
    return f"c{SEMANTIC.get(name, index % PALETTE)}"


def columns(
    values: Sequence[tuple[str, float | None]],
    title: str,
    *,
    percent: bool = False,
    label_every: int = 1,
    width: int = 720,
    height: int = 200,
) -> Markup:
    """Vertical bars, one per (label, value); None leaves a gap (no data)."""
    left, bottom, top = 40, 24, 10
    plot_w, plot_h = width - left - 6, height - bottom - top
    peak = 1.0 if percent else max([v or 0 for _, v in values] + [1])
    slot = plot_w / max(len(values), 1)
    parts = [_open(width, height, title), _axis(left, top, plot_w, plot_h, peak, percent)]
    for i, (label, value) in enumerate(values):
        x = left + i * slot
        if value is not None:
            h = plot_h * (value / peak)
            shown = f"{value:.0%}" if percent else f"{value:g}"
            parts.append(
                f'<rect class="bar" x="{x + slot * 0.12:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{slot * 0.76:.1f}" height="{h:.1f}">'
                f"<title>{escape(label)}: {shown}</title></rect>"
            )
        if i % label_every == 0:
            parts.append(
                f'<text class="tick" x="{x + slot / 2:.1f}" y="{height - 8}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return _svg(parts)


def hbars(items: Sequence[tuple[str, int]], title: str, *, width: int = 520) -> Markup:
    """Horizontal bars, one row per (label, count), longest first as given."""
    if not items:
        return _empty(title, width)
    row, label_w = 24, 170
    height = row * len(items) + 8
    peak = max(c for _, c in items) or 1
    plot_w = width - label_w - 60
    parts = [_open(width, height, title)]
    for i, (label, count) in enumerate(items):
        y = 4 + i * row
        w = plot_w * count / peak
        parts.append(
            f'<text class="label" x="{label_w - 8}" y="{y + 16}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect class="bar {colour(label, i)}" x="{label_w}" y="{y + 3}" width="{w:.1f}" '
            f'height="{row - 8}"><title>{escape(label)}: {count}</title></rect>'
            f'<text class="value" x="{label_w + w + 6:.1f}" y="{y + 16}">{count}</text>'
        )
    return _svg(parts)


def stacked(
    groups: dict[str, Counter[str]], segments: Sequence[str], title: str, *, width: int = 720
) -> Markup:
    """One horizontal bar per group, split by segment (in `segments` order), with a legend."""
    if not groups:
        return _empty(title, width)
    row, label_w, legend_h = 26, 150, 26
    height = legend_h + row * len(groups) + 4
    plot_w = width - label_w - 60
    peak = max(sum(c.values()) for c in groups.values()) or 1
    present = {name for counts in groups.values() for name, n in counts.items() if n}
    segments = [s for s in segments if s in present]
    parts = [_open(width, height, title), _legend(segments, label_w)]
    for i, (name, counts) in enumerate(groups.items()):
        y = legend_h + i * row
        x = float(label_w)
        parts.append(
            f'<text class="label" x="{label_w - 8}" y="{y + 17}" text-anchor="end">'
            f"{escape(name)}</text>"
        )
        for j, segment in enumerate(segments):
            count = counts.get(segment, 0)
            if not count:
                continue
            w = plot_w * count / peak
            parts.append(
                f'<rect class="bar {colour(segment, j)}" x="{x:.1f}" y="{y + 4}" width="{w:.1f}" '
                f'height="{row - 8}">'
                f"<title>{escape(name)} {escape(segment)}: {count}</title></rect>"
            )
            x += w
        parts.append(
            f'<text class="value" x="{x + 6:.1f}" y="{y + 17}">{sum(counts.values())}</text>'
        )
    return _svg(parts)


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    )


def _axis(left: int, top: int, plot_w: int, plot_h: int, peak: float, percent: bool) -> str:
    lines = []
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        value = f"{fraction:.0%}" if percent else f"{peak * fraction:.3g}"
        lines.append(
            f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    return "".join(lines)


def _legend(segments: Sequence[str], left: int) -> str:
    parts, x = [], float(left)
    for j, segment in enumerate(segments):
        parts.append(
            f'<rect class="bar {colour(segment, j)}" x="{x:.1f}" y="6" width="12" height="12"/>'
            f'<text class="tick" x="{x + 16:.1f}" y="16">{escape(segment)}</text>'
        )
        x += 24 + 7 * len(segment)
    return "".join(parts)


def _empty(title: str, width: int) -> Markup:
    return _svg([_open(width, 40, title), '<text class="tick" x="8" y="24">no data</text>'])


def _svg(parts: list[str]) -> Markup:
    # Safe: every text interpolated into `parts` went through escape(); the rest are numbers.
    return Markup("".join([*parts, "</svg>"]))  # noqa: S704
