"""Thư viện / library: search and filter, listen, upload (the CLI's ingest), edit, retire and restore."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from broadcaster.bulletins.approval import Person, approval_on_arrival, record_arrival
from broadcaster.bulletins.settings import approval_settings
from broadcaster.library.catalogue import AUDIO_EXTENSIONS, station_library
from broadcaster.model import LEVELS, Approval
from broadcaster.problems import BroadcasterError, Problem
from broadcaster.web import station_view
from broadcaster.web.roles import allowed, audit, role_of
from broadcaster.web.views.approvals import waiting_clips

LOCAL_SOURCE = "local"  # what `python main.py ingest` records by default: the commune's own audio


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def library(request):
    st = station_view.station()
    lib = station_library(st)
    items = lib.items()
    q = request.GET.get("q", "").strip().lower()
    category = request.GET.get("category", "")
    validity = request.GET.get("validity", "")
    priority = request.GET.get("priority", "")
    today = station_view.now(st).date()
    shown = [i for i in items
             if (not q or q in i.title.lower() or q in i.file.lower())
             and (not category or i.category == category)
             and (not priority or i.priority == priority)
             and (not validity or _validity(i, today) == validity)]
    return render(request, "web/library.html", {
        "items": shown, "total": len(items), "categories": sorted({i.category for i in items}),
        "levels": LEVELS, "q": q, "category": category, "validity": validity, "priority": priority,
        "waiting": len(waiting_clips(items)), "retired": lib.retired(), "extensions": ", ".join(AUDIO_EXTENSIONS),
        "max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024), "today": today})


def _validity(item, today: date) -> str:
    if item.valid_until and item.valid_until < today:
        return "expired"
    if item.valid_from and item.valid_from > today:
        return "future"
    return "valid"


def listen(request, sha256: str):
    """The item's audio, looked up by its hash: no path from the browser is ever opened."""
    st = station_view.station()
    item = station_library(st).get(sha256)
    if item is None:
        raise Http404(sha256)
    path = st.paths.audio / item.file
    if not path.is_file():
        raise Http404(sha256)
    return FileResponse(open(path, "rb"), filename=Path(item.file).name)  # noqa: SIM115 - the response closes it


@require_POST
@allowed("library.change")
def upload(request):
    """One or many files through the same ingest as `python main.py ingest`; a result per file."""
    st = station_view.station()
    lib = station_library(st)
    category = request.POST.get("category", "").strip()
    priority = request.POST.get("priority", "normal")
    valid_from, valid_until = _day(request.POST.get("valid_from")), _day(request.POST.get("valid_until"))
    files = request.FILES.getlist("files")
    results = []
    if not files:
        results.append({"name": "", "ok": False, "text": (
            "Chưa chọn tệp nào", "No file chosen")})
    person = Person(request.user.get_username(), role_of(request.user))
    try:
        approval = approval_on_arrival(approval_settings(st), LOCAL_SOURCE, person)
    except BroadcasterError as err:  # a broken approval: section in config.yaml; nothing is taken in
        files = []
        results.append({"name": "", "ok": False, "text": _about("config.yaml", err.problems[0])})
    for upload_file in files:
        results.append(_ingest_one(request, lib, st, upload_file, category, priority, valid_from, valid_until,
                                   person, approval))
    template = "web/_upload_results.html" if request.htmx else "web/upload_done.html"
    return render(request, template, {"results": results})


