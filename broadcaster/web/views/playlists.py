"""Danh sách phát / playlists: each playlist as the planner reads it (open, sequence, close, fill, quotas,
separation, item rules), and which slots use it."""

from __future__ import annotations

from django.shortcuts import render

from broadcaster.problems import BroadcasterError
from broadcaster.station.playlists import load_playlists
from broadcaster.web import station_view


def playlists(request):
    st = station_view.station()
    try:
        found = load_playlists(st)
        broken = []
    except BroadcasterError as err:
        found, broken = {}, err.problems
    used = {}
    for slot in st.slots:
        used.setdefault(slot.playlist, []).append(slot)
    return render(request, "web/playlists.html", {"playlists": sorted(found.values(), key=lambda p: p.id),
                                                  "used": used, "broken": broken})
