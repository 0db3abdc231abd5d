"""The bulletin desk: write, edit, approve, reject and withdraw commune bulletins.

These are the functions the command line and the web console both call, so each rule lives here once.
Writing one: check the input, normalise the text, synthesise it, compose the clip, ingest it like any clip
(loudness, station copy, catalogue) as a draft, then store the bulletin. A draft is never planned. Editing an
approved bulletin makes a new draft; the approved audio keeps airing until that draft is approved, and is then
retired. Every approval, rejection and withdrawal goes into the append-only record with the text's and the
audio's sha256. Whatever fails part-way takes back what it had added, so nothing half-made stays in the library.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from datetime import date

from broadcaster.bulletins.approval import (
    BULLETIN_SOURCE,
    Person,
    approval_on_arrival,
    now_at,
    require_approver,
    station_store,
)
from broadcaster.bulletins.compose import compose, load_chime
from broadcaster.bulletins.settings import BulletinSettings, ContentKind, approval_settings, bulletin_settings
from broadcaster.bulletins.speech import speech_engine, unknown_voice
from broadcaster.bulletins.store import Bulletin, BulletinStatus, BulletinStore, Decision, text_sha256
from broadcaster.bulletins.text import Abbreviations, check_speakable, normalise
from broadcaster.library.catalogue import station_library
from broadcaster.model import Approval
from broadcaster.problems import BroadcasterError, Problem
from broadcaster.station.config import Station
from broadcaster.station.playlists import Quota


@dataclass(frozen=True)
class Draft:
    """What the writer typed and chose; None means the station's default from config."""

    title: str
    text: str
    voice: str | None = None
    rate: int | None = None
    category: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    plays: Quota | None = None
    emergency: bool = False


@dataclass(frozen=True)
class Spoken:
    paragraphs: list[str]
    audio: object  # pydub AudioSegment
    engine: str
    voice: str
    rate: int


def speak(settings: BulletinSettings, draft: Draft, source: str = "--text-file") -> Spoken:
    """Check, normalise, synthesise and compose; raises BroadcasterError before any file is written."""
    check_speakable(draft.text, source, settings.max_chars)
    engine = speech_engine(settings)
    voice = draft.voice or settings.voice
    if voice not in engine.voices():
        raise unknown_voice(voice, engine.voices())
    rate = draft.rate or settings.rate
    if not 80 <= rate <= 450:
        raise BroadcasterError([Problem("--rate", f"tốc độ đọc {rate} ngoài khoảng 80–450 từ/phút",
                                        f"speaking rate {rate} outside 80-450 words a minute",
                                        "thường dùng 130–160", "130-160 is usual")])
    paragraphs = normalise(draft.text, Abbreviations.load(settings.abbreviations))
    opening = load_chime(settings.opening_chime) if settings.opening_chime else None
    closing = load_chime(settings.closing_chime) if settings.closing_chime else None
    audio = compose([engine.speak(p, voice, rate) for p in paragraphs], pause_seconds=settings.pause_seconds,
                    fade_seconds=settings.fade_seconds, opening=opening, closing=closing)
    return Spoken(paragraphs, audio, engine.name, voice, rate)


def plays_per_day(text: str | None) -> Quota | None:
    """'2-3' (or '2') as written after --plays-per-day or in the console's form; None when not given."""
    if not text or not text.strip():
        return None
    low, _, high = text.replace("–", "-").strip().partition("-")
    try:
        quota = Quota(int(low), int(high) if high else int(low))
        if quota.min < 0 or quota.max < quota.min:
            raise ValueError
        return quota
    except ValueError:
        raise BroadcasterError([Problem("--plays-per-day", f"số lần phát/ngày không hợp lệ: {text!r}",
                                        f"bad plays a day {text!r}", "viết dạng 2-3", "write it as 2-3")]) from None


def _check_draft(draft: Draft) -> None:
    problems = []
    if not draft.title.strip():
        problems.append(Problem("--title", "thiếu tiêu đề", "no title", "thêm --title \"…\"", "add --title \"…\""))
    if draft.valid_from and draft.valid_until and draft.valid_until < draft.valid_from:
        problems.append(Problem("--valid-until", "ngày hết hạn trước ngày bắt đầu", "valid-until is before valid-from",
                                "sửa lại ngày", "correct the dates"))
    if problems:
        raise BroadcasterError(problems)


