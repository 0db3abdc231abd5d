"""Break-ins (phát khẩn cấp / ưu tiên): who may interrupt the schedule, and how a request reaches the daemon.

Circular 39/2020 levels: *emergency* (khẩn cấp) airs now with a short fade, even inside an online-learning
blackout but only when the operator confirms; *priority* (ưu tiên) airs at the next item boundary inside a slot
(one accepted between slots opens the next slot, ahead of its first item) and never inside a blackout.

Hand-over is a spool folder, `paths.state/break-in/`: `play-now` writes `<id>.json` atomically (temp file and
rename), the daemon takes it within half a second and answers with `<id>.answer.json` (accepted or refused, with
the bilingual reason). No socket to keep alive, nothing lost if the daemon restarts: a request written while it
is down is taken when it is back, unless it is stale by then.

An accepted priority clip waits for an item boundary, possibly for the next slot. Until it has aired (or the
engine gave up on it) it is kept in `break-in/held/<id>.json` with its expiry, the end of the slot it was
promised to (`judge` says which): a restart re-hands it to the engine, and once that slot is over it expires
with a `skipped` row in the as-run log instead of airing hours or days late.

The folder belongs to the daemon: it makes `break-in/` (and `held/`, `rejected/`) at start, group-writable and
setgid for its own group, so anyone in the service's group can ask (docs/deploy.md). A request is checked on its
own: one that is malformed (bad JSON, a field of the wrong kind, an id that is not a plain hex ticket) is moved
to `rejected/` with a `.why.json` beside it, and never keeps another request from airing. Ids are only ever
used as file names after `checked_id` has matched them in full.

Every as-run row of a priority request the daemon took ends its reason with `[ticket <id>]`: the row is written
a moment before the held record is removed, so after a crash in between the restarted daemon finds the row and
does not air the clip a second time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from broadcaster.asrun.log import ticket_tag
from broadcaster.files import write_atomic
from broadcaster.model import LEVELS, DayPlan, Level
from broadcaster.planning.runs import runs_ahead

STALE_SECONDS = 120.0  # an emergency request older than this is not aired late without a human noticing
SPOOL_MODE = 0o2770  # rwx for the daemon's user and group, setgid: files made inside keep the group
_ID = re.compile(r"[0-9a-f]{8,32}")
MAX_REASON = 2000


class BadRequest(ValueError):
    """A spool request that cannot be taken as it is (bilingual reason)."""

    def __init__(self, message_vi: str, message_en: str):
        super().__init__(f"{message_vi} / {message_en}")
        self.message_vi, self.message_en = message_vi, message_en


def checked_id(request_id: object) -> str:
    """The request id, if it is a plain ticket (8-32 lowercase hex): the only form ever used in a file name."""
    if not isinstance(request_id, str) or not _ID.fullmatch(request_id):
        raise BadRequest(f"mã yêu cầu không hợp lệ: {str(request_id)[:80]!r}",
                         f"invalid request id: {str(request_id)[:80]!r} (8-32 lowercase hex digits)")
    return request_id


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
    def parse(data: object) -> BreakInRequest:
        """A request read from the spool, every field checked; BadRequest says which one is wrong."""
        if not isinstance(data, dict):
            raise BadRequest("yêu cầu không phải một đối tượng JSON", "the request is not a JSON object")
        names = {"id", "file", "level", "reason", "confirm", "requested_at"}
        if set(data) != names:
            missing, extra = sorted(names - set(data)), sorted(set(data) - names)
            raise BadRequest(f"thiếu trường {missing}, thừa trường {extra}",
                             f"missing fields {missing}, unknown fields {extra}")
        checked_id(data["id"])
        if data["level"] not in LEVELS:
            raise BadRequest(f"mức không hợp lệ: {data['level']!r}", f"level must be one of {LEVELS}")
        if not isinstance(data["file"], str) or not Path(data["file"]).is_absolute():
            raise BadRequest("tệp phải là đường dẫn tuyệt đối", "file must be an absolute path")
        if not isinstance(data["reason"], str) or len(data["reason"]) > MAX_REASON:
            raise BadRequest(f"lý do phải là chữ, tối đa {MAX_REASON} ký tự",
                             f"reason must be text of at most {MAX_REASON} characters")
        if not isinstance(data["confirm"], bool):
            raise BadRequest("confirm phải là true/false", "confirm must be true or false")
        try:
            moment = datetime.fromisoformat(data["requested_at"])
        except (TypeError, ValueError):
            moment = None
        if moment is None or moment.tzinfo is None:
            raise BadRequest(f"requested_at không phải thời điểm có múi giờ: {str(data['requested_at'])[:40]!r}",
                             f"requested_at is not a time with its zone: {str(data['requested_at'])[:40]!r}")
        return BreakInRequest(**data)

    @staticmethod
    def new(file: Path, level: str, reason: str, confirm: bool, now: datetime) -> BreakInRequest:
        return BreakInRequest(uuid.uuid4().hex[:12], str(Path(file).resolve()), level, reason, confirm,
                              now.isoformat(timespec="milliseconds"))


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
    if level == Level.EMERGENCY:
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
        self.rejected = self.folder / "rejected"

    def prepare(self) -> list[str]:
        """The daemon's start: the folder, `held/` and `rejected/` made with SPOOL_MODE for the daemon's own user
        and group. A folder someone else made (root running play-now first) is moved aside, its waiting
        requests copied into the new one. Returns what was done, for the daemon's log."""
        done = []
        if self.folder.exists() and not _ours(self.folder):
            aside = self.folder.with_name(f"break-in.not-ours-{os.getpid()}-{time.time_ns()}")
            os.replace(self.folder, aside)
            done.append(f"{self.folder} belonged to uid {aside.stat().st_uid}: moved aside to {aside.name}")
            self._make_all()
            for old in sorted(aside.glob("*.json")):
                if not old.name.endswith(".answer.json") and old.is_file() and not old.is_symlink():
                    shutil.copyfile(old, self.folder / old.name)
                    done.append(f"request {old.name} carried over")
            held = aside / "held"
            for old in sorted(held.glob("*.json")) if held.is_dir() else []:
                if old.is_file() and not old.is_symlink():
                    shutil.copyfile(old, self.folder / "held" / old.name)
        else:
            self._make_all()
        return done

    def _make_all(self) -> None:
        for folder in (self.folder, self.folder / "held", self.rejected):
            folder.mkdir(parents=True, exist_ok=True)
            os.chown(folder, -1, os.getegid())
            os.chmod(folder, SPOOL_MODE)

    def submit(self, request: BreakInRequest) -> Path:
        """Hand a request to the daemon (which made the folder); BroadcasterError, bilingual, if it cannot."""
        try:
            if not self.folder.exists():  # no daemon has run here yet (a feed sync): its start fixes the owner
                self.folder.mkdir(mode=SPOOL_MODE, parents=True)
            return _write_atomic(self.folder / f"{checked_id(request.id)}.json", asdict(request))
        except OSError as err:
            raise spool_error(self.folder, err) from None

    def pending(self) -> list[BreakInRequest]:
        """Requests waiting, oldest first; each is removed from the spool as it is read, and a malformed one is
        moved to rejected/ with its reason (the others are taken all the same)."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob("*.json"), key=_mtime):
            if path.name.endswith(".answer.json") or path.name.startswith("."):
                continue
            try:
                request = self._read(path)
            except BadRequest as bad:
                self.reject(path, bad.message_vi, bad.message_en)
                continue
            except OSError:
                continue  # gone meanwhile (withdrawn)
            found.append(request)
            path.unlink(missing_ok=True)
        return found

    @staticmethod
    def _read(path: Path) -> BreakInRequest:
        if path.is_symlink() or not path.is_file():
            raise BadRequest("không phải tệp thường", "not a regular file")
        if path.stat().st_size > 64 * 1024:
            raise BadRequest("tệp yêu cầu quá lớn", "request file too big (over 64 KB)")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as err:
            raise BadRequest(f"JSON hỏng: {err}", f"broken JSON: {err}") from None
        request = BreakInRequest.parse(data)
        if path.stem != request.id:
            raise BadRequest("tên tệp khác mã yêu cầu", f"file name {path.name} does not match id {request.id}")
        return request

    def reject(self, path: Path, message_vi: str, message_en: str) -> None:
        """Move a spool file to rejected/ with `<name>.why.json` beside it (never lost, never read again)."""
        self.rejected.mkdir(parents=True, exist_ok=True)
        target = self.rejected / path.name
        try:
            os.replace(path, target)
            _write_atomic(self.rejected / f"{path.name}.why.json",
                          {"message_vi": message_vi, "message_en": message_en,
                           "at": datetime.now().astimezone().isoformat(timespec="milliseconds")})
        except OSError:
            path.unlink(missing_ok=True)  # cannot be kept: at least not read again every tick
        if _ID.fullmatch(path.stem):  # play-now may be waiting: it prints the reason
            try:
                self.answer(path.stem, Verdict(False, f"Yêu cầu bị từ chối: {message_vi}",
                                               f"Request rejected: {message_en}"))
            except OSError:
                pass

    def answer(self, request_id: str, verdict: Verdict) -> None:
        _write_atomic(self.folder / f"{checked_id(request_id)}.answer.json", asdict(verdict))

    def wait_answer(self, request_id: str, timeout: float) -> Verdict | None:
        path = self.folder / f"{checked_id(request_id)}.answer.json"
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
        path = self.folder / f"{checked_id(request_id)}.json"
        if path.exists():
            path.unlink(missing_ok=True)
            return True
        return False


def _ours(folder: Path) -> bool:
    """Made by this user (so it can set its mode); root's own folders are root's."""
    return folder.is_dir() and not folder.is_symlink() and folder.stat().st_uid == os.geteuid()


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def spool_error(folder: Path, err: OSError):
    """Why play-now cannot hand a request over, and what to do."""
    from broadcaster.problems import fail

    try:
        st = folder.stat()
        import grp
        import pwd

        owner = f"{pwd.getpwuid(st.st_uid).pw_name}:{grp.getgrgid(st.st_gid).gr_name} {st.st_mode & 0o7777:04o}"
    except (OSError, KeyError):
        owner = "không có / missing"
    return fail(str(folder), f"không ghi được yêu cầu vào thư mục phát khẩn ({err.strerror or err}; "
                             f"chủ sở hữu {owner})",
                f"cannot write the request into the break-in folder ({err.strerror or err}; owner {owner})",
                "chạy lệnh bằng người dùng của dịch vụ, hoặc thêm người dùng này vào nhóm của dịch vụ "
                "(usermod -aG <nhóm> <người dùng>); trạm phát tạo thư mục với quyền 2770 khi khởi động",
                "run play-now as the service's user, or add this user to the service's group "
                "(usermod -aG <group> <user>); the daemon makes the folder mode 2770 for its group at start")


class HeldPriority:
    """Accepted priority clips not yet aired, on disk so that a restart does not lose them."""

    def __init__(self, state_dir: Path):
        self.folder = Path(state_dir) / "break-in" / "held"

    def keep(self, request: BreakInRequest, expires: datetime) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.folder / f"{checked_id(request.id)}.json",
                      {"request": asdict(request), "expires": expires.isoformat(timespec="milliseconds")})

    def all(self) -> list[tuple[BreakInRequest, datetime]]:
        """Held clips, oldest request first (unreadable records are dropped rather than looped on)."""
        found = []
        for path in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                request = BreakInRequest.parse(data["request"])
                if path.stem != request.id:
                    raise BadRequest("tên tệp khác mã", f"file name {path.name} does not match id {request.id}")
                found.append((request, datetime.fromisoformat(data["expires"])))
            except (ValueError, TypeError, KeyError, OSError):  # BadRequest is a ValueError
                path.unlink(missing_ok=True)
        return sorted(found, key=lambda held: held[0].requested_at)

    def drop(self, request_id: str) -> None:
        (self.folder / f"{checked_id(request_id)}.json").unlink(missing_ok=True)


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
