"""Charts drawn on the server as inline SVG (no script, no CDN): colours come from console.css
classes, so the strict Content-Security-Policy holds (no style attributes). Built with MarkupSafe's
Markup.format, which escapes every argument: the templates place the result as it is."""

from __future__ import annotations

from collections import Counter
from datetime import date

from markupsafe import Markup


def _join(parts: list[Markup]) -> Markup:
    return Markup("").join(parts)


def stacked_bars(days: list[date], counts: dict[date, Counter[str]], series: tuple[str, ...],
                 title: str, width: int = 640, height: int = 220) -> Markup:
    """One bar per day, stacked by series; a table with the same numbers follows for screen readers."""
    left, bottom, top = 36, 28, 10
    plot_h = height - bottom - top
    peak = max((sum(counts[d].values()) for d in days), default=0) or 1
    step = (width - left - 8) / max(len(days), 1)
    bar_w = max(min(step * 0.7, 48), 4)
    parts = [Markup('<svg class="chart" role="img" aria-labelledby="chart-title" viewBox="0 0 {} {}" '
                    'width="100%" xmlns="http://www.w3.org/2000/svg"><title id="chart-title">{}</title>')
             .format(width, height, title)]
    for tick in sorted({0, peak // 2, peak}):
        y = top + plot_h - plot_h * tick / peak
        parts.append(Markup('<line class="grid" x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}"/>'
                            '<text class="axis" x="{}" y="{:.1f}" text-anchor="end">{}</text>')
                     .format(left, width - 4, y, y, left - 6, y + 4, tick))
    for i, d in enumerate(days):
        x = left + i * step + (step - bar_w) / 2
        y = top + plot_h
        for s in series:
            n = counts[d].get(s, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            parts.append(Markup('<rect class="s-{}" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}">'
                                '<title>{}: {} {}</title></rect>').format(s, x, y, bar_w, h, d.isoformat(), n, s))
        parts.append(Markup('<text class="axis" x="{:.1f}" y="{}" text-anchor="middle">{}</text>')
                     .format(x + bar_w / 2, height - 10, f"{d:%m-%d}"))
    parts.append(Markup("</svg>"))
    legend = _join([Markup('<li><span class="swatch s-{}" aria-hidden="true"></span>{}</li>').format(s, s)
                    for s in series])
    return _join(parts) + Markup('<ul class="legend">{}</ul>').format(legend)


def gauge(value: float | None, label: str, width: int = 240) -> Markup:
    """A horizontal bar for a rate between 0 and 1."""
    share = 0.0 if value is None else max(0.0, min(1.0, value))
    text = "–" if value is None else f"{share:.0%}"
    return Markup('<svg class="gauge" role="img" aria-label="{}: {}" viewBox="0 0 {} 20" '
                  'width="{}" height="20" xmlns="http://www.w3.org/2000/svg">'
                  '<rect class="gauge-bg" x="0" y="2" width="{}" height="16" rx="3"/>'
                  '<rect class="gauge-fg" x="0" y="2" width="{:.1f}" height="16" rx="3"/></svg>'
                  ).format(label, text, width, width, width, width * share)


def histogram(values: list[float], title: str, buckets: tuple[float, ...] = (1, 4, 24, 72, 168),
              width: int = 640, height: int = 160) -> Markup:
    """Time to resolution in hours, in buckets (< 1 h, < 4 h, < 1 d, < 3 d, < 7 d, more)."""
    labels = ["< 1 h", "< 4 h", "< 1 d", "< 3 d", "< 7 d", "7 d +"]
    counts = [0] * (len(buckets) + 1)
    for v in values:
        counts[next((i for i, b in enumerate(buckets) if v < b), len(buckets))] += 1
    peak = max(counts) or 1
    left, bottom, top = 36, 28, 10
    plot_h = height - bottom - top
    step = (width - left - 8) / len(counts)
    parts = [Markup('<svg class="chart" role="img" aria-labelledby="hist-title" viewBox="0 0 {} {}" '
                    'width="100%" xmlns="http://www.w3.org/2000/svg"><title id="hist-title">{}</title>')
             .format(width, height, title)]
    for i, (label, n) in enumerate(zip(labels, counts, strict=True)):
        h = plot_h * n / peak
        x = left + i * step + step * 0.15
        parts.append(Markup('<rect class="bar" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}">'
                            '<title>{}: {}</title></rect>'
                            '<text class="axis" x="{:.1f}" y="{}" text-anchor="middle">{}</text>')
                     .format(x, top + plot_h - h, step * 0.7, h, label, n, x + step * 0.35, height - 10, label))
        if n:
            parts.append(Markup('<text class="value" x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>')
                         .format(x + step * 0.35, top + plot_h - h - 3, n))
    parts.append(Markup("</svg>"))
    return _join(parts)
