"""Charts drawn on the server as inline SVG (no script, no CDN): colours come from console.css
classes, so the strict Content-Security-Policy holds (no style attributes)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from html import escape


def stacked_bars(days: list[date], counts: dict[date, Counter[str]], series: tuple[str, ...],
                 title: str, width: int = 640, height: int = 220) -> str:
    """One bar per day, stacked by series; a table with the same numbers follows for screen readers."""
    left, bottom, top = 36, 28, 10
    plot_h = height - bottom - top
    peak = max((sum(counts[d].values()) for d in days), default=0) or 1
    step = (width - left - 8) / max(len(days), 1)
    bar_w = max(min(step * 0.7, 48), 4)
    parts = [f'<svg class="chart" role="img" aria-labelledby="chart-title" viewBox="0 0 {width} {height}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg"><title id="chart-title">{escape(title)}</title>']
    for tick in sorted({0, peak // 2, peak}):
        y = top + plot_h - plot_h * tick / peak
        parts.append(f'<line class="grid" x1="{left}" x2="{width - 4}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    for i, d in enumerate(days):
        x = left + i * step + (step - bar_w) / 2
        y = top + plot_h
        for s in series:
            n = counts[d].get(s, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            parts.append(f'<rect class="s-{escape(s)}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}">'
                         f'<title>{d.isoformat()}: {n} {escape(s)}</title></rect>')
        parts.append(f'<text class="axis" x="{x + bar_w / 2:.1f}" y="{height - 10}" text-anchor="middle">'
                     f'{d:%m-%d}</text>')
    parts.append("</svg>")
    legend = "".join(f'<li><span class="swatch s-{escape(s)}" aria-hidden="true"></span>{escape(s)}</li>'
                     for s in series)
    return "".join(parts) + f'<ul class="legend">{legend}</ul>'


def gauge(value: float | None, label: str, width: int = 240) -> str:
    """A horizontal bar for a rate between 0 and 1."""
    share = 0.0 if value is None else max(0.0, min(1.0, value))
    text = "–" if value is None else f"{share:.0%}"
    return (f'<svg class="gauge" role="img" aria-label="{escape(label)}: {text}" viewBox="0 0 {width} 20" '
            f'width="{width}" height="20" xmlns="http://www.w3.org/2000/svg">'
            f'<rect class="gauge-bg" x="0" y="2" width="{width}" height="16" rx="3"/>'
            f'<rect class="gauge-fg" x="0" y="2" width="{width * share:.1f}" height="16" rx="3"/></svg>')


def histogram(values: list[float], title: str, buckets: tuple[float, ...] = (1, 4, 24, 72, 168),
              width: int = 640, height: int = 160) -> str:
    """Time to resolution in hours, in buckets (< 1 h, < 4 h, < 1 d, < 3 d, < 7 d, more)."""
    labels = ["< 1 h", "< 4 h", "< 1 d", "< 3 d", "< 7 d", "7 d +"]
    counts = [0] * (len(buckets) + 1)
    for v in values:
        counts[next((i for i, b in enumerate(buckets) if v < b), len(buckets))] += 1
    peak = max(counts) or 1
    left, bottom, top = 36, 28, 10
    plot_h = height - bottom - top
    step = (width - left - 8) / len(counts)
    parts = [f'<svg class="chart" role="img" aria-labelledby="hist-title" viewBox="0 0 {width} {height}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg"><title id="hist-title">{escape(title)}</title>']
    for i, (label, n) in enumerate(zip(labels, counts, strict=True)):
        h = plot_h * n / peak
        x = left + i * step + step * 0.15
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.7:.1f}" '
                     f'height="{h:.1f}"><title>{label}: {n}</title></rect>'
                     f'<text class="axis" x="{x + step * 0.35:.1f}" y="{height - 10}" text-anchor="middle">'
                     f'{label}</text>')
        if n:
            parts.append(f'<text class="value" x="{x + step * 0.35:.1f}" y="{top + plot_h - h - 3:.1f}" '
                         f'text-anchor="middle">{n}</text>')
    parts.append("</svg>")
    return "".join(parts)
