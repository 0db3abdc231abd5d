"""Nhật ký phát sóng / as-run log: filter by dates, slot, category and status; the chain's verify; CSV export."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

from django.http import HttpResponse
from django.shortcuts import render

from broadcaster.asrun.log import AsRunLog
from broadcaster.web import station_view

STATUSES = ("aired", "partial", "skipped", "failed", "playing")
MAX_DAYS = 92


def _filtered(request):
    st = station_view.station()
    today = station_view.now(st).date()
    try:
        first = date.fromisoformat(request.GET.get("from", ""))
    except ValueError:
        first = today
    try:
        last = date.fromisoformat(request.GET.get("to", ""))
    except ValueError:
        last = first
    last = min(max(last, first), first + timedelta(days=MAX_DAYS - 1))
    wanted = {k: request.GET.get(k, "") for k in ("slot", "category", "status")}
    rows, check = [], None
    if st.paths.asrun_log.exists():
        with AsRunLog(st.paths.asrun_log) as log:  # the same reading as `log show` and `log verify`
            rows = log.entries(datetime.combine(first, time(0), st.zone),
                               datetime.combine(last + timedelta(days=1), time(0), st.zone))
            if request.GET.get("verify") != "0":
                check = log.verify()
    rows = [r for r in rows if all(not v or getattr(r, k) == v for k, v in wanted.items())]
    return st, first, last, wanted, rows, check


def asrun(request):
    st, first, last, wanted, rows, check = _filtered(request)
    return render(request, "web/asrun.html", {
        "rows": rows, "first": first, "last": last, "wanted": wanted, "check": check, "statuses": STATUSES,
        "slots": [s.id for s in st.slots], "query": request.GET.urlencode()})


def asrun_csv(request):
    _st, first, last, _wanted, rows, _check = _filtered(request)
    out = io.StringIO()
    writer = csv.writer(out)
    names = ["id", "planned_start", "actual_start", "actual_end", "slot", "category", "title", "file", "sha256",
             "level", "status", "reason"]
    writer.writerow(names)
    for r in rows:
        writer.writerow([getattr(r, n) for n in names])
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")  # BOM: Excel
    response["Content-Disposition"] = f'attachment; filename="asrun-{first}-{last}.csv"'
    return response
