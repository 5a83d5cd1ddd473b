"""Stacked bar charts drawn on the server: numbers in, bar geometry out, drawn as SVG by
templates/imagegen/usage_chart.html. No JavaScript; colours come from classes in
static/css/usage.css (light and dark), and each model also has its own fill pattern and place
in the stack, so colour is never the only difference.

Right to left, the chart is mirrored: the newest day on the left, the value axis on the right.
The SVG's `direction` follows the page, so a text anchored at its "end" grows away from the
plot on both sides (the value labels, the newest day's label).
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils.formats import date_format, number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from imagegen.costs.money import SYMBOLS

WIDTH, HEIGHT = 440, 220  # the viewBox; the SVG scales to its column
GUTTER = 58  # beside the value axis, for its labels
EDGE = 8  # the other side
TOP, BOTTOM = 10, 26  # above the plot; below it, for the day labels
BAR_SHARE = 0.72  # of each day's slot; the rest is the gap between bars
TICKS = 4  # about this many steps up the value axis
DAY_LABELS = 3  # days named under the bars: long month names need the room
MAX_SERIES = 6  # with more models, the smallest are stacked together as "Other models"


@dataclass(frozen=True)
class Segment:
    """One model's part of one day's bar."""

    series: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Column:
    day: date
    total: float
    tooltip: str
    segments: list[Segment]


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class DayLabel:
    x: float
    text: str
    anchor: str  # "middle", or "end" for the newest day (it grows inwards from the edge)


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    rtl: bool
    columns: list[Column]
    ticks: list[Tick]
    day_labels: list[DayLabel]
    legend: list[str]  # the series' names, bottom of the stack first
    plot_left: float
    plot_right: float
    plot_top: float = TOP
    plot_bottom: float = HEIGHT - BOTTOM
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def axis_x(self) -> float:
        return self.plot_right if self.rtl else self.plot_left

    @property
    def tick_label_x(self) -> float:
        return self.axis_x + 6 if self.rtl else self.axis_x - 6

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"

    def bars_svg(self) -> SafeString:
        """The bars as SVG: a group a day (its total as a tooltip), a rectangle a model in the
        model's colour, and one over it in its pattern. Written here rather than in the
        template: 90 days of four models are some 700 rectangles, which template loops drew
        in most of the page's time (bench/costs.py)."""
        parts = []
        for column in self.columns:
            parts.append(f'<g class="day" data-day="{column.day.isoformat()}">')
            if column.total:
                parts.append(f"<title>{escape(column.tooltip)}</title>")
            for bar in column.segments:
                box = f'x="{bar.x}" y="{bar.y}" width="{bar.width}" height="{bar.height}"'
                parts.append(f'<rect class="series-{bar.series}" {box}/>')
                if bar.series:
                    parts.append(f'<rect fill="url(#usage-pattern-{bar.series})" {box}/>')
            parts.append("</g>")
        return mark_safe("".join(parts))  # noqa: S308 (numbers, and an escaped tooltip)


def nice_scale(maximum: float, whole: bool) -> tuple[float, float]:
    """The top of the value axis and the step between ticks: 1, 2, 2.5 or 5 times a power of
    ten, about TICKS steps up to at least `maximum` (whole steps for counts)."""
    if maximum <= 0:
        return (1.0, 1.0) if whole else (0.01, 0.01)
    raw = maximum / TICKS
    power = 10 ** math.floor(math.log10(raw))
    factors = (1, 2, 5, 10) if whole and power < 10 else (1, 2, 2.5, 5, 10)
    step = next(f * power for f in factors if f * power >= raw * (1 - 1e-9))
    if whole:
        step = max(1, round(step))
    step = float(Decimal(str(step)).normalize())
    top = math.ceil(maximum / step - 1e-9) * step
    return top, step


