"""District side: what happened to the district's clips in the communes, from the collector's database.

Per clip: communes targeted, delivered (an "ingested" receipt), rejected, plays aired and minutes (from the
communes' daily as-run summaries). Per commune: clips delivered, plays and minutes of district clips, all
plays, days reported. Communes not reporting: those with a token that sent neither a daily summary for a day in
the period nor any message during it.

Topics are named from the district's own `topics:` (its config.yaml): the district chose the categories it
publishes, so one mapping gives every commune's rows the same words, and summaries keep carrying slugs only.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

from broadcaster.asrun.anchors import anchor_conflicts, commune_anchors
from broadcaster.feed.collector import connect
from broadcaster.feed.manifest import Manifest, parse_manifest
from broadcaster.feed.validate import message_problem
from broadcaster.station.config import topic_name


@dataclass
class ClipRow:
    sha256: str
    title: str = ""
    category: str = ""
    targeted: int | str = ""
    delivered: int = 0
    rejected: int = 0
    plays: int = 0
    minutes: float = 0.0
    not_delivered: list[str] = field(default_factory=list)  # targeted communes without an "ingested" receipt


@dataclass
class CommuneRow:
    commune: str
    delivered: int = 0
    rejected: int = 0
    plays: int = 0  # district clips
    minutes: float = 0.0
    all_plays: int = 0  # everything that aired, local items too
    all_minutes: float = 0.0
    days_reported: int = 0
    last_heard: str = ""


@dataclass
class DistrictReport:
    date_from: str
    date_to: str
    clips: list[ClipRow] = field(default_factory=list)
    communes: list[CommuneRow] = field(default_factory=list)
    not_reporting: list[str] = field(default_factory=list)
    bad_rows: list[str] = field(default_factory=list)  # stored messages the report could not use, and why
    # per commune: what its summaries' chain anchors contradict (rows cut off, a chain rewritten)
    chain_problems: dict[str, list[str]] = field(default_factory=dict)

    def to_json(self, topics: Mapping[str, str] | None = None) -> dict:
        return {"from": self.date_from, "to": self.date_to,
                "clips": [asdict(c) | {"category_name": topic_name(topics, c.category) if c.category else ""}
                          for c in self.clips],
                "communes": [asdict(c) for c in self.communes], "not_reporting": self.not_reporting,
                "bad_rows": self.bad_rows, "chain_problems": self.chain_problems}


def read_feed_manifest(feed: Path) -> Manifest | None:
    """The district's own published manifest (its own file, so read without re-verifying)."""
    path = Path(feed) / "manifest.json"
    if not path.exists():
        return None
    envelope = json.loads(path.read_bytes())
    return parse_manifest(envelope["signed"].encode("utf-8"), str(path))


def build(db_path: Path, date_from: date, date_to: date, communes: list[str] | None = None,
          manifest: Manifest | None = None) -> DistrictReport:
    db = connect(db_path)
    try:
        rows = db.execute("SELECT commune, kind, received_at, body, id FROM messages").fetchall()
    finally:
        db.close()
    clips: dict[str, ClipRow] = {}
    expected = set(communes or [])
    targets: dict[str, set[str]] = {}
    if manifest:
        for c in manifest.clips:
            targets[c.sha256] = expected if c.targets == "all" else set(c.targets)
            targeted = len(expected) if c.targets == "all" and expected else (
                "all" if c.targets == "all" else len(c.targets))
            clips[c.sha256] = ClipRow(c.sha256, c.title, c.category, targeted)
        for r in manifest.revoked:
            clips.setdefault(r.sha256, ClipRow(r.sha256, r.title + " (revoked/đã thu hồi)"))
    per_commune: dict[str, CommuneRow] = {c: CommuneRow(c) for c in sorted(expected)}
    delivered: set[tuple[str, str]] = set()
    rejected: set[tuple[str, str]] = set()
    summaries: list[tuple[str, dict]] = []
    end = (date_to + timedelta(days=1)).isoformat()
    bad_rows = []
    for commune, kind, received_at, body_text, msg_id in rows:
        try:
            body = json.loads(body_text)
        except (ValueError, RecursionError):
            body = None
        problem = message_problem(kind, body) if body is not None else "not JSON"
        if problem:  # stored before the collector checked messages: flagged, not counted, the report goes on
            bad_rows.append(f"{commune} {kind} {msg_id[:12]}: {problem}")
            continue
        row = per_commune.setdefault(commune, CommuneRow(commune))
        row.last_heard = max(row.last_heard, received_at)
        if kind == "receipt" and str(body.get("at", "")) < end:
            sha = body.get("sha256", "")
            clip = clips.setdefault(sha, ClipRow(sha, body.get("title", ""), body.get("category", "")))
            if body.get("status") == "ingested":
                delivered.add((commune, sha))
            elif body.get("status") == "rejected":
                rejected.add((commune, sha))
            clip.title = clip.title or body.get("title", "")
        elif kind == "summary" and date_from.isoformat() <= str(body.get("day", "")) <= date_to.isoformat():
            summaries.append((commune, body))
    for commune, sha in delivered:
        clips[sha].delivered += 1
        per_commune[commune].delivered += 1
    for commune, sha in rejected - delivered:
        clips[sha].rejected += 1
        per_commune[commune].rejected += 1
    for commune, body in summaries:
        row = per_commune[commune]
        row.days_reported += 1
        for item in body.get("items", []):
            minutes = float(item.get("seconds", 0)) / 60
            row.all_plays += int(item.get("plays", 0))
            row.all_minutes += minutes
            if item.get("sha256") in clips:
                clip = clips[item["sha256"]]
                clip.plays += int(item.get("plays", 0))
                clip.minutes += minutes
                row.plays += int(item.get("plays", 0))
                row.minutes += minutes
    for row in [*clips.values(), *per_commune.values()]:
        for name in ("minutes", "all_minutes"):
            if hasattr(row, name):
                setattr(row, name, round(getattr(row, name), 1))
    for sha, wanted in targets.items():
        clips[sha].not_delivered = sorted(c for c in wanted if (c, sha) not in delivered)
    heard = {c for c, _, received_at, *_ in rows if date_from.isoformat() <= received_at[:10] <= date_to.isoformat()}
    reporting = {c for c, _ in summaries} | heard
    return DistrictReport(date_from.isoformat(), date_to.isoformat(),
                          sorted(clips.values(), key=lambda c: (c.category, c.title, c.sha256)),
                          sorted(per_commune.values(), key=lambda c: c.commune),
                          sorted(c for c in per_commune if c not in reporting), bad_rows, chain_problems(rows))


