"""A real as-run log for report tests: known rows in ISO week 2021-W08 at the demo station (Xã Cẩm Hưng),
written through `AsRunLog.append`, the interface the playout engine uses.

The `demo_log` fixture reaches every test through tests/conftest.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster.asrun.log import AsRunLog

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config.yaml"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
SHA = {key: (key * 64)[:64] for key in "abcdefg"}  # one hash per distinct item

EMERGENCY_REASON = "Lệnh của BCĐ phòng, chống dịch xã: phong tỏa khẩn cấp thôn Đông"
DEVICE_REASON = "thiết bị âm thanh 'default' mất kết nối / sound device lost"


@dataclass(frozen=True)
class Row:
    day: int  # day of February 2021
    clock: str  # HH:MM:SS station time
    seconds: float | None  # None: never started
    slot: str
    category: str
    title: str
    item: str  # key into SHA
    status: str = "aired"
    level: str = "normal"
    reason: str = ""


ROWS = [
    Row(21, "23:59:59", 30, "dem", "bluezone", "Trước kỳ báo cáo", "a"),  # Sunday before the week: not counted
    # Monday 22 Feb 2021 (online lessons Mon–Sat 07:30–11:30, Mon–Fri 13:30–17:00)
    Row(22, "05:30:00", 90, "sang", "bluezone", "Hướng dẫn cài đặt Bluezone", "a"),
    Row(22, "05:31:30", 180, "sang", "covid-song", "Ghen Cô Vy", "b"),
    Row(22, "05:34:30", 60, "sang", "khai-bao-y-te", "Khai báo y tế điện tử", "c"),
    Row(22, "09:00:00", 120, "", "khan-cap", "Thông báo khẩn: phong tỏa thôn Đông", "f", level="emergency",
        reason=EMERGENCY_REASON),
    Row(22, "11:30:00", 90, "trua", "bluezone", "Hướng dẫn cài đặt Bluezone", "a"),
    Row(22, "11:31:30", 100, "trua", "covid-song", "Ghen Cô Vy", "b", status="partial",
        reason="cắt khi hết buổi phát / cut at the end of the slot"),
    Row(22, "17:00:00", None, "chieu", "bluezone", "Hướng dẫn cài đặt Bluezone", "a", status="failed",
        reason=DEVICE_REASON),
    Row(22, "17:00:05", 180, "chieu", "covid-song", "Ghen Cô Vy", "b"),
    # Tuesday 23 Feb
    Row(23, "05:30:00", 75, "sang", "bluezone", "Bluezone: bật Bluetooth", "d"),
    Row(23, "05:31:15", 200, "sang", "covid-song", "Việt Nam ơi! Đánh bay COVID", "e"),
    Row(23, "05:34:35", None, "sang", "khai-bao-y-te", "Khai báo y tế điện tử", "c", status="skipped",
        reason="không đủ thời gian trong buổi / no time left in the slot"),
    Row(23, "11:29:00", 120, "trua", "tin-xa", "Tin hoạt động xã", "g"),  # a fault: 60 s inside the lessons
    # Sunday 28 Feb: no lessons on Sunday
    Row(28, "17:00:00", 180, "chieu", "covid-song", "Ghen Cô Vy", "b"),
    Row(28, "23:59:59", None, "chieu", "covid-song", "Ghen Cô Vy", "b", status="skipped", reason="hết buổi"),
]
AFTER = Row(1, "05:30:00", 90, "sang", "bluezone", "Sau kỳ báo cáo", "a")  # 1 March: not counted

# What the week 2021-02-22..28 must show.
EXPECTED_TOPICS = {  # category: (plays, items, minutes)
    "bluezone": (3, 2, (90 + 90 + 75) / 60),
    "covid-song": (4, 2, (180 + 180 + 200 + 180) / 60),
    "khai-bao-y-te": (1, 1, 1.0),
    "khan-cap": (1, 1, 2.0),
    "tin-xa": (1, 1, 2.0),
}
EXPECTED_PLAYS = 10
EXPECTED_SESSIONS = 6  # Mon sang/trua/chieu, Tue sang/trua, Sun chieu; the break-in is not a session
EXPECTED_BLACKOUT_SECONDS = 180.0  # 120 s emergency + 60 s fault
WEEK = ("2021-02-22", "2021-02-28")


def moment(row: Row) -> datetime:
    month = 3 if row is AFTER else 2
    return datetime.fromisoformat(f"2021-{month:02d}-{row.day:02d}T{row.clock}").replace(tzinfo=ZONE)


def write_log(path: Path, rows: list[Row] = (*ROWS, AFTER)) -> Path:
    with AsRunLog(path) as log:
        for row in rows:
            start = moment(row)
            sounded = row.seconds is not None
            log.append(planned_start=start, actual_start=start if sounded else None,
                       actual_end=start + timedelta(seconds=row.seconds) if sounded else None,
                       status=row.status, slot=row.slot, category=row.category, title=row.title,
                       file=f"audio/{row.category}/{row.item}.mp3", sha256=SHA[row.item], level=row.level,
                       reason=row.reason)
    return path


@pytest.fixture
def demo_log(tmp_path: Path) -> Path:
    return write_log(tmp_path / "asrun.sqlite")
