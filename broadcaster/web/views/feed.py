"""Nguồn huyện / district feed: what the commune accepted from its district, the clips, the receipts waiting."""

from __future__ import annotations

import sqlite3

from django.shortcuts import render

from broadcaster.feed.outbox import OUTBOX_FILE
from broadcaster.feed.state import STATE_FILE
from broadcaster.web import station_view


def _rows(path, sql: str) -> list[dict]:
    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(sql)]
    except sqlite3.Error:
        return []


def feed(request):
    st = station_view.station()
    state = st.paths.state / STATE_FILE
    accepted = _rows(state, "SELECT district, version, expires, accepted_at FROM accepted_versions "
                               "ORDER BY accepted_at DESC")
    clips = _rows(state, "SELECT title, category, priority, status, reason, valid_from, valid_until, updated "
                         "FROM clips ORDER BY updated DESC LIMIT 200")
    outbox = _rows(st.paths.state / OUTBOX_FILE, "SELECT kind, created, sent_at, attempts, last_error FROM outbox "
                                                  "ORDER BY created DESC LIMIT 50")
    return render(request, "web/feed.html", {
        "configured": "feed" in st.extra, "accepted": accepted, "clips": clips, "outbox": outbox,
        "last_sync": station_view.last_feed_sync(st),
        "counts": {s: sum(c["status"] == s for c in clips) for s in ("ingested", "rejected", "withdrawn")}})
