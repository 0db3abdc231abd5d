"""Which bulletins aired in a period and who approved them: the as-run log joined with the approval record by
the audio's sha256 (the log says what aired, the record says who let it). For the report's appendix."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from broadcaster.asrun.figures import AiredBulletin, logged_items
from broadcaster.bulletins.store import BulletinStore
from broadcaster.station.config import Station


def aired_bulletins(log_path: str | Path, station: Station, first: date, last: date) -> list[AiredBulletin]:
    store = BulletinStore.of_station(station)
    bulletins = {b.audio_sha256: b for b in store.bulletins()}
    if not bulletins:
        return []
    approvals = store.approvers_by_audio()
    found: dict[str, dict] = {}
    for item in logged_items(log_path, station, first, last):
        bulletin = bulletins.get(item.sha256)
        if bulletin is None:
            continue
        aired = f"{item.day} {item.start}"
        seen = found.setdefault(item.sha256, {"plays": 0, "seconds": 0.0, "first": aired, "last": aired})
        seen["plays"] += 1
        seen["seconds"] += item.seconds
        seen["last"] = aired
    out = []
    for sha, seen in found.items():
        bulletin, approval = bulletins[sha], approvals.get(sha)
        out.append(AiredBulletin(
            bulletin_id=bulletin.id, title=bulletin.title, plays=seen["plays"], minutes=seen["seconds"] / 60,
            first_aired=seen["first"], last_aired=seen["last"], approved_by=approval.by if approval else "",
            approved_at=approval.at if approval else "", emergency=bulletin.emergency))
    return sorted(out, key=lambda b: (b.first_aired, b.bulletin_id))
