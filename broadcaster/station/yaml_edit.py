"""Editing an operator's YAML file (config.yaml, playlists/) by program, keeping its comments and key order.

`load_for_edit` gives the document as ruamel.yaml's round-trip mappings (dict-like, commented); change values
in place and `save` writes it back atomically. The same rules as reading for playout hold: YAML 1.2, and a key
written twice is refused with both lines. The indentation the file uses is kept, and lines are never re-wrapped.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import Node
from ruamel.yaml.util import load_yaml_guess_indent

from broadcaster.files import write_atomic
from broadcaster.problems import BroadcasterError, Problem
from broadcaster.station.yamlio import DuplicateKeys, duplicate_keys, read_text, yaml_errors


class _Constructor(RoundTripConstructor):
    def construct_document(self, node: Node):
        found = duplicate_keys(node)
        if found:
            raise DuplicateKeys(found)
        return super().construct_document(node)


@dataclass
class EditableYaml:
    """One YAML file being edited: `data` is its top-level value (a CommentedMap for config.yaml)."""

    path: Path
    data: object
    mapping_indent: int = 2
    sequence_indent: int = 4
    sequence_dash_offset: int = 2

    def _writer(self) -> YAML:
        yaml = YAML(typ="rt", pure=True)
        yaml.width = 4096  # never re-wrap an operator's long line
        yaml.preserve_quotes = True
        yaml.indent(mapping=self.mapping_indent, sequence=self.sequence_indent, offset=self.sequence_dash_offset)
        return yaml

    def text(self) -> str:
        out = io.StringIO()
        self._writer().dump(self.data, out)
        return out.getvalue()


def _reader() -> YAML:
    yaml = YAML(typ="rt", pure=True)
    yaml.preserve_quotes = True
    yaml.Constructor = _Constructor
    return yaml


def _mapping_indent(text: str) -> int:
    """How far the file indents a mapping inside a mapping (ruamel's own guess looks at sequences only)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    for parent, child in zip(lines, lines[1:]):
        opens_mapping = parent.split("#", 1)[0].rstrip().endswith(":") and not parent.lstrip().startswith("- ")
        step = len(child) - len(child.lstrip()) - (len(parent) - len(parent.lstrip()))
        if opens_mapping and step > 0 and not child.lstrip().startswith("- "):
            return step
    return 2


def load_for_edit(path: str | Path, text: str | None = None) -> EditableYaml:
    """Read `path` for editing; a syntax error or a repeated key is a BroadcasterError with file and lines.
    `text`: the file's content as already read (the console edits the copy whose hash its form carries)."""
    path = Path(path)
    if text is None:
        text = read_text(path)
    try:
        data = _reader().load(text)
        _, sequence_indent, dash_offset = load_yaml_guess_indent(text)
    except (YAMLError, DuplicateKeys) as err:
        raise yaml_errors(path, err) from None
    return EditableYaml(path, data, _mapping_indent(text), sequence_indent or 2, dash_offset or 0)


def save(document: EditableYaml, path: str | Path | None = None) -> None:
    """Write the document to `path` (default: where it was read) atomically, keeping the file's mode."""
    write_atomic(path or document.path, document.text())


def hand_on_trailing_comment(before: object, after: CommentedMap) -> None:
    """ruamel keeps the lines after a list or mapping (a blank line, the next section's heading comment) on its
    last entry: a new last entry takes them over, so the heading stays above its section."""
    if not isinstance(before, CommentedMap) or not before or not after:
        return
    last = list(before.keys())[-1]
    token = (before.ca.items.get(last) or [None, None, None, None])[2]
    if token is None or "\n" not in token.value:
        return
    own, _, rest = token.value.partition("\n")  # the end-of-line comment stays with its line
    if not rest:
        return
    token.value = own + "\n"
    key = list(after.keys())[-1]
    mine = (after.ca.items.get(key) or [None, None, None, None])[2]
    if mine is not None:
        mine.value = mine.value.rstrip("\n") + "\n" + rest
        return
    after.yaml_add_eol_comment("#", key)  # makes the comment slot, then fill it in
    after.ca.items[key][2].value = "\n" + rest


def digest_of(text: str) -> str:
    """The hash a form keeps of the file it was opened from: a save from a stale copy is refused."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class YamlDocument:
    """One reading of an operator's YAML file: its text, the hash of that text, and round-trip edits of it.
    Subclasses name what the file must be (a mapping) in NOT_A_MAPPING (vi, en)."""

    NOT_A_MAPPING = ("tệp phải là một bảng khóa: giá trị", "the file must be a mapping")

    def __init__(self, path: Path, text: str):
        self.path = Path(path)
        self.text = text
        self.digest = digest_of(text)

    @classmethod
    def read(cls, path: Path):
        return cls(path, Path(path).read_text(encoding="utf-8"))

    def _document(self) -> EditableYaml:
        document = load_for_edit(self.path, self.text)
        if not isinstance(document.data, CommentedMap):
            raise BroadcasterError([Problem(str(self.path), *self.NOT_A_MAPPING)])
        return document
