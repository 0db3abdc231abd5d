"""Lịch phát / plan: a day or a week, blackouts shaded, exceptions listed, each item's file and placing rule."""

from __future__ import annotations

from datetime import date, timedelta

from django.shortcuts import render

from broadcaster.problems import BroadcasterError
from broadcaster.web import station_view, timeline


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
        from broadcaster.station.playlists import load_playlists

        playlists = load_playlists(st)
    except BroadcasterError as err:
        return render(request, "web/plan.html", {"broken": err.problems})
    by_slot = {s.id: playlists.get(s.playlist) for s in st.slots}
    days_out = []
    rows = timeline.rows(plans)
    for row in rows:
        items = [(i, timeline.placing_rule(i, by_slot)) for i in row.plan.items]
        days_out.append({"row": row, "items": items})
    return render(request, "web/plan.html", {
        "station": st, "days": days_out, "timeline_svg": timeline.svg(rows), "first": first, "span": days,
        "today": today,
        "tomorrow": today + timedelta(days=1), "prev": first - timedelta(days=days),
        "next": first + timedelta(days=days)})
