"""Spend per month as an inline SVG bar chart, drawn on the server (no CDN, no JavaScript)."""

from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

from contoso.dashboard.service import MonthlySpend

WIDTH, HEIGHT = 720, 240
TOP, BOTTOM, LEFT = 20, 30, 70


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def monthly_spend_svg(months: Sequence[MonthlySpend]) -> Markup:
    """Bars of filed spend with the approved part overlaid, one pair per month."""
    peak = max((m.filed for m in months), default=Decimal(0)) or Decimal(1)
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT) / max(len(months), 1)
    bar = slot * 0.6
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'role="img" aria-labelledby="spend-title" class="w-100" style="max-height:260px">',
        '<title id="spend-title">Spend per month over the last 12 months</title>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - BOTTOM}" '
        'stroke="#ccc"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="11">'
        f"{escape(_money(peak))}</text>",
        f'<text x="{LEFT - 6}" y="{HEIGHT - BOTTOM}" text-anchor="end" font-size="11">0</text>',
    ]
    for index, month in enumerate(months):
        x = LEFT + index * slot + (slot - bar) / 2
        for value, colour, kind in (
            (month.filed, "#c9d7f2", "filed"),
            (month.approved, "#2fb344", "approved"),
        ):
            height = float(value / peak) * plot_height
            y = HEIGHT - BOTTOM - height
            label = escape(f"{month.month:%b %Y}: {_money(value)} {kind}")
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{colour}"><title>{label}</title></rect>'
            )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" '
            f'font-size="11">{month.month:%b}</text>'
        )
    parts.append("</svg>")
    # Every text in `parts` is a number or passed through escape() above.
    return Markup("".join(parts))  # noqa: S704
