"""Who may approve, and approving or rejecting any local clip in the library (TT 39/2020).

A person is a name and, from the web console, a role; `approval.approvers` lists names and
`approval.approver_roles` roles that may approve. Local content that needs approval (`approval.required_for`)
enters the library pending unless an approver adds it, in which case the approval is recorded at once.
District clips arrive signed by the district and count as approved. Bulletins have their own steps in
`desk.py`; this module is shared by both.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from broadcaster.bulletins.settings import ApprovalSettings, ContentKind, approval_settings
from broadcaster.bulletins.store import BulletinStore, Decision
from broadcaster.library.catalogue import Library, station_library
from broadcaster.model import Approval, LibraryItem
from broadcaster.problems import BroadcasterError, Problem
from broadcaster.station.config import Station

DISTRICT_SIGNED = "Đài huyện (đã ký số)"
BULLETIN_SOURCE = "bulletin"


@dataclass(frozen=True)
class Person:
    name: str
    role: str = ""  # the web console's role for the login; the CLI has none


def _same_name(a: str, b: str) -> bool:
    return unicodedata.normalize("NFC", a).strip().casefold() == unicodedata.normalize("NFC", b).strip().casefold()


def may_approve(settings: ApprovalSettings, person: Person | None) -> bool:
    if person is None or not person.name.strip():
        return False
    return any(_same_name(person.name, name) for name in settings.approvers) or (
        bool(person.role) and person.role in settings.approver_roles)


def require_approver(settings: ApprovalSettings, person: Person | None, field: str = "--by") -> Person:
    if person is None or not person.name.strip():
        raise BroadcasterError([Problem(field, "chưa ghi ai duyệt", "who approves is not given",
                                        "thêm --by \"Họ tên\" (người có tên trong approval.approvers)",
                                        "add --by \"Full name\" (someone listed in approval.approvers)")])
    if not may_approve(settings, person):
        who = person.name + (f" ({person.role})" if person.role else "")
        allowed = ", ".join(settings.approvers + settings.approver_roles) or "chưa có ai / nobody yet"
        raise BroadcasterError([Problem(
            field, f"{who} không có quyền duyệt", f"{who} may not approve",
            f"người duyệt: {allowed} (config.yaml, approval.approvers / approver_roles)",
            f"approvers: {allowed} (config.yaml, approval.approvers / approver_roles)")])
    return person


def kind_of(source: str) -> ContentKind | None:
    """What approval rule an item falls under; None for district clips (signed, so approved)."""
    if source.startswith("district:"):
        return None
    return ContentKind.BULLETIN if source == BULLETIN_SOURCE else ContentKind.LOCAL


def approval_on_arrival(settings: ApprovalSettings, source: str, person: Person | None) -> Approval:
    kind = kind_of(source)
    if kind is None or kind not in settings.required_for or may_approve(settings, person):
        return Approval.APPROVED
    return Approval.PENDING


def station_store(station: Station) -> BulletinStore:
    return BulletinStore.of_station(station)


def now_at(station: Station) -> datetime:
    return datetime.now(station.zone)


def record_arrival(station: Station, item: LibraryItem, person: Person | None) -> None:
    """An approver added local content: their approval goes into the record with the audio's hash."""
    settings = approval_settings(station)
    kind = kind_of(item.source)
    if kind is None or kind not in settings.required_for or not may_approve(settings, person):
        return
    store = station_store(station)
    with store.transaction() as db:
        store.record(db, at=now_at(station), by=person.name, role=person.role, decision=Decision.APPROVED,
                     kind=kind.value, title=item.title, audio_sha256=item.sha256, comment="duyệt khi nhập / at ingest")


def find_item(library: Library, ref: str) -> LibraryItem:
    """An item by its file (as `library list` shows it) or the first 8+ characters of its sha256."""
    item = library.by_file(ref)
    if item is None and len(ref) >= 8:
        matches = [i for i in library.items() if i.sha256.startswith(ref.lower())]
        item = matches[0] if len(matches) == 1 else None
    if item is None:
        raise BroadcasterError([Problem(ref, "không có mục này trong thư viện", "no such item in the library",
                                        "ghi tệp như 'library list' hiện, hoặc 8 ký tự đầu của sha256",
                                        "give the file as 'library list' shows it, or the first 8 characters of "
                                        "its sha256")])
    return item


def decide_item(station: Station, ref: str, person: Person, decision: Decision, comment: str = "") -> LibraryItem:
    """Approve or reject one local clip; the catalogue changes and the record gets a row, or neither does."""
    settings = approval_settings(station)
    require_approver(settings, person)
    library = station_library(station)
    item = find_item(library, ref)
    if item.source == BULLETIN_SOURCE:
        raise BroadcasterError([Problem(item.file, "đây là âm thanh của một thông báo", "this is a bulletin's audio",
                                        "dùng: python main.py bulletin approve|reject ID",
                                        "use: python main.py bulletin approve|reject ID")])
    if kind_of(item.source) is None:
        raise BroadcasterError([Problem(item.file, "bài của đài huyện đã được ký số, không cần duyệt ở xã",
                                        "district clips are signed and need no approval here")])
    if decision == Decision.REJECTED and not comment.strip():
        raise BroadcasterError([Problem("--comment", "từ chối cần ghi lý do", "a rejection needs a reason",
                                        "thêm --comment \"lý do\"", "add --comment \"why\"")])
    target = Approval.APPROVED if decision == Decision.APPROVED else Approval.REJECTED
    if item.approval == target:
        raise BroadcasterError([Problem(item.file, f"mục này đã ở trạng thái {target}", f"the item is already {target}",
                                        "không cần làm gì thêm", "nothing more to do")])
    before = item.approval
    item = library.set_approval(item.sha256, target)
    store = station_store(station)
    try:
        with store.transaction() as db:
            store.record(db, at=now_at(station), by=person.name, role=person.role, decision=decision,
                         kind=ContentKind.LOCAL.value, title=item.title, audio_sha256=item.sha256, comment=comment)
    except BroadcasterError:
        library.set_approval(item.sha256, before)  # no approval without its record
        raise
    return item


def approvers_by_audio(station: Station) -> dict[str, str]:
    """Who let each audio air, for the logbook and report: the approver's name, or the district's signature."""
    found = {sha: record.by + (" (khẩn cấp)" if record.emergency else "")
             for sha, record in station_store(station).approvers_by_audio().items()}
    if station.paths.catalogue.exists():
        for item in station_library(station).items():
            if item.source.startswith("district:"):
                found.setdefault(item.sha256, DISTRICT_SIGNED)
    return found
