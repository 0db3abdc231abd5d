"""Chờ duyệt / waiting for approval: the commune's own clips that may not air until an approver listens to them
and approves or rejects them (TT 39/2020, issue 12).

The decision is broadcaster/bulletins/approval.decide_item, the same as `python main.py library approve|reject`,
with the console login as the person recorded; the console's audit gets a row too. Bulletins have their own pages.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from broadcaster.bulletins.approval import BULLETIN_SOURCE, Person, decide_item, kind_of, station_store
from broadcaster.bulletins.settings import ContentKind
from broadcaster.bulletins.store import STATUS_VI, Decision
from broadcaster.library.catalogue import station_library
from broadcaster.model import Approval, LibraryItem
from broadcaster.problems import BroadcasterError
from broadcaster.web import station_view
from broadcaster.web.roles import allowed, audit, role_of
from broadcaster.web.templatetags.console import said

RECENT = 10  # decisions shown under the list, newest first
DECISIONS = {"approve": Decision.APPROVED, "reject": Decision.REJECTED}


def waiting_clips(items: list[LibraryItem]) -> list[LibraryItem]:
    """Local clips that wait (a bulletin's audio waits on its bulletin's page instead)."""
    return [i for i in items
            if i.approval == Approval.PENDING and i.source != BULLETIN_SOURCE and kind_of(i.source) is not None]


def waiting(request):
    st = station_view.station()
    items = waiting_clips(station_library(st).items())
    try:
        recent = [(r, (STATUS_VI.get(r.decision, r.decision), r.decision.value)) for r in
                  station_store(st).records() if r.kind == ContentKind.LOCAL.value][-RECENT:][::-1]
    except BroadcasterError as err:
        recent = []
        for problem in err.problems:
            messages.error(request, said(problem))
    return render(request, "web/approvals.html", {"items": items, "recent": recent})


@require_POST
@allowed("library.decide")
def decide(request, sha256: str):
    decision = DECISIONS.get(request.POST.get("decision", ""))
    if decision is None:
        raise Http404("decision")
    st = station_view.station()
    if station_library(st).get(sha256) is None:
        raise Http404(sha256)  # only a catalogue item's own hash is looked up, never a file name from the browser
    comment = request.POST.get("comment", "").strip()
    try:
        item = decide_item(st, sha256, Person(request.user.get_username(), role_of(request.user)), decision, comment)
    except BroadcasterError as err:
        for problem in err.problems:
            messages.error(request, _told(problem))
        return redirect("approvals")
    audit(request, f"library.{request.POST['decision']}", item.file,
          f"{item.title} → {item.approval}" + (f"; {comment}" if comment else "") + f"; sha256 {item.sha256[:12]}")
    text = _("Approved: %(t)s") if decision == Decision.APPROVED else _("Rejected: %(t)s")
    messages.success(request, text % {"t": item.title})
    return redirect("approvals")


def _told(problem) -> str:
    """The service's message; a hint naming a CLI option (--comment, --by) means nothing on this page."""
    if problem.file.startswith("--"):
        return said((problem.message_vi, problem.message_en))
    return said(problem)