def stacked_bars(
    chart_id: str,
    title: str,
    description: str,
    days: Sequence[date],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    rtl: bool,
    whole: bool,
    label: Callable[[float, float], str],
) -> Chart:
    """Bars for `days` (oldest first), each stacking the series' values for that day (the first
    series at the bottom). `label(value, step)` writes a value as the axis and tooltips show it."""
    series = _fold(list(series))
    totals = [sum(values[n] for _name, values in series) for n in range(len(days))]
    top, step = nice_scale(max(totals, default=0), whole)
    left, right = (EDGE, WIDTH - GUTTER) if rtl else (GUTTER, WIDTH - EDGE)
    bottom, height = HEIGHT - BOTTOM, HEIGHT - BOTTOM - TOP
    slot = (right - left) / max(1, len(days))
    width = slot * BAR_SHARE

    def x_of(index: int) -> float:
        start = right - (index + 1) * slot if rtl else left + index * slot
        return start + (slot - width) / 2

    columns = []
    for n, day in enumerate(days):
        segments, y = [], float(bottom)
        for number, (_name, values) in enumerate(series):
            if values[n] <= 0:
                continue
            tall = values[n] / top * height
            y -= tall
            segments.append(Segment(number, _r(x_of(n)), _r(y), _r(width), _r(tall)))
        tooltip = f"{date_format(day, 'MONTH_DAY_FORMAT')}: {label(totals[n], step)}"
        columns.append(Column(day, totals[n], tooltip, segments))
    ticks = [
        Tick(_r(bottom - k * step / top * height), label(k * step, step))
        for k in range(round(top / step) + 1)
    ]
    return Chart(
        id=chart_id,
        title=title,
        description=description,
        rtl=rtl,
        columns=columns,
        ticks=ticks,
        day_labels=_day_labels(days, x_of, width, rtl),
        legend=[name for name, _values in series],
        plot_left=left,
        plot_right=right,
    )


def _fold(series: list[tuple[str, Sequence[float]]]) -> list[tuple[str, Sequence[float]]]:
    """At most MAX_SERIES: the last ones (the smallest, as the caller orders them) together."""
    if len(series) <= MAX_SERIES:
        return series
    kept, rest = series[: MAX_SERIES - 1], series[MAX_SERIES - 1 :]
    other = [sum(values) for values in zip(*(values for _name, values in rest), strict=True)]
    return [*kept, (_("Other models"), other)]


def _day_labels(
    days: Sequence[date], x_of: Callable[[int], float], width: float, rtl: bool
) -> list[DayLabel]:
    """The newest day, then every `step` days back: DAY_LABELS names that do not collide."""
    if not days:
        return []
    step = math.ceil(len(days) / DAY_LABELS)
    labels = []
    for index in range(len(days) - 1, -1, -step):
        text = date_format(days[index], "MONTH_DAY_FORMAT")
        if index == len(days) - 1:  # at the plot's edge: grow inwards from the bar's outer side
            x = x_of(index) if rtl else x_of(index) + width
            labels.append(DayLabel(_r(x), text, "end"))
        else:
            labels.append(DayLabel(_r(x_of(index) + width / 2), text, "middle"))
    return labels


def count_label(value: float, step: float) -> str:
    """A count of images in the locale's digits and grouping."""
    return number_format(round(value), force_grouping=True)


def money_label(currency: str) -> Callable[[float, float], str]:
    """Amounts with as many decimals as the axis' step needs (at least cents below one unit)."""

    def label(value: float, step: float) -> str:
        places = 0 if step >= 1 and float(step).is_integer() else 2
        while places < 6 and not _exact(step, places):
            places += 1
        digits = number_format(round(value, places), decimal_pos=places, force_grouping=True)
        symbol = SYMBOLS.get(currency)
        return f"{symbol}{digits}" if symbol else f"{digits}\N{NO-BREAK SPACE}{currency}"

    return label


def _exact(step: float, places: int) -> bool:
    return math.isclose(step * 10**places, round(step * 10**places), abs_tol=1e-9)


def _r(value: float) -> float:
    return round(value, 2)
