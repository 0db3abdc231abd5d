"""Danh sách phát / playlists: each playlist as the planner reads it (open, sequence, close, fill, quotas,
separation, item rules), which slots use it, and a form that edits its file.

An edit is checked by the playlist checker `validate` runs (load_playlist on the proposed text), each message
next to its box; the save keeps the file's comments and key order and is refused if the file changed since the
form was opened (station/playlist_edit.py, config_edit.save). The daemon re-plans when the folder changes.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from broadcaster.problems import BroadcasterError, Problem
from broadcaster.station.config_edit import StaleEdit, save
from broadcaster.station.playlist_edit import (
    STEP_PARTS,
    CategoryFields,
    ItemFields,
    PlaylistDocument,
    PlaylistFields,
    parse_steps,
    steps_text,
)
from broadcaster.station.playlists import ORDERS, load_playlist, load_playlists
from broadcaster.web import station_view
from broadcaster.web.roles import allowed, audit
from broadcaster.web.templatetags.console import said

ITEM_KEYS = ("title", "file", "weight", "plays_per_day", "min_separation_minutes", "days", "valid_from",
             "valid_until", "hours")
ITEM_BOXES = tuple(zip(ITEM_KEYS, (24, 16, 3, 6, 5, 8, 10, 10, 11)))  # (box, its width in characters)
# the checker's key in an item rule -> the form's box
ITEM_BOX = {"from": "valid_from", "until": "valid_until", "start": "hours", "end": "hours"}


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
    return render(request, "web/playlists.html", {
        "playlists": [(p, Path(p.file).stem) for p in sorted(found.values(), key=lambda p: p.id)],
        "used": used, "broken": broken, "files": [p.stem for p in _files(st)]})


def _files(st) -> list[Path]:
    folder = st.paths.playlists
    return [p for p in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
            if not p.name.startswith(("_", "."))]


def _file(name: str) -> Path:
    """The playlist file named by the URL, picked from the folder's listing: the browser's text is never a path."""
    found = next((p for p in _files(station_view.station()) if p.stem == name), None)
    if found is None:
        raise Http404(name)
    return found


@dataclass
class Row:
    values: dict
    old: bool = True  # a row of the file (kept unless deleted) or the blank row for a new entry
    errors: dict = field(default_factory=dict)
    deleted: bool = False

    def add_error(self, key: str, text: str) -> None:
        self.errors.setdefault(key, []).append(text)


@dataclass
class PlaylistForm:
    """The form's values as typed, with the problems placed next to their boxes."""

    top: dict
    categories: list[Row]
    items: list[Row]
    digest: str
    errors: dict = field(default_factory=dict)

    @classmethod
    def of(cls, document: PlaylistDocument) -> PlaylistForm:
        f = document.fields()
        top = {"name": f.name, "order": f.order, "fill": f.fill} | {p: steps_text(getattr(f, p)) for p in STEP_PARTS}
        return cls(top, [Row(vars(c).copy()) for c in f.categories] + [Row(vars(CategoryFields("")), old=False)],
                   [Row(vars(i).copy()) for i in f.items] + [Row(vars(ItemFields()), old=False)], document.digest)

    @classmethod
    def posted(cls, post) -> PlaylistForm:
        top = {key: post.get(key, "") for key in ("name", "order", "fill", *STEP_PARTS)}
        names, plays, seps = post.getlist("cat_name"), post.getlist("cat_plays"), post.getlist("cat_sep")
        categories = [Row({"name": n, "plays_per_day": p, "min_separation_minutes": s})
                      for n, p, s in zip(names, plays, seps)]
        deleted = set(post.getlist("item_delete"))
        columns = [post.getlist(f"item_{key}") for key in ITEM_KEYS]
        kinds = post.getlist("item_kind")
        items = [Row(dict(zip(ITEM_KEYS, values)), old=kind == "old", deleted=str(n) in deleted)
                 for n, (kind, *values) in enumerate(zip(kinds, *columns))]
        return cls(top, categories, items, post.get("digest", ""))

    def kept_items(self) -> list[Row]:
        return [r for r in self.items if not r.deleted and (r.old or any(v.strip() for v in r.values.values()))]

    def fields(self) -> PlaylistFields:
        return PlaylistFields(
            name=self.top["name"], order=self.top["order"], fill=self.top["fill"],
            **{part: parse_steps(self.top[part]) for part in STEP_PARTS},
            categories=tuple(CategoryFields(**r.values) for r in self.categories),
            items=tuple(ItemFields(**r.values) for r in self.kept_items()))

    def attach(self, problems: list[Problem]) -> list[Problem]:
        """Each problem next to the box it is about; return those about no box (a YAML error, the whole file)."""
        rest = []
        by_name = {r.values.get("name", "").strip(): r for r in self.categories}
        kept = self.kept_items()
        for problem in problems:
            text = ("⚠ " if problem.severity == "warning" else "") + said(problem)
            name = problem.field or ""
            head, _, key = name.partition(".")
            part = head.split("[", 1)[0]
            if head in ("name", "order", "fill") or part in STEP_PARTS:
                self.errors.setdefault(part, []).append(text)
            elif part == "categories" and key:
                category, _, box = key.rpartition(".") if key.count(".") else (key, "", "name")
                row = by_name.get(category) or by_name.get(key)
                if row is None:
                    rest.append(problem)
                else:
                    row.add_error(box if box in ("plays_per_day", "min_separation_minutes") else "name", text)
            elif part == "items" and "[" in head:
                index = int(head.split("[", 1)[1].rstrip("]"))
                if index < len(kept):
                    kept[index].add_error(ITEM_BOX.get(key, key) if key in ITEM_KEYS or key in ITEM_BOX else "title",
                                          text)
                else:
                    rest.append(problem)
            else:
                rest.append(problem)
        return rest


def edit_playlist(request, name: str):
    path = _file(name)
    if request.method != "POST":
        try:
            form = PlaylistForm.of(PlaylistDocument.read(path))
        except BroadcasterError as err:
            return _page(request, path, None, top=err.problems)
        return _page(request, path, form)
    return _post(request, path)


@allowed("playlists.edit")
def _post(request, path: Path):
    form = PlaylistForm.posted(request.POST)
    opened = PlaylistDocument.read(path)
    try:
        new_text = opened.with_fields(form.fields())
    except BroadcasterError as err:
        return _page(request, path, form, top=err.problems)
    try:
        load_playlist(path, new_text)  # what `validate` checks each playlist with
        problems = []
    except BroadcasterError as err:
        problems = err.problems
    top = form.attach(problems)
    diff = _diff(opened.text, new_text, path.name)
    if problems or request.POST.get("action") != "save":
        return _page(request, path, form, top=top, diff=diff, checked=not problems)
    try:
        old_text = save(path, new_text, form.digest)
    except StaleEdit as err:
        return _page(request, path, form, top=err.problems, stale=True)
    audit(request, "playlists.save", f"playlists/{path.name}", _diff(old_text, new_text, path.name))
    messages.success(request, _("Saved. The playout daemon picks the change up by itself."))
    return redirect("playlists")


def _diff(old: str, new: str, name: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{name}", f"b/{name}"))


def _page(request, path: Path, form: PlaylistForm | None, *, top=(), diff: str = "", checked: bool = False,
          stale: bool = False):
    return render(request, "web/playlist_form.html", {
        "file": f"playlists/{path.name}", "name": path.stem, "form": form, "top": top, "diff": diff,
        "checked": checked, "stale": stale, "orders": ORDERS, "parts": STEP_PARTS, "item_boxes": ITEM_BOXES})
