"""Thông báo / bulletins: write one (read aloud by the speech engine), listen to it, approve, reject or withdraw it.

Every step is a function of broadcaster/bulletins/desk.py, the same as `python main.py bulletin …` calls, with
the console login as the person recorded. Speech takes seconds: a page waits for it at most
settings.SPEECH_WAIT_SECONDS, then says the bulletin is still being made and will appear in the list.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as StillRunning
from pathlib import Path
from urllib.parse import urlencode

from django import forms
from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from broadcaster.bulletins.approval import Person, station_store
from broadcaster.bulletins.settings import VOICES, bulletin_settings
from broadcaster.bulletins.store import STATUS_VI, Bulletin, BulletinStatus
from broadcaster.library.catalogue import RETIRED_DIR, station_library
from broadcaster.problems import BroadcasterError, Problem
from broadcaster.web import station_view
from broadcaster.web.roles import allowed, audit, audit_as, may, role_of
from broadcaster.web.templatetags.console import said

TEXT_SOURCE = "text"  # where the desk's text problems point (the CLI names its --text-file instead)
# The desk names a problem by the CLI option; the form's field with the same meaning shows it.
FIELD_OF = {"--title": "title", TEXT_SOURCE: "text", "--text-file": "text", "--voice": "voice", "--rate": "rate",
            "--valid-until": "valid_until", "--plays-per-day": "plays_per_day"}
VOICE_LABELS = {"north": gettext_lazy("Northern"), "central": gettext_lazy("Central"),
                "south": gettext_lazy("Southern")}

# One bulletin is spoken at a time: espeak-ng and the loudness pass take a core each on a small station PC.
_speaker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulletin-speech")


class BulletinForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=200,
                            widget=forms.TextInput(attrs={"size": 60, "style": "max-width: 100%"}))
    text = forms.CharField(label=gettext_lazy("Text (a blank line between paragraphs)"),
                           widget=forms.Textarea(attrs={"rows": 10}), strip=False)
    voice = forms.ChoiceField(label=gettext_lazy("Voice"), choices=[(v, VOICE_LABELS[v]) for v in VOICES])
    rate = forms.IntegerField(label=gettext_lazy("Speaking rate (words a minute)"), required=False)
    category = forms.SlugField(label=gettext_lazy("Category"), max_length=60, required=False)
    valid_from = forms.DateField(label=gettext_lazy("Airs from"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=gettext_lazy("Airs until"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    plays_per_day = forms.CharField(label=gettext_lazy("Plays per day (e.g. 2-3)"), max_length=20, required=False)
    emergency = forms.BooleanField(label=gettext_lazy("Emergency"), required=False)
    approve = forms.BooleanField(label=gettext_lazy("Approve it now (I am an approver)"), required=False)

    def draft(self):
        from broadcaster.bulletins.desk import Draft, plays_per_day

        d = self.cleaned_data
        return Draft(title=d["title"], text=d["text"], voice=d["voice"], rate=d["rate"], category=d["category"] or None,
                     valid_from=d["valid_from"], valid_until=d["valid_until"],
                     plays=plays_per_day(d["plays_per_day"]), emergency=d["emergency"])


def _person(request) -> Person:
    return Person(request.user.get_username(), role_of(request.user))


def status_label(status: str) -> tuple[str, str]:
    return STATUS_VI.get(status, status), status


def bulletin_list(request):
    try:
        bulletins = station_store(station_view.station()).bulletins()
    except BroadcasterError as err:
        return render(request, "web/bulletins.html", {"broken": err.problems, "bulletins": []})
    status = request.GET.get("status", "")
    counts = {s.value: sum(1 for b in bulletins if b.status == s) for s in BulletinStatus}
    shown = [b for b in reversed(bulletins) if not status or b.status == status]
    return render(request, "web/bulletins.html", {
        "bulletins": [(b, status_label(b.status)) for b in shown], "status": status, "total": len(bulletins),
        "filters": [(s.value, status_label(s.value), counts[s.value]) for s in BulletinStatus]})


def new(request):
    try:
        st = station_view.station()
        settings = bulletin_settings(st)
    except BroadcasterError as err:
        return _form_page(request, None, problems=err.problems)
    if request.method != "POST":
        form = BulletinForm(initial={"voice": settings.voice, "rate": settings.rate, "category": settings.category})
        return _form_page(request, form)
    return _write(request, st)


@allowed("bulletins.write")
def _write(request, st):
    form = BulletinForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form)
    approve = form.cleaned_data["approve"]
    if approve and not may(request.user, "bulletins.decide"):
        raise PermissionDenied("bulletins.decide")

    def make(draft, person: Person) -> Bulletin:
        from broadcaster.bulletins.desk import write_bulletin

        return write_bulletin(st, draft, person, approve=approve, source=TEXT_SOURCE)

    return _speak(request, form, make, "bulletin.new")


def edit(request, bulletin_id: int):
    """A new draft from a bulletin (desk.edit_bulletin): an approved original keeps airing until it is approved."""
    old = _need(bulletin_id)
    if request.method != "POST":
        form = BulletinForm(initial={
            "title": old.title, "text": old.text, "voice": old.voice, "rate": old.rate, "category": old.category,
            "valid_from": old.valid_from, "valid_until": old.valid_until, "emergency": old.emergency,
            "plays_per_day": f"{old.plays_min}-{old.plays_max}" if old.plays_min is not None else ""})
        return _form_page(request, form, editing=old)
    return _edit(request, old)


@allowed("bulletins.write")
def _edit(request, old: Bulletin):
    form = BulletinForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form, editing=old)
    st = station_view.station()

    def make(draft, person: Person) -> Bulletin:
        from broadcaster.bulletins.desk import edit_bulletin

        changes = {name: getattr(draft, name) for name in ("title", "text", "voice", "rate", "category",
                                                            "valid_from", "valid_until", "plays", "emergency")}
        return edit_bulletin(st, old.id, person, **changes)

    return _speak(request, form, make, "bulletin.edit", editing=old)


def _form_page(request, form, *, problems=(), editing: Bulletin | None = None):
    return render(request, "web/bulletin_form.html", {"form": form, "top": problems, "editing": editing})


def _speak(request, form: BulletinForm, make, action: str, editing: Bulletin | None = None):
    """Run `make(draft, person)` on the speech thread; wait for it at most SPEECH_WAIT_SECONDS."""
    try:
        draft = form.draft()
    except BroadcasterError as err:
        return _form_page(request, form, problems=_attach(form, err.problems), editing=editing)
    job = _speaker.submit(_made_and_audited, make, draft, _person(request), action)
    try:
        bulletin = job.result(timeout=django_settings.SPEECH_WAIT_SECONDS)
    except StillRunning:
        messages.warning(request, _("The speech engine is still reading “%(t)s”: it will appear in this list when "
                                    "it is done (reload in a minute).") % {"t": draft.title})
        return redirect("bulletins")
    except BroadcasterError as err:
        return _form_page(request, form, problems=_attach(form, err.problems), editing=editing)
    messages.success(request, _("Bulletin #%(id)s made: %(status)s") % {
        "id": bulletin.id, "status": said(status_label(bulletin.status))})
    return redirect("bulletin", bulletin_id=bulletin.id)


def _made_and_audited(make, draft, person: Person, action: str) -> Bulletin:
    """Runs on the speech thread, so the audit row is written even when the page stopped waiting."""
    try:
        try:
            bulletin = make(draft, person)
        except BroadcasterError:
            raise
        except Exception as err:  # the engine's own failure (a crash, a missing library): told, never a 500
            raise BroadcasterError([Problem(
                "espeak-ng", f"máy đọc không đọc được thông báo này ({err})",
                f"the speech engine could not read this bulletin ({err})",
                "thử lại; nếu vẫn lỗi, báo người quản trị (python main.py validate)",
                "try again; if it fails again, tell the administrator (python main.py validate)")]) from err
        audit_as(person.name, person.role, action, f"#{bulletin.id} {bulletin.title}",
                 (f"edits #{bulletin.replaces}; " if bulletin.replaces else "") +
                 f"{bulletin.status}; {bulletin.voice}, {bulletin.rate} wpm, {bulletin.duration:.1f} s → "
                 f"{bulletin.audio_file} (sha256 {bulletin.audio_sha256[:12]}, text sha256 "
                 f"{bulletin.text_sha256[:12]})" + ("; emergency" if bulletin.emergency else ""))
        return bulletin
    finally:
        connection.close()  # this thread's own database connection


def _attach(form: BulletinForm, problems: list[Problem]) -> list[Problem]:
    """Each problem next to its field; the rest (the engine, the library, who may approve) above the form."""
    rest = []
    for problem in problems:
        name = FIELD_OF.get(problem.file)
        if name:
            where = _("line %(n)s: ") % {"n": problem.line} if problem.line else ""
            form.add_error(name, where + said(problem))
        else:
            rest.append(problem)
    return rest


def _need(bulletin_id: int) -> Bulletin:
    bulletin = station_store(station_view.station()).get(bulletin_id)
    if bulletin is None:
        raise Http404(bulletin_id)
    return bulletin


def show(request, bulletin_id: int):
    bulletin = _need(bulletin_id)
    store = station_store(station_view.station())
    history = [(r, status_label(r.decision.value)) for r in store.records(bulletin_id=bulletin.id)]
    open_ = bulletin.status in (BulletinStatus.DRAFT, BulletinStatus.APPROVED)
    approved_by = next((r.by for r, _label in reversed(history) if r.decision == "approved"), "")
    return render(request, "web/bulletin.html", {
        "air_now": _air_now(bulletin, approved_by) if bulletin.status == BulletinStatus.APPROVED else "",
        "b": bulletin, "status": status_label(bulletin.status), "history": history,
        "edits": store.edits_of(bulletin.id), "voice": VOICE_LABELS.get(bulletin.voice, bulletin.voice),
        "may_decide": may(request.user, "bulletins.decide"), "is_draft": bulletin.status == BulletinStatus.DRAFT,
        "may_withdraw": open_, "may_edit": open_ and may(request.user, "bulletins.write")})


def _air_now(bulletin: Bulletin, approved_by: str) -> str:
    """The break-in page, filled in with this approved clip and a reason naming the bulletin and its approver
    (as `bulletin new --emergency --approve --air-now` gives play-now): that page confirms and sends it."""
    reason = f"thông báo #{bulletin.id} «{bulletin.title}», duyệt / approved: {approved_by}"
    return f"{reverse('breakin')}?{urlencode({'sha256': bulletin.audio_sha256, 'reason': reason})}"


def listen(request, bulletin_id: int):
    """The bulletin's audio, in the library or (rejected, withdrawn, replaced) among the retired files."""
    bulletin = _need(bulletin_id)
    st = station_view.station()
    library = station_library(st)
    item = library.get(bulletin.audio_sha256)
    if item is not None:
        path = st.paths.audio / item.file
    else:
        retired = next((meta for sha, meta in library.retired() if sha == bulletin.audio_sha256), None)
        if retired is None:
            raise Http404(bulletin_id)
        path = st.paths.audio / RETIRED_DIR / retired["file"]
    if not path.is_file():
        raise Http404(bulletin_id)
    return FileResponse(open(path, "rb"), filename=Path(path).name)  # noqa: SIM115 - the response closes it


@require_POST
@allowed("bulletins.decide")
def decide(request, bulletin_id: int):
    from broadcaster.bulletins import desk

    action = request.POST.get("decision", "")
    steps = {"approve": desk.approve_bulletin, "reject": desk.reject_bulletin, "withdraw": desk.withdraw_bulletin}
    if action not in steps:
        raise Http404(action)
    comment = request.POST.get("comment", "").strip()
    try:
        bulletin = steps[action](station_view.station(), bulletin_id, _person(request), comment)
    except BroadcasterError as err:
        for problem in err.problems:
            messages.error(request, said(problem))
        return redirect("bulletin", bulletin_id=bulletin_id)
    audit(request, f"bulletin.{action}", f"#{bulletin.id} {bulletin.title}",
          f"→ {bulletin.status}" + (f"; {comment}" if comment else "") + f"; audio sha256 {bulletin.audio_sha256[:12]}")
    messages.success(request, _("Bulletin #%(id)s: %(status)s") % {
        "id": bulletin.id, "status": said(status_label(bulletin.status))})
    return redirect("bulletin", bulletin_id=bulletin.id)
