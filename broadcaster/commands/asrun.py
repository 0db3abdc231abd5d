"""`log show` and `log verify`: read the as-run log."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

from broadcaster.asrun.log import AsRunLog, damage
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
    show.add_argument("--state", help="the daemon's state folder, for its alarms (default: paths.state)")
    show.set_defaults(handler=cmd_show)
    verify = log_sub.add_parser("verify", parents=[common], help="kiểm tra chuỗi băm / check the hash chain")
    verify.add_argument("--log", help="as-run log file (default: paths.asrun_log from config)")
    verify.add_argument("--anchors", help="JSON anchors from the district (`district anchors --commune ID`): "
                                          "rows cut off or rewritten since are found")
    verify.set_defaults(handler=cmd_verify)


def open_log(args) -> tuple[AsRunLog, object]:
    """The as-run log named by --log, or the station's; and the station zone."""
    station = load_station(args.config)
    path = Path(args.log) if args.log else station.paths.asrun_log
    if not path.exists():
        raise fail(str(path), "không có nhật ký phát sóng", "no as-run log at this path",
                   hint_vi="kiểm tra --log hoặc paths.asrun_log", hint_en="check --log or paths.asrun_log")
    why = damage(path)
    if why:
        raise fail(str(path), f"nhật ký phát sóng bị hỏng: {why}", f"the as-run log is damaged: {why}",
                   "chạy 'log verify'; trạm phát giữ tệp hỏng lại và bắt đầu nhật ký mới khi khởi động",
                   "run 'log verify'; the daemon sets a damaged log aside and starts a new one when it starts")
    return AsRunLog(path, read_only=True), station.zone  # reading must not need a write (a full disk)


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail("--date", f"ngày không hợp lệ: {text!r}", f"not a date: {text!r}",
                   hint_vi="viết dạng YYYY-MM-DD", hint_en="write it as YYYY-MM-DD") from None


def cmd_show(args) -> int:
    from broadcaster.playout.alarms import read_alarms

    state = Path(args.state) if args.state else load_station(args.config).paths.state
    alarms = read_alarms(state)
    for alarm in alarms:  # rows the daemon holds in memory are not in the file yet: say so first
        print(alarm, file=sys.stderr if args.json else sys.stdout)
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
    from broadcaster.asrun.anchors import load_anchors
    from broadcaster.asrun.audit import audit

    station = load_station(args.config)
    path = Path(args.log) if args.log else station.paths.asrun_log
    if not path.exists():
        raise fail(str(path), "không có nhật ký phát sóng", "no as-run log at this path",
                   hint_vi="kiểm tra --log hoặc paths.asrun_log", hint_en="check --log or paths.asrun_log")
    anchors = None
    if args.anchors:
        try:
            anchors = load_anchors(Path(args.anchors))
        except (OSError, ValueError) as err:
            raise fail(args.anchors, f"không đọc được tệp mốc: {err}", f"cannot read the anchors: {err}",
                       "xuất lại bằng 'district anchors --commune <xã>'",
                       "export them again with 'district anchors --commune <id>'") from None
    result = audit(path, anchors)
    for line in result.errors:
        print(f"LỖI/ERROR {line}")
    for line in result.notes:
        print(f"  ({line})")
    if result.ok:
        print(f"OK: {result.rows} dòng, chuỗi băm nguyên vẹn / {result.rows} rows, hash chain intact")
        return 0
    return 1
