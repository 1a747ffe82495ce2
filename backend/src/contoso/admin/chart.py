"""Spend per month as an inline SVG bar chart, drawn on the server (no CDN, no JavaScript).

Each month has two bars: approved with pending stacked on it (what is or may be paid),
and denied beside it. The scale follows the first, so one large denied ticket cannot
flatten every other month: a denied bar beyond the scale is cut, with a break mark, and
its figure stays in its tooltip and in the dashboard's table.
"""

import math
from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

from contoso.currency_codes import quantum
from contoso.dashboard.service import MonthlySpend
from contoso.formatting import money, month

WIDTH, HEIGHT = 760, 300
# Room for the legend above, the month labels below, the amounts on the left.
TOP, BOTTOM, LEFT, RIGHT = 34, 26, 96, 8
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
BASE = HEIGHT - BOTTOM
GRIDLINES = 4

APPROVED, PENDING, DENIED = "#2fb344", "#f59f00", "#d63939"
LEGEND = (("Approved", APPROVED), ("Pending", PENDING), ("Denied", DENIED))


def axis_step(peak: Decimal, smallest: Decimal = Decimal("0.01")) -> Decimal:
    """A round gridline step (1, 2, 2.5 or 5 times a power of ten, at least `smallest`,
    the currency's smallest amount) that reaches `peak` in at most four steps."""
    if peak <= 0:
        return smallest
    rough = peak / GRIDLINES
    power = Decimal(10) ** rough.adjusted()
    step = next(
        factor * power for factor in (1, 2, Decimal("2.5"), 5, 10) if factor * power >= rough
    )
    return max(step, smallest)


def _text(x: float, y: float, content: str, anchor: str = "end", size: int = 11) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="#555">{escape(content)}</text>'
    )


def _rect(x: float, top: float, width: float, bottom: float, colour: str, label: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" height="{bottom - top:.1f}" '
        f'fill="{colour}"><title>{escape(label)}</title></rect>'
    )


def monthly_spend_svg(months: Sequence[MonthlySpend], currency: str) -> Markup:
    """The chart of `months` (amounts in `currency`, the company's), with a y-axis of
    amounts and a legend, its text escaped."""

    def amount(value: Decimal) -> str:
        return money(value, currency)

    peak = max((m.approved + m.pending for m in months), default=Decimal(0))
    if not peak:
        peak = max((m.denied for m in months), default=Decimal(0))
    step = axis_step(peak, quantum(currency))
    top = step * max(math.ceil(peak / step), 1)

    def y(value: Decimal) -> float:
        return BASE - float(min(value, top) / top) * PLOT_HEIGHT

    first, last = (month(months[0].month), month(months[-1].month)) if months else ("", "")
    description = (
        f"Approved, pending and denied amounts in {currency} from {first} to {last}; "
        "the figures are in the table below the chart."
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-labelledby="spend-title spend-desc" class="w-100" style="max-height:320px">',
        '<title id="spend-title">Spend per month by purchase date</title>',
        f'<desc id="spend-desc">{escape(description)}</desc>',
    ]
    for index in range(math.ceil(top / step) + 1):
        value = step * index
        parts.append(
            f'<line x1="{LEFT}" y1="{y(value):.1f}" x2="{WIDTH - RIGHT}" y2="{y(value):.1f}" '
            f'stroke="{"#999" if index == 0 else "#e6e6e6"}"/>'
        )
        parts.append(_text(LEFT - 6, y(value) + 4, amount(value)))
    x = float(LEFT)
    for name, colour in LEGEND:
        parts.append(f'<rect x="{x:.1f}" y="6" width="12" height="12" fill="{colour}"/>')
        parts.append(_text(x + 16, 16, name, anchor="start", size=12))
        x += 16 + 8 * len(name) + 18

    slot = (WIDTH - LEFT - RIGHT) / max(len(months), 1)
    spend_width, denied_width, gap = slot * 0.42, slot * 0.22, slot * 0.04
    for index, spend in enumerate(months):
        label = month(spend.month)
        left = LEFT + index * slot + (slot - spend_width - gap - denied_width) / 2
        approved_top = y(spend.approved)
        parts.append(
            _rect(
                left,
                approved_top,
                spend_width,
                BASE,
                APPROVED,
                f"{label}: {amount(spend.approved)} approved",
            )
        )
        parts.append(
            _rect(
                left,
                y(spend.approved + spend.pending),
                spend_width,
                approved_top,
                PENDING,
                f"{label}: {amount(spend.pending)} pending",
            )
        )
        denied_left = left + spend_width + gap
        cut = spend.denied > top
        parts.append(
            _rect(
                denied_left,
                y(spend.denied),
                denied_width,
                BASE,
                DENIED,
                f"{label}: {amount(spend.denied)} denied" + (" (beyond the scale)" if cut else ""),
            )
        )
        if cut:
            parts.append(
                f'<path d="M{denied_left - 2:.1f},{TOP + 12} l{denied_width + 4:.1f},-6 '
                f'm0,5 l-{denied_width + 4:.1f},6" stroke="#fff" stroke-width="3"/>'
            )
        parts.append(_text(LEFT + (index + 0.5) * slot, HEIGHT - 8, label, "middle", 10))
    parts.append("</svg>")
    # Every text in `parts` is a number or passed through escape() above.
    return Markup("".join(parts))  # noqa: S704
