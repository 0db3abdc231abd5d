"""Nhật ký thao tác / audit: every change made through the console (who, when, what), newest first."""

from __future__ import annotations

from django.shortcuts import render

from broadcaster.web.models import AuditEntry
from broadcaster.web.roles import page_for
from broadcaster.web.station_view import station


@page_for("audit")
def audit_page(request):
    zone = station().zone
    entries = [(e, e.at.astimezone(zone)) for e in AuditEntry.objects.all()[:300]]
    return render(request, "web/audit.html", {"entries": entries})
