"""The layer rule (docs/architecture.md): a package imports only from the packages below it, never above.

Read with the standard `ast` module from the source, so an import inside a function counts too. A package not
listed here (a new one) may import anything, and nothing listed may import it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "broadcaster"
BASE = {"files", "problems", "model"}

# What each part of broadcaster/ may import from broadcaster/, lowest first.
ALLOWED: dict[str, set[str]] = {
    "files": set(),
    "problems": set(),
    "model": set(),
    "station": BASE,
    "sound": BASE | {"station"},
    "library": BASE | {"station", "sound"},
    "asrun": BASE | {"station"},
    "bulletins": BASE | {"station", "sound", "library", "asrun"},
    "planning": BASE | {"station", "library", "bulletins"},
    "playout": BASE | {"station", "sound", "library", "asrun", "planning"},
    "feed": BASE | {"station", "library", "asrun", "planning", "playout"},
    "reports": BASE | {"station", "asrun", "feed"},
}
# One module reaches above its package: the daemon process runs the feed's sync on a timer (it is the station's
# one long-running process, the way commands/ is its one entry point).
MODULE_EXTRA: dict[str, set[str]] = {"playout/daemon.py": {"feed"}}
# Besides the standard library, the only outside packages the lowest layers may use.
THIRD_PARTY = {"files": set(), "problems": set(), "model": set(), "station": {"yaml", "ruamel"}}


def part_of(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("").parts
    return rel[0]


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's own package
                base = list(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-node.level])
                found.append((node.lineno, ".".join(base + ([node.module] if node.module else []))))
            else:
                found.append((node.lineno, node.module))
    return found


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if part_of(p) in ALLOWED)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_layer_imports_nothing_above_it(path):
    part = part_of(path)
    wrong = []
    for line, module in imports(path):
        top = module.split(".")[0]
        if top == "broadcaster":
            target = module.split(".")[1] if "." in module else ""
            extra = MODULE_EXTRA.get(str(path.relative_to(PACKAGE)), set())
            if target != part and target not in ALLOWED[part] | extra:
                wrong.append(f"{path.name}:{line} imports {module}")
        elif part in THIRD_PARTY and top not in sys.stdlib_module_names and top != "__future__" \
                and top not in THIRD_PARTY[part]:
            wrong.append(f"{path.name}:{line} imports {module} (outside the standard library)")
    assert not wrong, f"{part}/ may import only {sorted(ALLOWED[part]) or 'nothing'} from broadcaster: {wrong}"


def test_the_rule_sees_every_lower_part():
    """Every package the rule names exists, so a rename cannot switch the rule off silently."""
    for part in ALLOWED:
        assert (PACKAGE / part).is_dir() or (PACKAGE / f"{part}.py").is_file(), part
    assert len(SOURCES) > 40


def test_the_rule_catches_an_import_from_above(tmp_path, monkeypatch):
    """A planning module that imports playout code is caught (the check can fail)."""
    fake = tmp_path / "broadcaster" / "planning"
    fake.mkdir(parents=True)
    (fake / "bad.py").write_text("def f():\n    from broadcaster.playout.engine import Engine\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", tmp_path / "broadcaster")
    with pytest.raises(AssertionError, match="bad.py:2 imports broadcaster.playout.engine"):
        test_a_layer_imports_nothing_above_it(fake / "bad.py")
