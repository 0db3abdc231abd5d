"""Editing one `playlists/*.yaml` from the console's form, keeping the operator's comments and key order.

As config_edit.py does for config.yaml: the file is read with ruamel.yaml's round-trip mode, the form's values
are set in place (a key or entry the form did not change keeps its place, its quoting and its comment; a key
the form has no box for, such as a step's `bed`, is left alone), and `config_edit.save` writes it only if the
file is still the copy the form was opened on. Values are written as typed; the playlist checker
(`load_playlist`, what `validate` runs) then says what is wrong with them, field by field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from broadcaster.station.yaml_edit import YamlDocument, hand_on_trailing_comment

STEP_PARTS = ("open", "sequence", "close")
STEP_KEYS = ("category", "title", "file")
DEFAULT_ORDER = "rotate"  # what load_playlist reads when `order:` is left out
TITLE_MARK = " | "  # "ident | Mở đầu chương trình": a category, then the title of the item wanted


@dataclass(frozen=True)
class CategoryFields:
    name: str
    plays_per_day: str = ""
    min_separation_minutes: str = ""


@dataclass(frozen=True)
class ItemFields:
    """An item rule as the form writes it; `sha256` is never typed, only kept from the file."""

    title: str = ""
    file: str = ""
    weight: str = ""
    plays_per_day: str = ""
    min_separation_minutes: str = ""
    days: str = ""
    valid_from: str = ""
    valid_until: str = ""
    hours: str = ""


@dataclass(frozen=True)
class PlaylistFields:
    name: str
    order: str
    open: tuple[dict, ...] = ()
    sequence: tuple[dict, ...] = ()
    close: tuple[dict, ...] = ()
    fill: str = ""
    categories: tuple[CategoryFields, ...] = ()
    items: tuple[ItemFields, ...] = ()


def parse_steps(text: str) -> tuple[dict, ...]:
    """One step a line: `bluezone`, `ident | Mở đầu chương trình` (category and title) or `file: chuong/x.wav`."""
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("file:"):
            steps.append({"file": line[5:].strip()})
        elif TITLE_MARK.strip() in line:
            category, _, title = line.partition(TITLE_MARK.strip())
            steps.append({"category": category.strip(), "title": title.strip()})
        else:
            steps.append({"category": line})
    return tuple(steps)


def steps_text(entries: object) -> str:
    """The file's steps as the form's lines (the reverse of parse_steps)."""
    lines = []
    for entry in entries if isinstance(entries, list | tuple) else ():
        if isinstance(entry, str):
            lines.append(entry)
        elif isinstance(entry, dict) and entry.get("file") and not entry.get("category"):
            lines.append(f"file: {entry['file']}")
        elif isinstance(entry, dict):
            title = entry.get("title")
            lines.append(f"{entry.get('category', '')}{TITLE_MARK}{title}" if title else str(entry.get("category", "")))
    return "\n".join(lines)


def _typed(text: str, kind: str = "number") -> object:
    """A form's text as YAML writes it: None (leave the key out), an int, a float, a date, or the text itself
    (the checker then names what is wrong with it)."""
    text = text.strip()
    if not text:
        return None
    if kind == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return text
    if kind in ("number", "quota") and re.fullmatch(r"-?\d+", text):
        return int(text)
    if kind == "number" and re.fullmatch(r"-?\d+\.\d*", text):
        return float(text)
    return text


def _set(mapping: CommentedMap, key: str, value: object) -> None:
    if value is None:
        mapping.pop(key, None)
    elif key not in mapping or mapping[key] != value:
        mapping[key] = value  # an existing key keeps its place and its end-of-line comment


def _append(entries: CommentedSeq | CommentedMap, key, value: CommentedMap) -> None:
    """Add an entry at the end; the comment lines that followed the old last entry move below the new one."""
    if isinstance(entries, CommentedSeq):
        entries.append(value)
        if len(entries) > 1 and not isinstance(entries[-2], CommentedMap):
            _lines_to_map(_cut_lines_after(entries, len(entries) - 2), value)
        else:
            hand_on_trailing_comment(entries[-2] if len(entries) > 1 else None, value)
        return
    before = entries[list(entries.keys())[-1]] if entries else None
    entries[key] = value
    hand_on_trailing_comment(before, value)


def _drop(entries: CommentedSeq | CommentedMap, key) -> None:
    """Remove an entry; if it was the last, the comment lines after it stay, on the entry before it."""
    keys = list(entries.keys()) if isinstance(entries, CommentedMap) else list(range(len(entries)))
    if key == keys[-1] and len(keys) > 1:
        previous = entries[keys[-2]]
        if isinstance(entries, CommentedSeq) and not isinstance(entries[key], CommentedMap):
            lines = _cut_lines_after(entries, key)
            if isinstance(previous, CommentedMap):
                _lines_to_map(lines, previous)
            elif lines:
                _lines_to_plain(entries, keys[-2], lines)
        else:
            hand_on_trailing_comment(entries[key], previous)
    del entries[key]
    if isinstance(entries, CommentedSeq):
        entries.ca.items.pop(key, None)


def _cut_lines_after(entries: CommentedSeq, index: int) -> str:
    """The comment lines after a plain `- x` entry (ruamel keeps them on the list), taken off it."""
    slot = entries.ca.items.get(index)
    token = slot[0] if slot else None
    if token is None or "\n" not in token.value:
        return ""
    own, _, rest = token.value.partition("\n")  # the end-of-line comment stays with its line
    token.value = own + "\n"
    return rest


def _lines_to_map(lines: str, mapping: CommentedMap) -> None:
    if not lines or not mapping:
        return
    key = list(mapping.keys())[-1]
    slot = mapping.ca.items.get(key)
    if slot and slot[2] is not None:
        slot[2].value = slot[2].value.rstrip("\n") + "\n" + lines
        return
    mapping.yaml_add_eol_comment("#", key)  # makes the comment slot, then fill it in
    mapping.ca.items[key][2].value = "\n" + lines


def _lines_to_plain(entries: CommentedSeq, index: int, lines: str) -> None:
    slot = entries.ca.items.get(index)
    if slot and slot[0] is not None:
        slot[0].value = slot[0].value.rstrip("\n") + "\n" + lines
        return
    entries.yaml_add_eol_comment("#", index)
    entries.ca.items[index][0].value = "\n" + lines


class PlaylistDocument(YamlDocument):
    """One reading of a playlist file: its text, the hash of that text, and round-trip edits of it."""

    NOT_A_MAPPING = ("danh sách phát phải là một bảng khóa: giá trị", "a playlist must be a mapping")

    def fields(self) -> PlaylistFields:
        """What the form shows first: the file as it is."""
        root = self._document().data
        cats = root.get("categories") if isinstance(root.get("categories"), dict) else {}
        items = root.get("items") if isinstance(root.get("items"), list) else []
        return PlaylistFields(
            name=str(root.get("name", "")), order=str(root.get("order", DEFAULT_ORDER)),
            **{part: tuple(dict(e) if isinstance(e, dict) else {"category": e} for e in root.get(part) or [])
               for part in STEP_PARTS},
            fill=str(root.get("fill") or ""),
            categories=tuple(CategoryFields(str(name), _shown(rule, "plays_per_day"),
                                            _shown(rule, "min_separation_minutes"))
                             for name, rule in cats.items()),
            items=tuple(ItemFields(_shown(i, "title"), _shown(i, "file"), _shown(i, "weight"),
                                   _shown(i, "plays_per_day"), _shown(i, "min_separation_minutes"),
                                   _shown(i, "days"), _shown(i, "from"), _shown(i, "until"), _shown(i, "hours"))
                        for i in items))

    def with_fields(self, f: PlaylistFields) -> str:
        """The text with the form's values, everything else as the file has it."""
        document = self._document()
        root = document.data
        _set(root, "name", f.name.strip() or None)
        if "order" in root or f.order.strip() != DEFAULT_ORDER:  # the default is not written in for the reader
            _set(root, "order", f.order.strip() or None)
        for part in STEP_PARTS:
            self._steps(root, part, getattr(f, part))
        _set(root, "fill", f.fill.strip() or None)
        self._categories(root, f.categories)
        self._items(root, f.items)
        return document.text()

    @staticmethod
    def _steps(root: CommentedMap, part: str, steps: tuple[dict, ...]) -> None:
        entries = root.get(part)
        if not steps:
            root.pop(part, None)
            return
        if not isinstance(entries, CommentedSeq):
            entries = root[part] = CommentedSeq()
        for index, step in enumerate(steps):
            wanted = {k: step.get(k) or None for k in STEP_KEYS}
            if index >= len(entries):
                _append(entries, None, CommentedMap((k, v) for k, v in wanted.items() if v))
            elif isinstance(entries[index], CommentedMap):
                for key, value in wanted.items():
                    _set(entries[index], key, value)
            elif entries[index] != wanted["category"] or wanted["title"] or wanted["file"]:
                entries[index] = CommentedMap((k, v) for k, v in wanted.items() if v)  # was the `- x` shorthand
        while len(entries) > len(steps):
            _drop(entries, len(entries) - 1)

    @staticmethod
    def _categories(root: CommentedMap, rows: tuple[CategoryFields, ...]) -> None:
        rows = tuple(r for r in rows if r.name.strip())
        cats = root.get("categories")
        if not rows:
            root.pop("categories", None)
            return
        if not isinstance(cats, CommentedMap):
            cats = root["categories"] = CommentedMap()
        wanted = {r.name.strip(): r for r in rows}
        for name in [n for n in cats if n not in wanted]:
            _drop(cats, name)
        for name, row in wanted.items():
            values = {"plays_per_day": _typed(row.plays_per_day, "quota"),
                      "min_separation_minutes": _typed(row.min_separation_minutes)}
            rule = cats.get(name)
            if isinstance(rule, CommentedMap):
                for key, value in values.items():
                    _set(rule, key, value)
            else:
                _append(cats, name, CommentedMap((k, v) for k, v in values.items() if v is not None))

    @staticmethod
    def _items(root: CommentedMap, rows: tuple[ItemFields, ...]) -> None:
        entries = root.get("items")
        if not rows:
            root.pop("items", None)
            return
        if not isinstance(entries, CommentedSeq):
            entries = root["items"] = CommentedSeq()
        for index, row in enumerate(rows):
            values = {"title": row.title.strip() or None, "file": row.file.strip() or None,
                      "weight": _typed(row.weight), "plays_per_day": _typed(row.plays_per_day, "quota"),
                      "min_separation_minutes": _typed(row.min_separation_minutes),
                      "days": row.days.strip() or None, "from": _typed(row.valid_from, "date"),
                      "until": _typed(row.valid_until, "date"), "hours": row.hours.strip() or None}
            if index < len(entries) and isinstance(entries[index], CommentedMap):
                for key, value in values.items():
                    _set(entries[index], key, value)
            else:
                _append(entries, None, CommentedMap((k, v) for k, v in values.items() if v is not None))
        while len(entries) > len(rows):
            _drop(entries, len(entries) - 1)


def _shown(mapping: object, key: str) -> str:
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return "" if value is None else str(value)
