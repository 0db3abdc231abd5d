"""District side: the collector, a small HTTP service where communes post receipts and daily summaries.

    POST /messages   Authorization: Bearer <the commune's token>
                     {"commune": "...", "messages": [{"id", "kind": "receipt"|"summary", "body", "created"}]}
    GET  /health

The commune is whoever the token belongs to (the body's "commune" is ignored), so one commune cannot write
another's results. Messages are stored by (commune, id): a batch posted again after a lost reply is stored
once. Tokens live in a YAML file `commune-id: token` (make them with `district token`).
"""

from __future__ import annotations

import hmac
import json
import secrets
import sqlite3
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import yaml

from broadcaster.feed.serving import BoundedHTTPServer
from broadcaster.feed.validate import message_problem
from broadcaster.files import write_atomic
from broadcaster.problems import BroadcasterError, fail

MAX_BODY = 4 * 1024 * 1024
KINDS = ("receipt", "summary")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    commune TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    created TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (commune, id)
);
CREATE INDEX IF NOT EXISTS messages_kind ON messages(kind, commune);
"""


def connect(db_path: Path) -> sqlite3.Connection:
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(db_path, isolation_level=None, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(_SCHEMA)
    return db


def store(db: sqlite3.Connection, commune: str, messages: list[dict]) -> tuple[int, int]:
    """Store messages for a commune; returns (newly stored, already had)."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    stored = 0
    db.execute("BEGIN IMMEDIATE")
    try:
        for m in messages:
            cur = db.execute("INSERT OR IGNORE INTO messages VALUES (?, ?, ?, ?, ?, ?)",
                             (commune, m["id"], m["kind"], str(m.get("created", "")), now,
                              json.dumps(m["body"], ensure_ascii=False)))
            stored += cur.rowcount
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return stored, len(messages) - stored


def load_tokens(path: Path) -> dict[str, str]:
    """commune id → token, from a YAML mapping."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise fail(str(path), "không tìm thấy tệp mã truy cập", "token file not found",
                   hint_vi="tạo bằng 'district token XA --tokens TỆP'",
                   hint_en="make one with 'district token COMMUNE --tokens FILE'") from None
    except yaml.YAMLError as err:
        raise fail(str(path), f"tệp mã truy cập sai cú pháp: {err}", f"token file is not valid YAML: {err}") from None
    if not isinstance(raw, dict) or not all(isinstance(v, str) and len(v) >= 16 for v in raw.values()):
        raise fail(str(path), "tệp mã truy cập phải là 'mã-xã: token' (token ≥ 16 ký tự)",
                   "the token file must map commune id to token (tokens of 16+ characters)")
    return {str(k): v for k, v in raw.items()}


def add_token(path: Path, commune: str) -> str:
    """Give a commune a new random token (replacing any old one); the file is written 0600, atomically."""
    tokens = load_tokens(path) if Path(path).exists() else {}
    tokens[commune] = secrets.token_urlsafe(24)
    write_atomic(Path(path), yaml.safe_dump(tokens, allow_unicode=True, sort_keys=True), mode=0o600)
    return tokens[commune]


class CollectorServer(BoundedHTTPServer):
    # Bounded workers and timeouts (serving.py): unauthenticated connections cannot pile up threads. The
    # listen backlog is 1024, not the stdlib's 5: hundreds of communes may post at once (bench_feed round 5).
    workers = 8
    read_timeout = 10.0
    request_deadline = 30.0

    def __init__(self, address: tuple[str, int], db_path: Path, tokens: dict[str, str],
                 tokens_path: Path | None = None, **limits):
        self.db_path = Path(db_path)
        self.tokens = tokens
        self.tokens_path = tokens_path
        self._tokens_mtime = tokens_path.stat().st_mtime_ns if tokens_path else 0
        connect(self.db_path).close()
        super().__init__(address, CollectorHandler, **limits)

    def _reload_tokens(self) -> None:
        """A token added with `district token` works without restarting the collector."""
        if self.tokens_path is None:
            return
        try:
            mtime = self.tokens_path.stat().st_mtime_ns
            if mtime != self._tokens_mtime:
                self.tokens, self._tokens_mtime = load_tokens(self.tokens_path), mtime
        except (OSError, BroadcasterError):
            pass  # keep the tokens we had; a half-edited file must not lock every commune out

    def commune_for(self, header: str | None) -> str | None:
        self._reload_tokens()
        if not header or not header.startswith("Bearer "):
            return None
        given = header[len("Bearer "):].strip().encode()
        found = None
        for commune, token in self.tokens.items():  # compare with every token: timing tells nothing
            if hmac.compare_digest(given, token.encode()):
                found = commune
        return found


class CollectorHandler(BaseHTTPRequestHandler):
    server: CollectorServer
    server_version = "broadcaster-collector/1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet by default; the database is the record

    def _reply(self, code: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if code == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="broadcaster-collector"')
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/health") or self.path == "/health":
            self._reply(200, {"ok": True})
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        if not self.path.rstrip("/").endswith("/messages"):
            self._reply(404, {"error": "not found"})
            return
        commune = self.server.commune_for(self.headers.get("Authorization"))
        if commune is None:
            self._reply(401, {"error": "missing or wrong token / thiếu hoặc sai mã truy cập"})
            return
        length = self.headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > MAX_BODY:
            self._reply(413, {"error": f"body missing or over {MAX_BODY} bytes"})
            return
        try:
            payload = json.loads(self.rfile.read(int(length)))
            messages = payload["messages"]
            if not isinstance(messages, list) or not all(
                    isinstance(m, dict) and isinstance(m.get("id"), str) and 0 < len(m["id"]) <= 128
                    and m.get("kind") in KINDS and isinstance(m.get("body"), dict) for m in messages):
                raise ValueError("bad message")
        except (ValueError, KeyError, TypeError, RecursionError):
            self._reply(400, {"error": "expected {messages: [{id, kind, body}]}"})
            return
        for index, m in enumerate(messages):  # one bad row must not break the district report for everyone
            problem = message_problem(m["kind"], m["body"])
            if problem:
                self._reply(400, {"error": f"messages[{index}] ({m['kind']} {m['id'][:32]}): {problem}",
                                  "nothing_stored": True})
                return
        db = connect(self.server.db_path)
        try:
            stored, duplicates = store(db, commune, messages)
        finally:
            db.close()
        self._reply(200, {"commune": commune, "stored": stored, "duplicates": duplicates})


def make_server(host: str, port: int, db_path: Path, tokens_path: Path, **limits) -> CollectorServer:
    return CollectorServer((host, port), db_path, load_tokens(tokens_path), Path(tokens_path), **limits)
