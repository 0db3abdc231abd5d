"""Tổng quan / dashboard: on air now, next, today's timeline, exceptions, daemon heartbeat, feed, disk, alarms."""

from __future__ import annotations

from django.shortcuts import render

from broadcaster.problems import BroadcasterError
from broadcaster.web import station_view, timeline

STALE_HEARTBEAT = 10.0  # seconds: the daemon ticks four times a second


def _context() -> dict:
    try:
        st = station_view.station()
    except BroadcasterError as err:
        return {"broken": err.problems}
    today = station_view.now(st).date()
    plans = station_view.plans(st, today, 1)
    live = station_view.live_state(st, plans)
    return {"station": st, "live": live, "exceptions": plans[0].exceptions,
            "daemon_ok": live.heartbeat_age is not None and live.heartbeat_age < STALE_HEARTBEAT,
            "timeline_svg": timeline.svg(timeline.rows(plans), timeline.minutes(live.now, plans[0]))}


def dashboard(request):
    return render(request, "web/dashboard.html", _context())


def dashboard_panel(request):
    """The part htmx polls every few seconds."""
    return render(request, "web/_dashboard_panel.html", _context())
