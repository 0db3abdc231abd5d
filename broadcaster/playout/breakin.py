"""Break-ins (phát khẩn cấp / ưu tiên): who may interrupt the schedule, and how a request reaches the daemon.

Circular 39/2020 levels: *emergency* (khẩn cấp) airs now with a short fade, even inside an online-learning
blackout but only when the operator confirms; *priority* (ưu tiên) airs at the next item boundary inside a slot
and never inside a blackout.

Hand-over is a spool folder, `paths.state/break-in/`: `play-now` writes `<id>.json` atomically (temp file and
rename), the daemon takes it within half a second and answers with `<id>.answer.json` (accepted or refused, with
the bilingual reason). No socket to keep alive, nothing lost if the daemon restarts: a request written while it
is down is taken when it is back, unless it is stale by then.

An accepted priority clip waits for an item boundary, possibly for the next slot. Until it has aired (or the
engine gave up on it) it is kept in `break-in/held/<id>.json` with its expiry, the end of the slot it was
promised to (`judge` says which): a restart re-hands it to the engine, and once that slot is over it expires
with a `skipped` row in the as-run log instead of airing hours or days late.

Every as-run row of a priority request the daemon took ends its reason with `[ticket <id>]`: the row is written
a moment before the held record is removed, so after a crash in between the restarted daemon finds the row and
does not air the clip a second time.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from broadcaster.files import write_atomic
from broadcaster.model import DayPlan
from broadcaster.planning.runs import runs_ahead

LEVELS = ("priority", "emergency")
STALE_SECONDS = 120.0  # an emergency request older than this is not aired late without a human noticing


@dataclass(frozen=True)
class BreakInRequest:
    id: str
    file: str  # absolute path
    level: str
    reason: str
    confirm: bool
    requested_at: str  # ISO, station zone

    @property
    def logged_reason(self) -> str:
        """The reason as the as-run log keeps it: the operator's text and the ticket tag."""
        return f"{self.reason} {ticket_tag(self.id)}".strip()

    @staticmethod
    def new(file: Path, level: str, reason: str, confirm: bool, now: datetime) -> BreakInRequest:
        return BreakInRequest(uuid.uuid4().hex[:12], str(Path(file).resolve()), level, reason, confirm,
                              now.isoformat(timespec="milliseconds"))


def ticket_tag(request_id: str) -> str:
    """What names a request in the reason of its as-run rows (AsRunLog.with_reason finds them)."""
    return f"[ticket {request_id}]"


_TAG = re.compile(r" ?\[ticket [0-9a-f]+\]")


def without_ticket_tag(reason: str) -> str:
    return _TAG.sub("", reason)


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    message_vi: str
    message_en: str

    def __str__(self) -> str:
        return f"{self.message_vi} / {self.message_en}"


def judge(level: str, confirm: bool, plans: list[DayPlan], now: datetime) -> Verdict:
    """May a break-in of this level air now (or later today, for priority)? Pure: plans + now."""
    in_blackout = next((b for p in plans for b in p.blackouts if b.start <= now < b.end), None)
    if level == "emergency":
        if in_blackout is not None and not confirm:
            return Verdict(False,
                           f"Đang trong giờ cấm phát '{in_blackout.name}' đến {in_blackout.end:%H:%M}: "
                           "phát khẩn cấp cần thêm --confirm",
                           f"Inside blackout '{in_blackout.name}' until {in_blackout.end:%H:%M}: "
                           "an emergency needs --confirm to air now")
        return Verdict(True, "Phát khẩn cấp ngay", "Emergency airs now")
    today = [p for p in plans if p.date == now.date()]
    ahead = runs_ahead(today, now)
    if not ahead:
        return Verdict(False,
                       "Không còn buổi phát nào hôm nay: tin ưu tiên chỉ phát trong buổi phát, "
                       "không bao giờ trong giờ cấm phát. Dùng --level emergency nếu thật sự khẩn cấp",
                       "No slot left today: a priority clip airs only inside a slot, never in a blackout. "
                       "Use --level emergency if it truly cannot wait")
    first = ahead[0]
    when = "ngay sau mục đang phát" if first.start <= now else f"lúc {first.start:%H:%M:%S}"
    when_en = "after the item on air" if first.start <= now else f"at {first.start:%H:%M:%S}"
    return Verdict(True, f"Tin ưu tiên sẽ phát {when} (buổi {first.window.id}; "
                         f"nếu chưa phát được trước {first.hard_stop:%H:%M:%S} thì hủy)",
                   f"Priority clip airs {when_en} (slot {first.window.id}; "
                   f"expires if not aired by {first.hard_stop:%H:%M:%S})")


