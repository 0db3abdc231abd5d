"""`log verify`: everything that can be said of an as-run log file, as lines for a person.

In order: the file itself (empty, not SQLite, cut short: `damage()`), SQLite's own check of every page, the hash
chain, the append-only triggers, a break at its start (a new log after a damaged one), and, given anchors from
the district, truncation or rewriting since. Nothing here writes to the file.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from broadcaster.asrun.anchors import Anchor, check_against
from broadcaster.asrun.log import BREAK_CATEGORY, AsRunLog, damage
from broadcaster.files import file_sha256


@dataclass
class Audit:
    rows: int = 0
    errors: list[str] = field(default_factory=list)  # the log cannot be trusted as it is
    notes: list[str] = field(default_factory=list)  # true, worth knowing, not wrong

    @property
    def ok(self) -> bool:
        return not self.errors


def audit(path: Path, anchors: list[Anchor] | None = None) -> Audit:
    result = Audit()
    why = damage(path)
    if why:
        result.errors.append(f"DAMAGED: {why} / TỆP HỎNG ({path})")
        return result
    try:
        with AsRunLog(path, read_only=True) as log:
            _check(log, result, anchors)
    except sqlite3.DatabaseError as err:
        result.errors.append(f"DAMAGED: SQLite cannot read it: {err} / TỆP HỎNG, SQLite không đọc được ({path})")
    return result


def _check(log: AsRunLog, result: Audit, anchors: list[Anchor] | None) -> None:
    pages = [r[0] for r in log._db.execute("PRAGMA quick_check(5)")]
    if pages != ["ok"]:
        result.errors.append("DAMAGED: " + "; ".join(pages) + " / TỆP HỎNG (SQLite quick_check)")
        return
    if not log._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'asrun'").fetchone():
        result.errors.append("NOT AN AS-RUN LOG: no asrun table / không phải nhật ký phát sóng")
        return
    check = log.verify()
    result.rows = check.rows
    if not check.ok:
        result.errors.append(f"BROKEN: row {check.first_bad_id}: {check.message} / HỎNG: dòng {check.first_bad_id}")
    if not log.guarded():
        result.notes.append("the append-only triggers are missing (removed, or not yet added by a newer daemon) / "
                            "thiếu trigger chống sửa/xóa")
    first = log.first_entry()
    if first is not None and first.category == BREAK_CATEGORY:
        result.errors.append(
            f"BREAK: this log begins after a damaged one, kept as {first.file} (sha256 {first.sha256}), found "
            f"{first.planned_start}; rows before then are in that file / ĐỨT: nhật ký này bắt đầu sau một nhật ký "
            f"hỏng, giữ lại thành {first.file}")
        kept = log.path.with_name(first.file)
        if kept.exists():
            same = file_sha256(kept) == first.sha256
            result.notes.append(f"{first.file} is beside it, sha256 {'matches' if same else 'DOES NOT match'} / "
                                f"tệp cũ còn đó, mã băm {'khớp' if same else 'KHÔNG khớp'}")
            if not same:
                result.errors.append(f"BROKEN: {first.file} was changed after it was set aside")
        else:
            result.notes.append(f"{first.file} is not beside it any more / tệp cũ không còn bên cạnh")
    if anchors is not None:
        result.errors.extend(check_against(log, anchors))
        result.notes.append(f"checked against {len(anchors)} anchor(s) from the district / đã đối chiếu với huyện")
