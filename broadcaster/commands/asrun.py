"""`log show` and `log verify`: read the as-run log."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

from broadcaster.asrun.log import AsRunLog
from broadcaster.problems import fail
from broadcaster.station.config import load_station, topic_name


def register(sub, common) -> None:
    log = sub.add_parser("log", help="nhật ký phát sóng / the as-run log")
    log_sub = log.add_subparsers(dest="log_command", required=True, metavar="ACTION")
    show = log_sub.add_parser("show", parents=[common], help="xem những gì đã phát / show what aired")
    show.add_argument("--date", required=True, help="YYYY-MM-DD (station time)")
    show.add_argument("--days", type=int, default=1)
    show.add_argument("--json", action="store_true")
    show.add_argument("--log", help="as-run log file (default: paths.asrun_log from config)")
    show.set_defaults(handler=cmd_show)
    verify = log_sub.add_parser("verify", parents=[common], help="kiểm tra chuỗi băm / check the hash chain")
    verify.add_argument("--log", help="as-run log file (default: paths.asrun_log from config)")
    verify.set_defaults(handler=cmd_verify)


def open_log(args) -> tuple[AsRunLog, object]:
    """The as-run log named by --log, or the station's; and the station zone."""
    station = load_station(args.config)
    path = Path(args.log) if args.log else station.paths.asrun_log
    if not path.exists():
        raise fail(str(path), "không có nhật ký phát sóng", "no as-run log at this path",
                   hint_vi="kiểm tra --log hoặc paths.asrun_log", hint_en="check --log or paths.asrun_log")
    return AsRunLog(path), station.zone


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail("--date", f"ngày không hợp lệ: {text!r}", f"not a date: {text!r}",
                   hint_vi="viết dạng YYYY-MM-DD", hint_en="write it as YYYY-MM-DD") from None


def cmd_show(args) -> int:
    log, zone = open_log(args)
    first = parse_day(args.date)
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(first + timedelta(days=max(args.days, 1)), time(0), zone)
    with log:
        entries = log.entries(start, end)
    topics = load_station(args.config).topics
    if args.json:
        print(json.dumps([e.to_json() | {"category_name": topic_name(topics, e.category)} for e in entries],
                         ensure_ascii=False, indent=2))
        return 0
    if not entries:
        print("Không có bản ghi / no entries")
    width = max([14] + [len(topic_name(topics, e.category)) for e in entries])
    for e in entries:
        print(f"{(e.actual_start or e.planned_start or '')[:23]:23}  {e.status:7}  {e.level:9}  {e.slot:8}  "
              f"{topic_name(topics, e.category):{width}}  {e.title}" + (f"  ({e.reason})" if e.reason else ""))
    return 0


def cmd_verify(args) -> int:
    log, _ = open_log(args)
    with log:
        check = log.verify()
    if check.ok:
        print(f"OK: {check.rows} dòng, chuỗi băm nguyên vẹn / {check.rows} rows, hash chain intact")
        return 0
    print(f"HỎNG/BROKEN: dòng {check.first_bad_id} / row {check.first_bad_id}: {check.message}")
    return 1
