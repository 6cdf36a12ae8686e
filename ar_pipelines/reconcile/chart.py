"""Billed, paid and outstanding by month, local against AR, drawn as inline SVG.

Three panels of grouped bars (local and AR side by side in each month), each with
its own scale, so that a paid mismatch is not flattened by the size of the billing.
Geometry is worked out in ``Decimal`` like the money it draws, and the SVG has no
script, font or address in it: the report is opened offline.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import pandas as pd

WIDTH = 960
PANEL_HEIGHT = 240
LEGEND_HEIGHT = 34
LEFT, RIGHT, TOP, BOTTOM = 104, 16, 34, 58  # margins around each panel's plot
MAX_MONTH_LABELS = 12
LOCAL_COLOUR = "#1f6fb2"
AR_COLOUR = "#e07b00"  # blue against orange stays apart for red-green colour blindness
SERIES = (("local", "Local (from the ledger)", LOCAL_COLOUR), ("ar", "AR", AR_COLOUR))
MEASURES = (("billed", "Billed"), ("paid", "Paid"), ("outstanding", "Outstanding"))
PIXEL = Decimal("0.1")


def monthly_chart_svg(by_month: pd.DataFrame) -> str:
    """One ``<svg>`` element for a reconciliation's ``by_month`` frame."""
    months: list[date] = list(by_month["month"])
    height = LEGEND_HEIGHT + PANEL_HEIGHT * (len(MEASURES) if months else 1)
    parts = [
        f'<svg class="chart" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}"'
        ' role="img" aria-labelledby="chart-title" font-family="sans-serif" font-size="12">',
        '<title id="chart-title">Billed, paid and outstanding by statement month,'
        " local against AR</title>",
        _legend(),
    ]
    if not months:
        parts.append(
            f'<text x="{WIDTH // 2}" y="{LEGEND_HEIGHT + PANEL_HEIGHT // 2}"'
            ' text-anchor="middle">No statements on either side.</text>'
        )
    for at, (measure, title) in enumerate(MEASURES if months else ()):
        series = [list(by_month[f"{side}_{measure}"]) for side, _, _ in SERIES]
        parts.append(_panel(title, months, series, top=LEGEND_HEIGHT + at * PANEL_HEIGHT))
    parts.append("</svg>")
    return "\n".join(parts)


def _legend() -> str:
    items = []
    for at, (_, label, colour) in enumerate(SERIES):
        x = LEFT + at * 220
        items.append(
            f'<rect x="{x}" y="10" width="14" height="14" fill="{colour}"/>'
            f'<text x="{x + 20}" y="22">{html.escape(label)}</text>'
        )
    return '<g class="legend">' + "".join(items) + "</g>"


def _panel(title: str, months: list[date], series: list[list[Decimal]], *, top: int) -> str:
    plot_top = Decimal(top + TOP)
    plot_height = Decimal(PANEL_HEIGHT - TOP - BOTTOM)
    plot_width = Decimal(WIDTH - LEFT - RIGHT)
    low, high, step = _scale([v for values in series for v in values])

    def y(value: Decimal) -> Decimal:
        return plot_top + (high - value) * plot_height / (high - low)

    parts = [
        f'<g class="panel"><text x="{LEFT}" y="{top + 22}" font-weight="bold"'
        f' font-size="14">{html.escape(title)} by month</text>'
    ]
    tick = low
    while tick <= high:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_px(y(tick))}" y2="{_px(y(tick))}"'
            f' stroke="{"#444" if tick == 0 else "#ddd"}"/>'
            f'<text x="{LEFT - 6}" y="{_px(y(tick) + 4)}" text-anchor="end">'
            f"{html.escape(_tick_label(tick, step))}</text>"
        )
        tick += step
    band = plot_width / len(months)
    bar = band * Decimal("0.4")
    label_every = -(-len(months) // MAX_MONTH_LABELS)
    for at, month in enumerate(months):
        left = LEFT + band * at + band * Decimal("0.1")
        for which, (_, label, colour) in enumerate(SERIES):
            value = series[which][at]
            upper, lower = y(max(value, Decimal(0))), y(min(value, Decimal(0)))
            tip = f"{month:%Y-%m} {title.lower()}, {label}: {value:,.2f}"
            parts.append(
                f'<rect x="{_px(left + bar * which)}" y="{_px(upper)}" width="{_px(bar)}"'
                f' height="{_px(lower - upper)}" fill="{colour}">'
                f"<title>{html.escape(tip)}</title></rect>"
            )
        if at % label_every == 0:
            centre = LEFT + band * at + band / 2
            parts.append(
                f'<text x="{_px(centre)}" y="{_px(plot_top + plot_height + 16)}"'
                f' text-anchor="middle">{html.escape(f"{month:%Y-%m}")}</text>'
            )
    bottom = top + PANEL_HEIGHT
    middle = plot_top + plot_height / 2
    parts.append(
        f'<text x="{LEFT + int(plot_width) // 2}" y="{bottom - 12}" text-anchor="middle">'
        "Statement month</text>"
        f'<text x="18" y="{_px(middle)}" text-anchor="middle"'
        f' transform="rotate(-90 18 {_px(middle)})">USD</text></g>'
    )
    return "".join(parts)


def _scale(values: Sequence[Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """Axis bounds on round steps (1, 2 or 5 times a power of ten) that hold 0 and
    every value; about four steps."""
    low, high = min([Decimal(0), *values]), max([Decimal(0), *values])
    if high == low:
        high = low + 1
    raw = (high - low) / 4
    power = Decimal(1).scaleb(raw.adjusted())
    step = next(power * m for m in (1, 2, 5, 10) if raw <= power * m)
    step = max(step, Decimal("0.01"))
    low = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    high = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    return low, high, step


def _tick_label(tick: Decimal, step: Decimal) -> str:
    return f"{tick:,.0f}" if step >= 1 else f"{tick:,.2f}"


def _px(value: Decimal) -> str:
    return str(value.quantize(PIXEL))