def write_bulletin(station: Station, draft: Draft, person: Person, *, approve: bool = False,
                   replaces: Bulletin | None = None, source: str = "--text-file") -> Bulletin:
    """Make the clip and add the bulletin, as a draft or (an approver, `approve`) approved at once."""
    settings = bulletin_settings(station)
    rules = approval_settings(station)
    _check_draft(draft)
    if approve:
        require_approver(rules, person)
    spoken = speak(settings, draft, source)
    category = draft.category or settings.category
    arrival = Approval.APPROVED if approve else approval_on_arrival(rules, BULLETIN_SOURCE, None)
    library = station_library(station)
    with tempfile.TemporaryDirectory(prefix=".bulletin-", dir=_work_dir(station)) as tmp:
        wav = f"{tmp}/{category}.wav"
        spoken.audio.export(wav, format="wav")
        result = library.ingest(wav, category=category, title=draft.title.strip(), valid_from=draft.valid_from,
                                valid_until=draft.valid_until, priority="emergency" if draft.emergency else "normal",
                                source=BULLETIN_SOURCE, target_lufs=station.audio.target_lufs, approval=arrival)
    if not result.added:
        raise BroadcasterError([Problem("--text-file", f"thông báo này nghe giống hệt {result.item.file} đã có",
                                        f"this bulletin sounds exactly like {result.item.file}, already in the library",
                                        "sửa nội dung, hoặc dùng thông báo đã có", "change the text, or use that one")])
    item = result.item
    store = station_store(station)
    status = BulletinStatus.APPROVED if arrival == Approval.APPROVED else BulletinStatus.DRAFT
    try:
        with store.transaction() as db:
            new_id = store.add(
                db, title=draft.title.strip(), text=draft.text, text_sha256=text_sha256(draft.text),
                spoken="\n\n".join(spoken.paragraphs), engine=spoken.engine, voice=spoken.voice, rate=spoken.rate,
                category=category, valid_from=draft.valid_from, valid_until=draft.valid_until,
                plays_min=draft.plays.min if draft.plays else None, plays_max=draft.plays.max if draft.plays else None,
                emergency=draft.emergency, audio_sha256=item.sha256, audio_file=item.file, duration=item.duration,
                status=status, replaces=replaces.id if replaces else None, created_by=person.name,
                created_at=now_at(station).isoformat(timespec="seconds"))
            if approve:
                store.record(db, at=now_at(station), by=person.name, role=person.role, decision=Decision.APPROVED,
                             kind=ContentKind.BULLETIN.value, bulletin_id=new_id, title=item.title,
                             text_sha256=text_sha256(draft.text), audio_sha256=item.sha256,
                             comment="khẩn cấp / emergency" if draft.emergency else "", emergency=draft.emergency)
                if replaces is not None:
                    _retire_replaced(store, db, replaces)
            elif replaces is not None and replaces.status == BulletinStatus.DRAFT:
                _retire_replaced(store, db, replaces)  # a draft edited again: only the newest waits
    except BaseException:
        library.remove(item.sha256)
        raise
    _retire_audio(station, replaces)
    return store.get(new_id)


def _work_dir(station: Station):
    folder = station.paths.state
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _retire_replaced(store, db, old: Bulletin) -> None:
    store.set_status(db, old.id, BulletinStatus.REPLACED)


def _retire_audio(station: Station, old: Bulletin | None) -> None:
    """Take the replaced bulletin's audio out of rotation once its replacement is approved (or it was a draft)."""
    if old is None:
        return
    old = station_store(station).get(old.id)
    if old is None or old.status != BulletinStatus.REPLACED:
        return
    library = station_library(station)
    if library.get(old.audio_sha256) is not None:
        library.remove(old.audio_sha256)


def need_bulletin(station: Station, bulletin_id: int) -> Bulletin:
    bulletin = station_store(station).get(bulletin_id)
    if bulletin is None:
        raise BroadcasterError([Problem("ID", f"không có thông báo số {bulletin_id}", f"no bulletin {bulletin_id}",
                                        "xem: python main.py bulletin list", "see: python main.py bulletin list")])
    return bulletin


def _must_be_draft(store: BulletinStore, bulletin: Bulletin, action_vi: str, action_en: str) -> None:
    if bulletin.status == BulletinStatus.DRAFT:
        return
    last = next(iter(reversed(store.records(bulletin_id=bulletin.id))), None)
    when = f" ({last.by}, {last.at})" if last else ""
    raise BroadcasterError([Problem(
        f"bulletin {bulletin.id}", f"không {action_vi} được: thông báo đang ở trạng thái '{bulletin.status}'{when}",
        f"cannot {action_en}: the bulletin is already {bulletin.status}{when}",
        "chỉ thông báo chờ duyệt mới duyệt hoặc từ chối được; muốn sửa: python main.py bulletin edit ID",
        "only a draft can be approved or rejected; to change it: python main.py bulletin edit ID")])


def approve_bulletin(station: Station, bulletin_id: int, person: Person, comment: str = "") -> Bulletin:
    return _decide(station, bulletin_id, person, Decision.APPROVED, comment)


def reject_bulletin(station: Station, bulletin_id: int, person: Person, comment: str) -> Bulletin:
    if not comment.strip():
        raise BroadcasterError([Problem("--comment", "từ chối cần ghi lý do", "a rejection needs a reason",
                                        "thêm --comment \"lý do\"", "add --comment \"why\"")])
    return _decide(station, bulletin_id, person, Decision.REJECTED, comment)