def _ingest_one(request, lib, st, upload_file, category, priority, valid_from, valid_until, person: Person,
                approval: Approval) -> dict:
    name = Path(upload_file.name).name  # shown and used as the default title only, never as a path
    suffix = Path(name).suffix.lower()
    if suffix not in AUDIO_EXTENSIONS:
        return {"name": name, "ok": False, "text": (
            f"đuôi tệp '{suffix}' không được nhận (dùng {', '.join(AUDIO_EXTENSIONS)})",
            f"file type '{suffix}' not accepted (use {', '.join(AUDIO_EXTENSIONS)})")}
    if upload_file.size > settings.UPLOAD_MAX_BYTES:
        mb = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
        return {"name": name, "ok": False, "text": (f"tệp lớn hơn {mb} MB", f"file is larger than {mb} MB")}
    spool = st.paths.state / "web-uploads"
    spool.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=spool) as folder:
        tmp = Path(folder) / f"upload{suffix}"  # our own name: the browser's name is not a path here
        with open(tmp, "wb") as out:
            for chunk in upload_file.chunks():
                out.write(chunk)
        try:
            result = lib.ingest(tmp, category=category, title=Path(name).stem, valid_from=valid_from,
                                valid_until=valid_until, priority=priority, source=LOCAL_SOURCE,
                                target_lufs=st.audio.target_lufs, approval=approval)
            if result.added:
                record_arrival(st, result.item, person)  # an approver's upload is approved, with its record
        except BroadcasterError as err:
            problem = err.problems[0]
            return {"name": name, "ok": False, "text": _about(name, problem)}
    item = result.item
    audit(request, "library.upload", item.file, f"{name} → {item.file} ({'added' if result.added else 'already in'},"
          f" {item.approval}, {item.duration:.1f} s, {item.loudness_lufs:.1f} LUFS, sha256 {item.sha256[:12]})")
    if result.added:
        waits = item.approval == Approval.PENDING
        return {"name": name, "ok": True, "item": item, "text": (
            f"đã thêm → {item.file} ({item.loudness_lufs:.1f} LUFS, gain {item.gain_db:+.1f} dB)"
            + ("; chờ duyệt, chưa được phát" if waits else ""),
            f"added → {item.file} ({item.loudness_lufs:.1f} LUFS, gain {item.gain_db:+.1f} dB)"
            + ("; waits for approval, does not air yet" if waits else ""))}
    return {"name": name, "ok": True, "item": item, "text": (
        f"đã có trong thư viện: {item.file} (cùng nội dung)", f"already in the library as {item.file} (same audio)")}


def _about(name: str, problem: Problem) -> tuple[str, str]:
    """Ingest's message, with the temporary path it names replaced by the browser's file name."""
    vi = problem.message_vi + (f" → {problem.hint_vi}" if problem.hint_vi else "")
    en = problem.message_en + (f" → {problem.hint_en}" if problem.hint_en else "")
    return f"{name}: {vi}", f"{name}: {en}"


@require_POST
@allowed("library.change")
def edit(request, sha256: str):
    st = station_view.station()
    lib = station_library(st)
    before = lib.get(sha256)
    if before is None:
        raise Http404(sha256)
    try:
        item = lib.set_details(sha256, title=request.POST.get("title", before.title),
                               category=request.POST.get("category", before.category).strip())
        item = lib.set_validity(sha256, _day(request.POST.get("valid_from")), _day(request.POST.get("valid_until")))
    except BroadcasterError as err:
        for problem in err.problems:
            messages.error(request, f"{item_name(before)}: {_about('', problem)[0 if _vi() else 1]}")
        return redirect("library")
    audit(request, "library.edit", item.file, f"title {before.title!r} → {item.title!r}; category {before.category} → "
          f"{item.category}; valid {before.valid_from}..{before.valid_until} → {item.valid_from}..{item.valid_until}")
    messages.success(request, _("Saved: %(t)s") % {"t": item.title})
    return redirect("library")


@require_POST
@allowed("library.change")
def shelve(request, sha256: str, back: bool):
    """Retire an item (out of rotation, to audio/.retired/) or, `back`, restore it; nothing is deleted."""
    st = station_view.station()
    lib = station_library(st)
    try:
        if back:
            item = lib.restore(sha256, target_lufs=st.audio.target_lufs)
        else:
            item = lib.get(sha256)
            if item is None:
                raise Http404(sha256)
            lib.remove(sha256)
    except BroadcasterError as err:
        messages.error(request, _about("", err.problems[0])[0 if _vi() else 1])
        return redirect("library")
    if back:
        audit(request, "library.restore", item.file, f"{item.title} ({item.sha256[:12]}) back from audio/.retired/")
        messages.success(request, _("Restored: %(t)s") % {"t": item.title})
    else:
        audit(request, "library.retire", item.file, f"{item.title} ({item.sha256[:12]}) → audio/.retired/")
        messages.success(request, _("Retired: %(t)s") % {"t": item.title})
    return redirect("library")


def item_name(item) -> str:
    return item.title


def _vi() -> bool:
    from django.utils import translation

    return translation.get_language() != "en"


