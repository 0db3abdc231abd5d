"""Safe YAML reading that remembers line numbers and never turns "05:30" into 330.

PyYAML's YAML 1.1 resolver reads unquoted 05:30 as a base-60 integer (330); operators write times unquoted,
so that resolver is dropped here. Mappings come back as `Located` dicts that know the line of each key, so
errors can point at the line an operator has to fix.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from broadcaster.problems import BroadcasterError, Problem


class Located(dict):
    """A mapping from YAML with the 1-based line of the mapping and of each key."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _Loader(yaml.SafeLoader):
    pass


# Drop the base-60 int/float forms (05:30 → 330) and keep the decimal ones.
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (
        "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(0|[1-9][0-9_]*)$"), list("-+0123456789"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?([0-9][0-9_]*)?\.[0-9_]+([eE][-+]?[0-9]+)?$|^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> Located:
    loader.flatten_mapping(node)
    result = Located()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int):
            raise yaml.constructor.ConstructorError(
                None, None, "keys must be plain names", key_node.start_mark)
        key = str(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(path: str | Path, text: str | None = None) -> object:
    """Read one YAML file safely; a syntax error becomes a Problem naming the file and line. `text`: check an
    edit of the file (the console's form) before it is written, with messages naming the file."""
    path = Path(path)
    try:
        if text is None:
            text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BroadcasterError([Problem(
            str(path), "không tìm thấy tệp", "file not found",
            "kiểm tra đường dẫn, hoặc dùng --config", "check the path, or pass --config")]) from None
    except UnicodeDecodeError as err:
        raise BroadcasterError([Problem(
            str(path), "tệp không phải UTF-8", f"file is not UTF-8 text ({err.reason})",
            "lưu lại tệp với mã UTF-8", "save the file as UTF-8")]) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        raise BroadcasterError([Problem(
            str(path), f"lỗi cú pháp YAML: {err.problem}", f"YAML syntax error: {err.problem}",
            "kiểm tra thụt lề và dấu ':' ở dòng này", "check indentation and ':' on this line", line=line)]) from None
    except yaml.YAMLError as err:
        raise BroadcasterError([Problem(str(path), f"lỗi YAML: {err}", f"YAML error: {err}")]) from None