def _decide(station: Station, bulletin_id: int, person: Person, decision: Decision, comment: str) -> Bulletin:
    store = station_store(station)
    bulletin = need_bulletin(station, bulletin_id)
    if decision == Decision.APPROVED:
        _must_be_draft(store, bulletin, "duyệt", "approve")
    else:
        _must_be_draft(store, bulletin, "từ chối", "reject")
    require_approver(approval_settings(station), person)
    library = station_library(station)
    if library.get(bulletin.audio_sha256) is None:
        raise BroadcasterError([Problem(bulletin.audio_file, "âm thanh của thông báo không còn trong thư viện",
                                        "the bulletin's audio is no longer in the library",
                                        "viết lại thông báo (bulletin edit ID)", "write it again (bulletin edit ID)")])
    target = Approval.APPROVED if decision == Decision.APPROVED else Approval.REJECTED
    library.set_approval(bulletin.audio_sha256, target)
    old = store.get(bulletin.replaces) if bulletin.replaces else None
    try:
        with store.transaction() as db:
            store.record(db, at=now_at(station), by=person.name, role=person.role, decision=decision,
                         kind=ContentKind.BULLETIN.value, bulletin_id=bulletin.id, title=bulletin.title,
                         text_sha256=bulletin.text_sha256, audio_sha256=bulletin.audio_sha256, comment=comment,
                         emergency=bulletin.emergency)
            store.set_status(db, bulletin.id, BulletinStatus(decision.value))
            if decision == Decision.APPROVED and old is not None and old.status == BulletinStatus.APPROVED:
                _retire_replaced(store, db, old)
    except BaseException:
        library.set_approval(bulletin.audio_sha256, Approval.PENDING)  # no approval without its record
        raise
    if decision == Decision.REJECTED:
        library.remove(bulletin.audio_sha256)  # kept in audio/.retired, never planned
    elif old is not None:
        _retire_audio(station, old)
    return store.get(bulletin.id)


def withdraw_bulletin(station: Station, bulletin_id: int, person: Person, comment: str = "") -> Bulletin:
    """Take a draft or an approved bulletin off: its audio is retired and the withdrawal recorded."""
    store = station_store(station)
    bulletin = need_bulletin(station, bulletin_id)
    if bulletin.status not in (BulletinStatus.DRAFT, BulletinStatus.APPROVED):
        raise BroadcasterError([Problem(f"bulletin {bulletin.id}",
                                        f"thông báo đang ở trạng thái '{bulletin.status}', không còn gì để hủy",
                                        f"the bulletin is {bulletin.status}: nothing to withdraw")])
    if not person.name.strip():
        raise BroadcasterError([Problem("--by", "chưa ghi ai hủy", "who withdraws it is not given",
                                        "thêm --by \"Họ tên\"", "add --by \"Full name\"")])
    with store.transaction() as db:
        store.record(db, at=now_at(station), by=person.name, role=person.role, decision=Decision.WITHDRAWN,
                     kind=ContentKind.BULLETIN.value, bulletin_id=bulletin.id, title=bulletin.title,
                     text_sha256=bulletin.text_sha256, audio_sha256=bulletin.audio_sha256, comment=comment)
        store.set_status(db, bulletin.id, BulletinStatus.WITHDRAWN)
    library = station_library(station)
    if library.get(bulletin.audio_sha256) is not None:
        library.remove(bulletin.audio_sha256)
    return store.get(bulletin.id)


def edit_bulletin(station: Station, bulletin_id: int, person: Person, **changes) -> Bulletin:
    """A new draft from a bulletin with `changes` (Draft fields); an approved original keeps airing meanwhile."""
    old = need_bulletin(station, bulletin_id)
    if old.status in (BulletinStatus.WITHDRAWN, BulletinStatus.REPLACED):
        raise BroadcasterError([Problem(f"bulletin {old.id}", f"thông báo đã '{old.status}', không sửa được",
                                        f"the bulletin is {old.status} and cannot be edited",
                                        "sửa bản mới nhất (bulletin list)", "edit the newest version (bulletin list)")])
    pending = [b for b in station_store(station).edits_of(old.id) if b.status == BulletinStatus.DRAFT]
    base = Draft(title=old.title, text=old.text, voice=old.voice, rate=old.rate, category=old.category,
                 valid_from=old.valid_from, valid_until=old.valid_until,
                 plays=Quota(old.plays_min or 0, old.plays_max) if old.plays_min is not None else None,
                 emergency=old.emergency)
    draft = replace(base, **{k: v for k, v in changes.items() if v is not None})
    new = write_bulletin(station, draft, person, replaces=old)
    if pending:  # one waiting edit at a time: earlier waiting edits are replaced by this one
        store = station_store(station)
        with store.transaction() as db:
            for earlier in pending:
                _retire_replaced(store, db, earlier)
        for earlier in pending:
            _retire_audio(station, earlier)
    return new
