"""Buổi phát & giờ cấm phát / slots and blackouts: forms that edit config.yaml.

An edit is checked by the same checker as `validate` (load_station on the proposed text), each message shown
next to its field; a 7-day plan of the proposed config is shown before anything is saved; the save keeps the
file's comments and key order and is refused if the file changed since the form was opened (config_edit).
The daemon sees the new file on its next poll (hot reload): nothing else is needed.
"""

from __future__ import annotations

import difflib
from datetime import date

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from broadcaster.problems import BroadcasterError, Problem
from broadcaster.station.config import load_station
from broadcaster.station.config_edit import WINDOW_KINDS, ConfigDocument, StaleEdit, WindowFields, save
from broadcaster.web import station_view, timeline
from broadcaster.web.roles import allowed, audit

WEEKDAY_CHOICES = [(str(n), label) for n, label in enumerate(("T2", "T3", "T4", "T5", "T6", "T7", "CN"))]
PREVIEW_DAYS = 7


class WindowForm(forms.Form):
    id = forms.SlugField(label=_("Code (id)"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    weekdays = forms.MultipleChoiceField(label=_("Weekdays"), choices=WEEKDAY_CHOICES,
                                         widget=forms.CheckboxSelectMultiple, required=True)
    start = forms.CharField(label=_("Start (HH:MM)"), max_length=8, required=False)
    end = forms.CharField(label=_("End (HH:MM)"), max_length=8, required=False)
    date_from = forms.DateField(label=_("From date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_until = forms.DateField(label=_("Until date"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    dates = forms.CharField(label=_("Only on these dates (YYYY-MM-DD, comma separated)"), required=False)
    playlist = forms.CharField(label=_("Playlist"), max_length=80, required=False)
    digest = forms.CharField(widget=forms.HiddenInput)

    def clean_dates(self) -> tuple[date, ...]:
        out = []
        for part in self.cleaned_data["dates"].replace(";", ",").split(","):
            if part.strip():
                try:
                    out.append(date.fromisoformat(part.strip()))
                except ValueError:
                    raise forms.ValidationError(_("Not a date: %(d)s (write YYYY-MM-DD)"), params={"d": part}) \
                        from None
        return tuple(sorted(set(out)))

    def fields_value(self) -> WindowFields:
        d = self.cleaned_data
        return WindowFields(d["id"], d["name"], tuple(int(x) for x in d["weekdays"]), d["start"].strip(),
                            d["end"].strip(), d["date_from"], d["date_until"], d["dates"], d["playlist"].strip())


def _initial(entry: dict, digest: str) -> dict:
    from broadcaster.station.schedule import parse_weekdays

    try:
        weekdays = sorted(parse_weekdays(entry.get("days")))
    except ValueError:
        weekdays = list(range(7))
    dates = entry.get("dates") or []
    return {"id": entry.get("id", ""), "name": entry.get("name", ""), "weekdays": [str(d) for d in weekdays],
            "start": str(entry.get("start", "") or ""), "end": str(entry.get("end", "") or ""),
            "date_from": entry.get("from"), "date_until": entry.get("until"),
            "dates": ", ".join(str(d) for d in (dates if isinstance(dates, list) else [dates])),
            "playlist": entry.get("playlist", ""), "digest": digest}


def schedule(request):
    doc = ConfigDocument.read(settings.STATION_CONFIG)
    try:
        warnings = load_station(settings.STATION_CONFIG).warnings
        broken = []
    except BroadcasterError as err:
        warnings, broken = [], err.problems
    return render(request, "web/schedule.html", {
        "slots": doc.windows("slots"), "blackouts": doc.windows("blackouts"), "warnings": warnings,
        "broken": broken, "file": settings.STATION_CONFIG.name})


def _kind(kind: str) -> str:
    if kind not in WINDOW_KINDS:
        raise Http404(kind)
    return kind


def edit_window(request, kind: str, window_id: str | None = None):
    """GET: the form on the file as it is now. POST: preview (check + 7-day plan), or save."""
    kind = _kind(kind)
    path = settings.STATION_CONFIG
    doc = ConfigDocument.read(path)
    if request.method != "POST":
        entry = {}
        if window_id is not None:
            entry = next((w for w in doc.windows(kind) if str(w.get("id")) == window_id), None)
            if entry is None:
                raise Http404(window_id)
        form = WindowForm(initial=_initial(entry, doc.digest) if entry else {
            "weekdays": [str(d) for d in range(7)], "digest": doc.digest})
        return _page(request, kind, window_id, form)
    return _post_window(request, kind, window_id)


@allowed("schedule.edit")
def _post_window(request, kind: str, window_id: str | None):
    path = settings.STATION_CONFIG
    form = WindowForm(request.POST)
    if not form.is_valid():
        return _page(request, kind, window_id, form)
    opened = ConfigDocument(path, path.read_text(encoding="utf-8"))
    try:
        new_text = opened.with_window(kind, window_id, form.fields_value())
    except BroadcasterError as err:
        return _page(request, kind, window_id, form, top=err.problems)
    return _check_and_maybe_save(request, kind, window_id, form, opened, new_text,
                                 f"{kind}/{form.cleaned_data['id']}")


@allowed("schedule.edit")
def delete_window(request, kind: str, window_id: str):
    kind = _kind(kind)
    path = settings.STATION_CONFIG
    opened = ConfigDocument.read(path)
    if request.method != "POST":
        return _page(request, kind, window_id, None, deleting=True, digest=opened.digest,
                     **_preview(opened, opened.without_window(kind, window_id)))
    digest = request.POST.get("digest", "")
    new_text = opened.without_window(kind, window_id)
    return _check_and_maybe_save(request, kind, window_id, None, opened, new_text, f"{kind}/{window_id} (removed)",
                                 digest=digest)


def _check_and_maybe_save(request, kind, window_id, form, opened: ConfigDocument, new_text: str, target: str,
                          digest: str | None = None):
    digest = digest if digest is not None else form.cleaned_data["digest"]
    preview = _preview(opened, new_text)
    errors = [p for p in preview["problems"] if p.severity == "error"]
    top = _attach(form, kind, new_text, preview["problems"]) if form is not None else preview["problems"]
    if request.POST.get("action") != "save" or errors:
        return _page(request, kind, window_id, form, top=top, deleting=form is None, digest=digest, **preview)
    try:
        old_text = save(opened.path, new_text, digest)
    except StaleEdit as err:
        return _page(request, kind, window_id, form, top=err.problems, stale=True, deleting=form is None,
                     digest=digest)
    audit(request, "schedule.save", f"{opened.path.name} {target}", _diff(old_text, new_text, opened.path.name))
    messages.success(request, _("Saved. The playout daemon picks the change up by itself."))
    return redirect("schedule")


def _preview(opened: ConfigDocument, new_text: str) -> dict:
    """The same checks as `validate` on the proposed text, and its 7-day plan."""
    try:
        candidate = load_station(opened.path, new_text)
    except BroadcasterError as err:
        return {"problems": err.problems, "diff": _diff(opened.text, new_text, opened.path.name)}
    out = {"problems": list(candidate.warnings), "diff": _diff(opened.text, new_text, opened.path.name)}
    try:
        from broadcaster.planning.inputs import planner_inputs
        from broadcaster.planning.planner import plan_days

        playlists, items = planner_inputs(candidate)
        if any(s.playlist not in playlists for s in candidate.slots):
            missing = sorted({s.playlist for s in candidate.slots} - set(playlists))
            out["problems"].append(Problem(
                str(opened.path), f"không có danh sách phát '{missing[0]}'", f"no playlist '{missing[0]}'",
                f"có: {', '.join(sorted(playlists))}", f"there are: {', '.join(sorted(playlists))}",
                field="playlist"))
            return out
        first = station_view.now(candidate).date()
        out["preview"] = timeline.rows(plan_days(candidate, playlists, items, first, PREVIEW_DAYS))
    except BroadcasterError as err:
        out["problems"].extend(err.problems)
    return out


def _attach(form: WindowForm, kind: str, new_text: str, problems: list[Problem]) -> list[Problem]:
    """Put each problem about the edited entry next to its field; return the others."""
    entry_id = form.cleaned_data["id"]
    ids = [str(w.get("id")) for w in ConfigDocument(settings.STATION_CONFIG, new_text).windows(kind)]
    index = ids.index(entry_id) if entry_id in ids else -1
    field_of = {"id": "id", "name": "name", "days": "weekdays", "start": "start", "end": "end", "from": "date_from",
                "until": "date_until", "dates": "dates", "playlist": "playlist"}
    rest = []
    for problem in problems:
        name = problem.field or ""
        key = None
        if name.startswith(f"{kind}[{index}]."):
            key = field_of.get(name.split(".", 1)[1])
        elif name.startswith(f"{kind}[{index}]"):
            key = "start"
        elif name == f"{kind}.{entry_id}" or (kind == "slots" and name == "playlist"):
            key = "playlist" if name == "playlist" else "start"
        elif kind == "blackouts" and name.startswith("slots.") and f"'{entry_id}'" in problem.message_en:
            key = "start"  # a slot this blackout clips
        if key:
            form.add_error(key, _problem_text(problem))
        else:
            rest.append(problem)
    return rest


def _problem_text(problem: Problem) -> str:
    from broadcaster.web.templatetags.console import said

    return ("⚠ " if problem.severity == "warning" else "") + said(problem)


def _diff(old: str, new: str, name: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{name}", f"b/{name}"))


def _page(request, kind, window_id, form, *, top=(), deleting=False, stale=False, digest="", **preview):
    return render(request, "web/window_form.html", {
        "kind": kind, "window_id": window_id, "form": form, "top": top, "deleting": deleting, "stale": stale,
        "digest": digest, "problems": preview.get("problems", []), "preview": preview.get("preview"),
        "preview_svg": timeline.svg(preview["preview"]) if preview.get("preview") else "",
        "diff": preview.get("diff", ""), "can_save": preview.get("preview") is not None and not any(
            p.severity == "error" for p in preview.get("problems", []))})
