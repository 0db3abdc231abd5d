"""Anchors: the as-run chain pinned off the box, so cutting rows off the end or rewriting the chain shows.

The hash chain alone proves nothing against someone who can rewrite the whole file: they recompute every hash
after an edit, or delete the last rows. So each daily summary sent to the district carries the chain as it was
then: its row count, the hash of its last row (`head`) and of its first (`first`, which names the log file: a
new log after a damaged one has another). The collector keeps them. Later, a log that has fewer rows than an
anchor (truncated) or another hash at an anchor's row (rewritten) contradicts what the district already holds.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from broadcaster.asrun.log import AsRunLog


@dataclass(frozen=True)
class Anchor:
    rows: int
    head: str
    first: str
    day: str = ""  # the summary's day (for messages)

    def to_json(self) -> dict:
        return {"rows": self.rows, "head": self.head, "first": self.first}

    @staticmethod
    def from_json(data: object, day: str = "") -> Anchor | None:
        """An anchor from a summary's "chain" field; None if it is not one (an older box sends none)."""
        if not isinstance(data, dict):
            return None
        rows, head, first = data.get("rows"), data.get("head"), data.get("first")
        if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0 or not all(
                isinstance(h, str) and len(h) == 64 for h in (head, first)):
            return None
        return Anchor(rows, head, first, day)


def chain_anchor(log_path: Path) -> dict | None:
    """The chain as it is now, for a summary: rows, last hash, first hash (two index lookups and a count)."""
    if not Path(log_path).exists():
        return None
    try:
        with AsRunLog(log_path, read_only=True) as log:
            rows, head, first = log._db.execute(
                "SELECT count(*), (SELECT row_hash FROM asrun ORDER BY id DESC LIMIT 1), "
                "(SELECT row_hash FROM asrun ORDER BY id LIMIT 1) FROM asrun").fetchone()
    except sqlite3.Error:
        return None  # a damaged log: the daemon sets it aside and its break row says so
    return Anchor(rows, head, first).to_json() if rows else None


def check_against(log: AsRunLog, anchors: list[Anchor]) -> list[str]:
    """What the log contradicts, one line per anchor (empty: it holds every anchor of its own file)."""
    first_row = log.first_entry()
    first = log.head_at(1) if first_row is not None else None
    problems = []
    for anchor in sorted(anchors, key=lambda a: (a.day, a.rows)):
        label = f"anchor of {anchor.day or '?'} ({anchor.rows} rows)"
        if first is not None and anchor.first != first:
            continue  # an anchor of another log file (the one before a break): not this file's to match
        found = log.head_at(anchor.rows)
        if found is None:
            count = log._db.execute("SELECT count(*) FROM asrun").fetchone()[0]
            problems.append(f"TRUNCATED: {label}: the district holds {anchor.rows} rows, the log has {count} / "
                            f"BỊ CẮT: huyện giữ {anchor.rows} dòng, nhật ký chỉ còn {count}")
        elif found != anchor.head:
            problems.append(f"REWRITTEN: {label}: row {anchor.rows} is not the row the district was told of / "
                            f"BỊ SỬA: dòng {anchor.rows} khác với dòng huyện đã được báo")
    return problems


def load_anchors(path: Path) -> list[Anchor]:
    """Anchors from a file: `district anchors` output (a JSON list of {day, rows, head, first})."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError("expected a JSON list of anchors")
    found = [Anchor.from_json(d, str(d.get("day", ""))) for d in data if isinstance(d, dict)]
    return [a for a in found if a is not None]


def commune_anchors(messages: list[tuple[str, dict]]) -> list[Anchor]:
    """Anchors from a commune's stored summaries, as (received_at, body) pairs."""
    found = []
    for _, body in sorted(messages, key=lambda m: m[0]):
        anchor = Anchor.from_json(body.get("chain"), str(body.get("day", ""))) if isinstance(body, dict) else None
        if anchor is not None:
            found.append(anchor)
    return found


def anchor_conflicts(anchors: list[Anchor]) -> list[str]:
    """What a district can see from the anchors alone, without the log: for one log file, a later summary
    with fewer rows (rows were cut off), or the same row count with another head (the chain was rewritten)."""
    problems = []
    by_file: dict[str, list[Anchor]] = {}
    for anchor in anchors:
        by_file.setdefault(anchor.first, []).append(anchor)
    for same in by_file.values():
        most = None
        heads: dict[int, Anchor] = {}
        for anchor in same:  # in the order received
            if most is not None and anchor.rows < most.rows:
                problems.append(f"TRUNCATED: summary of {anchor.day} has {anchor.rows} rows, {most.day}'s had "
                                f"{most.rows} / BỊ CẮT: ít dòng hơn báo cáo trước")
            seen = heads.setdefault(anchor.rows, anchor)
            if seen.head != anchor.head:
                problems.append(f"REWRITTEN: summaries of {seen.day} and {anchor.day} give row {anchor.rows} two "
                                f"different hashes / BỊ SỬA: cùng dòng, hai mã băm")
            if most is None or anchor.rows >= most.rows:
                most = anchor
    return problems