def priority_expiry(plans: list[DayPlan], now: datetime) -> datetime | None:
    """When an accepted priority clip stops being worth airing: the end of the run it was promised to."""
    ahead = runs_ahead([p for p in plans if p.date == now.date()], now)
    return ahead[0].hard_stop if ahead else None


class BreakInSpool:
    def __init__(self, state_dir: Path):
        self.folder = Path(state_dir) / "break-in"

    def submit(self, request: BreakInRequest) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        return _write_atomic(self.folder / f"{request.id}.json", asdict(request))

    def pending(self) -> list[BreakInRequest]:
        """Requests waiting, oldest first; each is removed from the spool as it is read."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns):
            if path.name.endswith(".answer.json"):
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                found.append(BreakInRequest(**data))
            except (ValueError, TypeError, OSError):
                pass  # half-written by hand or corrupt: drop it rather than loop on it
            path.unlink(missing_ok=True)
        return found

    def answer(self, request_id: str, verdict: Verdict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.folder / f"{request_id}.answer.json", asdict(verdict))

    def wait_answer(self, request_id: str, timeout: float) -> Verdict | None:
        path = self.folder / f"{request_id}.answer.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.exists():
                verdict = Verdict(**json.loads(path.read_text(encoding="utf-8")))
                path.unlink(missing_ok=True)
                return verdict
            time.sleep(0.05)
        return None

    def withdraw(self, request_id: str) -> bool:
        """Take back a request nobody picked up; True if it was still waiting."""
        path = self.folder / f"{request_id}.json"
        if path.exists():
            path.unlink(missing_ok=True)
            return True
        return False


class HeldPriority:
    """Accepted priority clips not yet aired, on disk so that a restart does not lose them."""

    def __init__(self, state_dir: Path):
        self.folder = Path(state_dir) / "break-in" / "held"

    def keep(self, request: BreakInRequest, expires: datetime) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.folder / f"{request.id}.json",
                      {"request": asdict(request), "expires": expires.isoformat(timespec="milliseconds")})

    def all(self) -> list[tuple[BreakInRequest, datetime]]:
        """Held clips, oldest request first (unreadable records are dropped rather than looped on)."""
        found = []
        for path in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                found.append((BreakInRequest(**data["request"]), datetime.fromisoformat(data["expires"])))
            except (ValueError, TypeError, KeyError, OSError):
                path.unlink(missing_ok=True)
        return sorted(found, key=lambda held: held[0].requested_at)

    def drop(self, request_id: str) -> None:
        (self.folder / f"{request_id}.json").unlink(missing_ok=True)


def ask_daemon(state_dir: Path, request: BreakInRequest, timeout: float = 10.0) -> tuple[Verdict | None, bool]:
    """Hand a request to the running daemon and wait for its verdict: (verdict, taken). With no answer in time
    the request is withdrawn if still waiting; `taken` says whether the daemon had picked it up anyway."""
    spool = BreakInSpool(state_dir)
    spool.submit(request)
    verdict = spool.wait_answer(request.id, timeout=timeout)
    if verdict is not None:
        return verdict, True
    return None, not spool.withdraw(request.id)


def _write_atomic(target: Path, data: dict) -> Path:
    return write_atomic(target, json.dumps(data, ensure_ascii=False))
