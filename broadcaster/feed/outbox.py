"""Messages a commune owes its district (clip receipts, daily as-run summaries), queued on disk until sent.

The outbox is SQLite under paths.state (outbox.sqlite). Each message has an id derived from what it says
(commune, kind, clip, status… or day), so queuing the same fact twice is a no-op, and the collector stores by
(commune, id), so a batch re-sent after a lost reply is not counted twice. Unsent messages stay queued and go
with the next flush. A message the collector refuses for what it says (HTTP 400, 413, 422) is found by sending
that batch's messages one by one; it is then kept aside (refused_at, with the collector's reason) instead of
being re-sent for ever in front of every later message.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from broadcaster.asrun.anchors import chain_anchor
from broadcaster.asrun.log import AsRunLog
from broadcaster.feed.errors import feed_error
from broadcaster.feed.http_client import REDIRECTS, Deadline, DeadlinePassed, request
from broadcaster.model import SOUNDED

OUTBOX_FILE = "outbox.sqlite"
BATCH = 100
SUMMARY_LOOKBACK_DAYS = 14
REFUSED_CONTENT = (400, 413, 422)  # the collector's answer to what a batch says: one of its messages is bad
QUEUED = "sent_at IS NULL AND refused_at IS NULL"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,            -- receipt | summary
    body TEXT NOT NULL,            -- JSON
    created TEXT NOT NULL,
    sent_at TEXT,                  -- NULL while queued
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    refused_at TEXT                -- the collector refused this message itself: kept, not sent again
);
CREATE TABLE IF NOT EXISTS summarised (day TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def message_id(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class FlushResult:
    sent: int
    queued: int
    error: str = ""
    refused: int = 0  # messages the collector refused in this flush (kept aside, see refused())


class Outbox:
    def __init__(self, path: Path, commune: str):
        self.path = Path(path)
        self.commune = commune
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)
        if "refused_at" not in {row[1] for row in self.db.execute("PRAGMA table_info(outbox)")}:
            self.db.execute("ALTER TABLE outbox ADD COLUMN refused_at TEXT")  # an outbox made before it existed

    def close(self) -> None:
        self.db.close()

    def queue(self, kind: str, body: dict, msg_id: str) -> bool:
        cur = self.db.execute("INSERT OR IGNORE INTO outbox (id, kind, body, created) VALUES (?, ?, ?, ?)",
                              (msg_id, kind, json.dumps(body, ensure_ascii=False),
                               datetime.now(UTC).isoformat(timespec="seconds")))
        return cur.rowcount == 1

    def receipt(self, *, sha256: str, status: str, district: str, version: int, title: str = "",
                category: str = "", code: str = "", reason: str = "", aired_at: str | None = None) -> bool:
        """status: received | ingested | rejected | withdrawn | aired | refused (a district break-in; code is
        its level, aired_at when it was first heard). One receipt per (clip, status, code)."""
        body = {"sha256": sha256, "status": status, "code": code, "reason": reason, "district": district,
                "manifest_version": version, "title": title, "category": category,
                "at": datetime.now(UTC).isoformat(timespec="seconds")}
        if aired_at:
            body["aired_at"] = aired_at
        return self.queue("receipt", body, message_id(self.commune, "receipt", sha256, status, code))

    def pending(self) -> int:
        return self.db.execute(f"SELECT count(*) FROM outbox WHERE {QUEUED}").fetchone()[0]

    def refused(self) -> list[tuple[str, str, str]]:
        """(id, kind, the collector's reason) of each message it refused, oldest first."""
        return self.db.execute("SELECT id, kind, last_error FROM outbox WHERE refused_at IS NOT NULL "
                               "ORDER BY refused_at, id").fetchall()

    def flush(self, url: str, token: str, timeout: float = 30.0, deadline: Deadline | None = None) -> FlushResult:
        """POST queued messages in batches; stop at the first failure and keep the rest queued.

        A redirect is a failure: the post carries the bearer token, which must never go to another host, and a
        batch is sent only when the collector itself answered 200."""
        endpoint = urljoin(url if url.endswith("/") else url + "/", "messages")
        deadline = deadline or Deadline(timeout * 4)
        sent = refused = 0
        one_by_one = 0  # messages of a refused batch still to send alone, to find the one the collector refuses
        while True:
            rows = self.db.execute(f"SELECT id, kind, body, created FROM outbox WHERE {QUEUED} ORDER BY "
                                   "created, id LIMIT ?", (1 if one_by_one else BATCH,)).fetchall()
            if not rows:
                return FlushResult(sent, 0, _refused_note(refused), refused)
            payload = json.dumps({"commune": self.commune, "messages": [
                {"id": r[0], "kind": r[1], "body": json.loads(r[2]), "created": r[3]} for r in rows]},
                ensure_ascii=False).encode("utf-8")
            ids = [r[0] for r in rows]
            try:
                with request("POST", endpoint, body=payload, deadline=deadline, timeout=timeout, headers={
                        "Authorization": f"Bearer {token}", "Content-Type": "application/json",
                        "User-Agent": "broadcaster-commune-outbox/1"}) as resp:
                    answer = resp.read(64 * 1024)
                    status, location = resp.status, resp.headers.get("Location", "")
            except DeadlinePassed:
                return self._stop(ids, sent, "quá thời hạn gửi / the post took longer than its deadline", refused)
            except (OSError, http.client.HTTPException) as err:
                return self._stop(ids, sent, str(getattr(err, "reason", err))[:200], refused)
            if status in REDIRECTS or 300 <= status < 400:
                return self._stop(ids, sent, f"trạm thu chuyển hướng (HTTP {status} → {location[:100]}): không gửi "
                                  f"mã truy cập theo, tin vẫn chờ; sửa feed.collector_url / the collector redirected "
                                  f"(HTTP {status} to {location[:100]}): the token is not sent on, messages stay "
                                  "queued; fix feed.collector_url", refused)
            if status in (401, 403):
                self._failed(ids, f"HTTP {status}")
                raise feed_error("unauthorized", endpoint, "trạm thu của huyện từ chối mã truy cập (token)",
                                 f"the district collector refused our token (HTTP {status})",
                                 "kiểm tra feed.collector_token với đài huyện",
                                 "check feed.collector_token with the district")
            if status in REFUSED_CONTENT:
                if len(ids) > 1:
                    one_by_one = len(ids)
                    continue
                self._refuse(ids[0], f"HTTP {status}: {_reason(answer)}")
                refused += 1
                one_by_one = max(0, one_by_one - 1)
                continue
            if status != 200:
                return self._stop(ids, sent, f"HTTP {status}", refused)
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            self.db.executemany("UPDATE outbox SET sent_at = ? WHERE id = ?", [(stamp, i) for i in ids])
            sent += len(ids)
            one_by_one = max(0, one_by_one - len(ids))

    def _refuse(self, msg_id: str, reason: str) -> None:
        self.db.execute("UPDATE outbox SET attempts = attempts + 1, last_error = ?, refused_at = ? WHERE id = ?",
                        (reason[:500], datetime.now(UTC).isoformat(timespec="seconds"), msg_id))

    def _stop(self, ids: list[str], sent: int, error: str, refused: int = 0) -> FlushResult:
        self._failed(ids, error)
        return FlushResult(sent, self.pending(), "; ".join(filter(None, [error, _refused_note(refused)])), refused)

    def _failed(self, ids: list[str], error: str) -> None:
        self.db.executemany("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                            [(error, i) for i in ids])

    def queue_daily_summaries(self, asrun_path: Path, zone: ZoneInfo, today: date) -> int:
        """One summary per finished station day since this outbox began (plays and minutes per clip and
        category, from the as-run log) — also for a day when nothing aired, so a missing day at the district
        means the box was off or offline. Days already summarised are skipped; looks back
        SUMMARY_LOOKBACK_DAYS days at most."""
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('since', ?)", (today.isoformat(),))
        since = date.fromisoformat(self.db.execute("SELECT value FROM meta WHERE key = 'since'").fetchone()[0])
        first = today - timedelta(days=SUMMARY_LOOKBACK_DAYS)
        done = {r[0] for r in self.db.execute("SELECT day FROM summarised")}
        # Every day since the outbox began, plus earlier days the log has entries for (log older than the feed).
        start = max(since, first)
        days: dict[str, dict] = {(start + timedelta(days=n)).isoformat(): {} for n in range((today - start).days)}
        entries = []
        if Path(asrun_path).exists():
            with AsRunLog(asrun_path) as log:
                entries = log.entries(datetime.combine(first, time(0), zone), datetime.combine(today, time(0), zone))
        for e in entries:
            stamp = datetime.fromisoformat(e.actual_start or e.planned_start).astimezone(zone)
            day = days.setdefault(stamp.date().isoformat(), {})
            item = day.setdefault(e.sha256 or e.file, {"sha256": e.sha256, "category": e.category,
                                                       "title": e.title, "plays": 0, "seconds": 0.0, "failed": 0})
            if e.status in SOUNDED and e.actual_start and e.actual_end:
                item["plays"] += 1
                item["seconds"] += (datetime.fromisoformat(e.actual_end)
                                    - datetime.fromisoformat(e.actual_start)).total_seconds()
            else:
                item["failed"] += 1
        queued = 0
        chain = chain_anchor(asrun_path)  # the log as it is now, kept by the district (asrun/anchors.py)
        for day, items in sorted(days.items()):
            if day in done:
                continue
            by_category: dict[str, dict] = {}
            for item in items.values():
                cat = by_category.setdefault(item["category"], {"plays": 0, "minutes": 0.0})
                cat["plays"] += item["plays"]
                cat["minutes"] = round(cat["minutes"] + item["seconds"] / 60, 2)
            body = {"day": day, "items": sorted(items.values(), key=lambda i: (i["category"], i["title"])),
                    "by_category": by_category}
            if chain:
                body["chain"] = chain
            queued += self.queue("summary", body, message_id(self.commune, "summary", day))
            self.db.execute("INSERT OR IGNORE INTO summarised VALUES (?)", (day,))
        return queued


def _reason(answer: bytes) -> str:
    try:
        return str(json.loads(answer).get("error", ""))[:300]
    except (ValueError, AttributeError):
        return answer[:300].decode("utf-8", "replace")


def _refused_note(refused: int) -> str:
    if not refused:
        return ""
    return (f"trạm thu của huyện từ chối {refused} tin (giữ lại, không gửi lại; xem lý do trong outbox.sqlite và báo "
            f"đài huyện) / the district collector refused {refused} message(s): kept aside, not sent again; their "
            "reasons are in outbox.sqlite, tell the district")
