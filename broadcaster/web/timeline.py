"""Day plans as shapes for an inline SVG timeline (minutes of the day on x), and the rule that placed each item."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from broadcaster.model import DayPlan, PlannedItem
from broadcaster.planning.view import CATEGORY_COLOURS
from broadcaster.station.playlists import Playlist

SPARE = ("#8c564b", "#e377c2", "#17becf", "#bcbd22", "#d62728")
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


@dataclass(frozen=True)
class Bar:
    x: float  # minutes from midnight
    width: float
    colour: str
    label: str


@dataclass
class DayRow:
    plan: DayPlan
    weekday_vi: str
    blackouts: list[Bar]
    slots: list[Bar]
    items: list[Bar]


def minutes(moment: datetime, plan: DayPlan) -> float:
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return (moment - midnight).total_seconds() / 60 + 1440 * (moment.date() - plan.date).days


def colour_of(category: str, palette: dict[str, str]) -> str:
    if category not in palette:
        palette[category] = CATEGORY_COLOURS.get(category) or SPARE[len(palette) % len(SPARE)]
    return palette[category]


def rows(plans: list[DayPlan], palette: dict[str, str] | None = None) -> list[DayRow]:
    palette = {} if palette is None else palette
    out = []
    for plan in plans:
        def bar(start, end, colour, label, plan=plan):
            x = minutes(start, plan)
            return Bar(round(x, 2), round(max(minutes(end, plan) - x, 0.5), 2), colour, label)

        out.append(DayRow(
            plan, WEEKDAYS_VI[plan.date.weekday()],
            [bar(b.start, b.end, "", f"{b.name} {b.start:%H:%M}–{b.end:%H:%M}") for b in plan.blackouts],
            [bar(w.start, w.end, "", f"{w.name} {w.start:%H:%M}–{w.end:%H:%M}") for w in plan.slots],
            [bar(i.start, i.end, colour_of(i.category, palette), f"{i.start:%H:%M:%S} {i.title}")
             for i in plan.items]))
    return out


def placing_rule(item: PlannedItem, slot_playlists: dict[str, Playlist]) -> str:
    """Why the planner put this item here, in the playlist's own words: open / sequence / close / fill, and the
    category's quota and separation."""
    if item.level != "normal":
        return f"level {item.level}"
    playlist = slot_playlists.get(item.slot)
    if playlist is None:
        return ""
    parts = []
    if any(p.category == item.category for p in playlist.open):
        parts.append("open")
    if any(p.category == item.category for p in playlist.sequence):
        parts.append("sequence")
    if any(p.category == item.category for p in playlist.close):
        parts.append("close")
    if playlist.fill == item.category:
        parts.append("fill")
    rule = playlist.categories.get(item.category)
    if rule is not None:
        if rule.plays.min or rule.plays.max is not None:
            parts.append(f"plays/day {rule.plays.min}-{'' if rule.plays.max is None else rule.plays.max}")
        if rule.separation_minutes:
            parts.append(f"≥{rule.separation_minutes:g} min apart")
    return f"{playlist.id}: " + ", ".join(parts)


ROW_HEIGHT = 22
LABEL_WIDTH = 64


def svg(day_rows: list[DayRow], now_minutes: float | None = None) -> str:
    """An inline SVG (markup-safe): 24 hours across, a band per day; blackouts hatched red, slots framed, items
    coloured by category, each with a tooltip; a red line at now."""
    from django.utils.html import escape
    from django.utils.safestring import mark_safe

    height = ROW_HEIGHT * len(day_rows) + 16
    parts = [f'<svg class="timeline" viewBox="{-LABEL_WIDTH} 0 {1440 + LABEL_WIDTH + 4} {height}" '
             f'xmlns="http://www.w3.org/2000/svg" role="img" aria-label="timeline">',
             '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
             'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4cccc"/>'
             '<line x1="0" y1="0" x2="0" y2="6" stroke="#cc0000" stroke-width="1.5"/></pattern></defs>']
    for hour in range(0, 25, 3):
        x = hour * 60
        parts.append(f'<line x1="{x}" x2="{x}" y1="0" y2="{height - 14}" class="hour"/>'
                     f'<text x="{x}" y="{height - 3}" class="hour-label" text-anchor="middle">{hour:02d}:00</text>')
    for n, row in enumerate(day_rows):
        y = n * ROW_HEIGHT
        parts.append(f'<g transform="translate(0,{y})" data-date="{row.plan.date.isoformat()}">'
                     f'<text x="-6" y="14" text-anchor="end" class="day">{row.plan.date:%d/%m}</text>'
                     f'<rect x="0" y="1" width="1440" height="{ROW_HEIGHT - 2}" class="day-bg"/>')
        for b in row.blackouts:
            parts.append(f'<rect x="{b.x}" y="1" width="{b.width}" height="{ROW_HEIGHT - 2}" fill="url(#hatch)" '
                         f'class="blackout"><title>{escape(b.label)}</title></rect>')
        for s in row.slots:
            parts.append(f'<rect x="{s.x}" y="3" width="{s.width}" height="{ROW_HEIGHT - 6}" class="slot">'
                         f'<title>{escape(s.label)}</title></rect>')
        for i in row.items:
            parts.append(f'<rect x="{i.x}" y="5" width="{i.width}" height="{ROW_HEIGHT - 10}" fill="{i.colour}">'
                         f'<title>{escape(i.label)}</title></rect>')
        parts.append("</g>")
    if now_minutes is not None and day_rows:
        parts.append(f'<line x1="{now_minutes:.1f}" x2="{now_minutes:.1f}" y1="0" y2="{ROW_HEIGHT}" class="now"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
