"""Lịch phát / plan: a day or a week, blackouts shaded, exceptions listed, each item's file and placing rule."""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe

from broadcaster.model import PlannedItem
from broadcaster.problems import BroadcasterError
from broadcaster.station.config import topic_name
from broadcaster.station.playlists import Playlist
from broadcaster.web import station_view, timeline

WEEKDAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")  # not the locale's


def plan(request):
    try:
        st = station_view.station()
    except BroadcasterError as err:
        return render(request, "web/plan.html", {"broken": err.problems})
    today = station_view.now(st).date()
    try:
        first = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        first = today
    days = 7 if request.GET.get("days") == "7" else 1
    try:
        plans = station_view.plans(st, first, days)
        playlists = station_view.playlists(st)
    except BroadcasterError as err:
        return render(request, "web/plan.html", {"broken": err.problems})
    by_slot = {s.id: playlists.get(s.playlist) for s in st.slots}
    rows = timeline.rows(plans)
    days_out = [_day(row, by_slot, st.topics) for row in rows]
    return render(request, "web/plan.html", {
        "station": st, "days": days_out, "timeline_svg": timeline.svg(rows), "first": first.isoformat(),
        "span": days, "today": today.isoformat(), "tomorrow": (today + timedelta(days=1)).isoformat(),
        "prev": (first - timedelta(days=days)).isoformat(), "next": (first + timedelta(days=days)).isoformat()})


def _day(row: timeline.DayRow, by_slot: dict[str, Playlist | None], topics: dict[str, str]) -> dict:
    """A day's texts, formatted here: Django's date and time filters were the page's costliest calls (each parses
    its format and converts the zone again). Times are already in the station's zone."""
    plan = row.plan
    return {"row": row, "date": plan.date.isoformat(), "shown_date": f"{plan.date:%d/%m/%Y}",
            "weekday_en": WEEKDAYS_EN[plan.date.weekday()],
            "blackouts": [(f"{b.start:%H:%M}", f"{b.end:%H:%M}", b.name) for b in plan.blackouts],
            "slots": [(w.name, w.id, f"{w.start:%H:%M:%S}", f"{w.end:%H:%M:%S}") for w in plan.slots],
            "items": item_rows(plan.items, by_slot, topics)}


def item_rows(items: list[PlannedItem], by_slot: dict[str, Playlist | None], topics: dict[str, str]) -> SafeString:
    """A day's table rows, made here rather than in the template: a week has hundreds of items, and the template
    engine's look-ups and filters for each of their cells made up most of the page's time. Every text is escaped
    (the standard library's escape, as Django's own does, without its lazy-string wrapper on each call)."""
    return mark_safe("".join(  # noqa: S308 - every text is escaped
        f"<tr><td>{i.start:%H:%M:%S}</td><td>{i.end:%H:%M:%S}</td><td>{escape(i.slot)}</td>"
        f"<td>{escape(topic_name(topics, i.category))}</td><td>{escape(i.title)}</td><td><code>{escape(i.file)}"
        f"</code></td><td class=\"rule\">{escape(timeline.placing_rule(i, by_slot))}</td></tr>" for i in items))
