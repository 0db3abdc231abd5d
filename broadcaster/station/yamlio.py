"""Safe YAML 1.2 reading that remembers line numbers and refuses a key written twice.

YAML 1.2 (ruamel.yaml) reads unquoted 05:30 as text, not the base-60 integer 330 of YAML 1.1, and only
true/false as booleans, so `id: on` stays "on". A key written twice in one mapping is an error naming both
lines: a YAML parser would silently keep the second, and the operator would never know which one airs.
Mappings come back as `Located` dicts that know the line of each key, so errors can point at the line an
operator has to fix.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from broadcaster.problems import BroadcasterError, Problem

_MAP_TAG = "tag:yaml.org,2002:map"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class Located(dict):
    """A mapping from YAML with the 1-based line of the mapping and of each key."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


@dataclass(frozen=True)
class DuplicateKey:
    key: str
    first_line: int
    second_line: int


class DuplicateKeys(Exception):
    """Raised by the constructors below, before any value is built, with every repeated key in the document."""

    def __init__(self, found: list[DuplicateKey]):
        super().__init__(", ".join(f"{d.key!r} on lines {d.first_line} and {d.second_line}" for d in found))
        self.found = found


def duplicate_keys(root: Node) -> list[DuplicateKey]:
    """Every key written twice in one mapping of the node tree, with the 1-based lines of both."""
    found: list[DuplicateKey] = []
    seen_nodes: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node) in seen_nodes:  # an alias repeats a node; look at it once
            continue
        seen_nodes.add(id(node))
        if isinstance(node, MappingNode):
            first: dict[str, int] = {}
            for key_node, value_node in node.value:
                todo.append(value_node)
                if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                    continue
                ident = key_node.value
                line = key_node.start_mark.line + 1
                if ident in first:
                    found.append(DuplicateKey(key_node.value, first[ident], line))
                else:
                    first[ident] = line
        elif isinstance(node, SequenceNode):
            todo.extend(node.value)
    return sorted(found, key=lambda d: d.second_line)


def duplicate_problems(file: str, found: list[DuplicateKey]) -> list[Problem]:
    return [Problem(
        file, f"khóa '{d.key}' được viết hai lần (dòng {d.first_line} và dòng {d.second_line})",
        f"key '{d.key}' is written twice (lines {d.first_line} and {d.second_line})",
        f"giữ lại một dòng '{d.key}:' đúng và xóa dòng còn lại",
        f"keep the right '{d.key}:' line and delete the other",
        line=d.second_line, field=d.key) for d in found]


class _Constructor(SafeConstructor):
    def construct_document(self, node: Node):
        found = duplicate_keys(node)
        if found:
            raise DuplicateKeys(found)
        return super().construct_document(node)


def _construct_located(constructor: _Constructor, node: MappingNode) -> Located:
    constructor.flatten_mapping(node)
    result = Located()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = constructor.construct_object(key_node, deep=True)
        if isinstance(key, bool) or not isinstance(key, str | int):
            raise ConstructorError(None, None, "keys must be plain names", key_node.start_mark)
        key = str(key)
        result[key] = constructor.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_Constructor.add_constructor(_MAP_TAG, _construct_located)


def _reader() -> YAML:
    yaml = YAML(typ="safe", pure=True)
    yaml.Constructor = _Constructor
    return yaml


def read_text(path: Path) -> str:
    """The file's text, or a Problem an operator can act on (missing, not UTF-8)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BroadcasterError([Problem(
            str(path), "không tìm thấy tệp", "file not found",
            "kiểm tra đường dẫn, hoặc dùng --config", "check the path, or pass --config")]) from None
    except UnicodeDecodeError as err:
        raise BroadcasterError([Problem(
            str(path), "tệp không phải UTF-8", f"file is not UTF-8 text ({err.reason})",
            "lưu lại tệp với mã UTF-8", "save the file as UTF-8")]) from None


def yaml_errors(path: Path, err: Exception) -> BroadcasterError:
    """A parser's exception as the operator's problem list (file, line, what to do)."""
    if isinstance(err, DuplicateKeys):
        return BroadcasterError(duplicate_problems(str(path), err.found))
    if isinstance(err, MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        return BroadcasterError([Problem(
            str(path), f"lỗi cú pháp YAML: {err.problem}", f"YAML syntax error: {err.problem}",
            "kiểm tra thụt lề và dấu ':' ở dòng này", "check indentation and ':' on this line", line=line)])
    return BroadcasterError([Problem(str(path), f"lỗi YAML: {err}", f"YAML error: {err}")])


def dump_yaml(data: object) -> str:
    """Plain data (dicts, lists, text, numbers) as YAML 1.2 text that `load_yaml` reads back the same."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    yaml.sort_base_mapping_type_on_output = False
    # enum values (Level, Status) are written as their plain word
    yaml.representer.add_multi_representer(StrEnum, lambda rep, value: rep.represent_str(str(value)))
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def load_yaml(path: str | Path, text: str | None = None) -> object:
    """Read one YAML file safely; a syntax error or a repeated key becomes a Problem naming the file and line.
    `text`: check an edit of the file (the console's form) before it is written, with messages naming the file."""
    path = Path(path)
    if text is None:
        text = read_text(path)
    try:
        return _reader().load(text)
    except (YAMLError, DuplicateKeys) as err:
        raise yaml_errors(path, err) from None
