"""Phát khẩn / break-in: a library item now, as priority or emergency, through the daemon's spool (as play-now).

Approver and admin only. A reason is required; an emergency asks a second time; inside a blackout an emergency
asks a third time before it overrides it (the daemon's `--confirm`). The console never plays audio itself: with
no daemon running the request is refused with what to do. The page then follows the clip in the as-run log.
"""

from __future__ import annotations

from datetime import datetime

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_POST

from broadcaster.asrun.log import AsRunLog
from broadcaster.library.catalogue import station_library
from broadcaster.playout.breakin import LEVELS, BreakInRequest, ask_daemon, ticket_tag
from broadcaster.playout.daemon import daemon_alive
from broadcaster.web import station_view
from broadcaster.web.roles import allowed, audit


def _choices(st) -> list:
    return sorted(station_library(st).items(), key=lambda i: (i.priority != "emergency", i.category, i.title))


def breakin(request):
    """The form; `?sha256=…&reason=…` fills it in (a bulletin's page sends its approved clip here to air now)."""
    st = station_view.station()
    form = {}
    if request.GET.get("sha256"):
        form = {"sha256": request.GET["sha256"], "level": "emergency", "reason": request.GET.get("reason", "")[:300]}
    return render(request, "web/breakin.html", {"items": _choices(st), "levels": LEVELS, "form": form,
                                                "daemon_up": daemon_alive(st.paths.state)})


@require_POST
@allowed("breakin.send")
def send(request):
    st = station_view.station()
    post = request.POST
    item = station_library(st).get(post.get("sha256", ""))
    level = post.get("level", "")
    reason = " ".join(post.get("reason", "").split())
    form = {"sha256": post.get("sha256", ""), "level": level, "reason": reason, "item": item}
    if item is None or level not in LEVELS:
        return _step(request, "ask", form, error=("Chọn một bài và một mức phát", "Choose an item and a level"))
    if not reason:
        return _step(request, "ask", form, error=("Cần ghi lý do (ghi vào nhật ký phát sóng)",
                                                  "A reason is required (it goes into the as-run log)"))
    now = station_view.now(st)
    blackout = _blackout_now(st, now)
    if level == "emergency" and post.get("confirm_emergency") != "yes":
        return _step(request, "confirm_emergency", form, blackout=blackout)
    if level == "emergency" and blackout is not None and post.get("override_blackout") != "yes":
        return _step(request, "confirm_blackout", form, blackout=blackout)
    if not daemon_alive(st.paths.state):
        return _step(request, "ask", form, error=(
            "Trạm phát không chạy: bật nó bằng 'systemctl start broadcaster' hoặc 'python main.py run'",
            "The playout daemon is not running: start it with 'systemctl start broadcaster' or "
            "'python main.py run'"))
    ticket = BreakInRequest.new(st.paths.audio / item.file, level, reason,
                                level == "emergency" and blackout is not None, now)
    verdict, taken = ask_daemon(st.paths.state, ticket, timeout=10.0)
    audit(request, "breakin.send", item.file, f"{level}: {reason} (request {ticket.id}; "
          f"{verdict if verdict else 'no answer from the daemon'})")
    return _step(request, "sent", form, verdict=verdict, taken=taken, ticket=ticket)


def _blackout_now(st, now: datetime):
    plans = station_view.plans(st, now.date(), 1)
    return next((b for p in plans for b in p.blackouts if b.start <= now < b.end), None)


def _step(request, step: str, form: dict, **extra):
    if step == "ask":
        extra["items"] = _choices(station_view.station())
    return render(request, "web/_breakin_step.html", {"step": step, "form": form, **extra})


def aired(request, request_id: str):
    """What the as-run log says of a break-in so far (htmx polls this until the clip has aired)."""
    st = station_view.station()
    level = request.GET.get("level", "")
    reason = request.GET.get("reason", "")
    since = request.GET.get("since", "")
    if not request_id.isalnum() or level not in LEVELS:
        raise Http404(request_id)
    rows = []
    if st.paths.asrun_log.exists():
        with AsRunLog(st.paths.asrun_log) as log:
            if level == "priority":
                rows = log.with_reason(ticket_tag(request_id))
            else:  # emergencies carry the operator's reason as it was given, from their request on
                rows = [r for r in log.with_reason(reason) if r.level == "emergency" and since
                        and (r.actual_start or r.planned_start or "") >= since[:19]]
    done = any(r.status in ("aired", "partial", "failed", "skipped") for r in rows)
    return render(request, "web/_breakin_aired.html", {"rows": rows, "done": done, "request_id": request_id,
                                                       "level": level, "reason": reason, "since": since})