def chain_problems(rows: list[tuple]) -> dict[str, list[str]]:
    """Per commune, over every summary ever received (not only the period's): anchors that contradict."""
    by_commune: dict[str, list[tuple[str, dict]]] = {}
    for commune, kind, received_at, body_text, *_ in rows:
        if kind == "summary":
            try:
                body = json.loads(body_text)
            except ValueError:
                continue  # counted among bad_rows
            by_commune.setdefault(commune, []).append((received_at, body))
    found = {c: anchor_conflicts(commune_anchors(m)) for c, m in sorted(by_commune.items())}
    return {c: p for c, p in found.items() if p}


def render(report: DistrictReport, fmt: str, topics: Mapping[str, str] | None = None) -> str:
    """text, json or csv; `topics` (slug → name) names each clip's topic, the slug where it has none."""
    def name(c: ClipRow) -> str:
        return topic_name(topics, c.category) if c.category else ""

    if fmt == "json":
        return json.dumps(report.to_json(topics), ensure_ascii=False, indent=2)
    if fmt == "csv":  # category_name is the last column, so the earlier ones keep their places
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["table", "id", "title", "category", "targeted", "delivered", "rejected", "plays",
                         "minutes", "all_plays", "all_minutes", "days_reported", "last_heard", "category_name"])
        for c in report.clips:
            writer.writerow(["clip", c.sha256, c.title, c.category, c.targeted, c.delivered, c.rejected, c.plays,
                             c.minutes, "", "", "", "", name(c)])
        for c in report.clips:
            for commune in c.not_delivered:
                writer.writerow(["not_delivered", c.sha256, c.title, c.category, commune] + [""] * 8 + [name(c)])
        for m in report.communes:
            writer.writerow(["commune", m.commune, "", "", "", m.delivered, m.rejected, m.plays, m.minutes,
                             m.all_plays, m.all_minutes, m.days_reported, m.last_heard])
        for name in report.not_reporting:
            writer.writerow(["not_reporting", name] + [""] * 11)
        for text in report.bad_rows:
            writer.writerow(["bad_row", text] + [""] * 11)
        return out.getvalue()
    lines = [f"BÁO CÁO TIN BÀI CỦA HUYỆN / DISTRICT CLIP REPORT  {report.date_from} → {report.date_to}", "",
             "Theo tin bài / per clip:",
             f"  {'sha256':12}  {'tin bài / title':32}  {'gửi':>5}  {'nhận':>5}  {'từ chối':>7}  {'lượt':>5}  "
             f"{'phút':>7}", f"  {'':12}  {'':32}  {'sent':>5}  {'got':>5}  {'rejected':>7}  {'plays':>5}  {'min':>7}"]
    topic = None
    for c in report.clips:  # sorted by category: one heading per topic
        if name(c) != topic:
            topic = name(c)
            lines.append(f"  — Chủ đề / topic: {topic or '(không rõ / unknown)'}")
        lines.append(f"  {c.sha256[:12]:12}  {c.title[:32]:32}  {c.targeted!s:>5}  {c.delivered:5}  "
                     f"{c.rejected:7}  {c.plays:5}  {c.minutes:7.1f}")
        if c.not_delivered:
            lines.append(f"  {'':12}  chưa nhận / not delivered: {', '.join(c.not_delivered)}")
    lines += ["", "Theo xã / per commune:",
              f"  {'xã / commune':20}  {'nhận/got':>8}  {'lượt/plays':>10}  {'phút/min':>8}  "
              f"{'tổng lượt/all':>13}  {'ngày báo/days':>13}  lần cuối / last heard"]
    for m in report.communes:
        lines.append(f"  {m.commune[:20]:20}  {m.delivered:8}  {m.plays:10}  {m.minutes:8.1f}  {m.all_plays:13}  "
                     f"{m.days_reported:13}  {m.last_heard or '—'}")
    lines += ["", "Xã không báo cáo / communes not reporting: " + (", ".join(report.not_reporting) or "—")]
    if report.bad_rows:
        lines += ["", f"Dòng dữ liệu lỗi, không tính / bad rows, not counted ({len(report.bad_rows)}):"]
        lines += [f"  ! {text}" for text in report.bad_rows]
    for commune, problems in report.chain_problems.items():
        lines += [f"NHẬT KÝ BỊ SỬA HOẶC CẮT / AS-RUN LOG CUT OR REWRITTEN: {commune}"] + [f"  {p}" for p in problems]
    return "\n".join(lines) + "\n"
