"""`validate` and `plan`: check the station's files and show what will play when."""

from __future__ import annotations

import json
from datetime import date

from broadcaster.bulletins.settings import bulletin_problems
from broadcaster.feed.settings import feed_problems
from broadcaster.model import LibraryItem
from broadcaster.planning.inputs import library_items, planner_inputs
from broadcaster.planning.planner import plan_days
from broadcaster.planning.view import plans_to_json, rundown, timeline_png
from broadcaster.problems import BroadcasterError, Problem, fail
from broadcaster.station.config import Station, load_station
from broadcaster.station.playlists import load_playlists


def register(sub, common) -> None:
    validate = sub.add_parser("validate", parents=[common],
                              help="kiểm tra cấu hình, danh sách phát, thư viện / check config, playlists, library")
    validate.set_defaults(handler=cmd_validate)
    plan = sub.add_parser("plan", parents=[common], help="xem lịch phát / show what will play when")
    plan.add_argument("--date", required=True, help="YYYY-MM-DD (station time)")
    plan.add_argument("--days", type=int, default=1)
    plan.add_argument("--json", action="store_true", help="the stable JSON form (docs/cli.md)")
    plan.add_argument("--png", metavar="FILE", help="also draw a timeline picture")
    plan.set_defaults(handler=cmd_plan)


def library_problems(station: Station, playlists: dict, items: list[LibraryItem]) -> list[Problem]:
    """Files named by playlists but missing, audio dropped into audio/ but never catalogued, gone files."""
    from broadcaster.library.catalogue import Library, station_library

    problems: list[Problem] = []
    files = {i.file for i in items}
    for playlist in playlists.values():
        for pick in playlist.picks():
            if pick.file and pick.file not in files:
                problems.append(Problem(
                    playlist.file, f"tệp '{pick.file}' không có trong thư viện", f"file '{pick.file}' is not in the "
                    "library", "nạp tệp bằng 'python main.py ingest' hoặc sửa tên",
                    "add it with 'python main.py ingest' or fix the name", field="file"))
    for item in items:
        if not (station.paths.audio / item.file).exists():
            problems.append(Problem(
                str(station.paths.audio / item.file), "tệp đã mất khỏi thư mục audio/", "file is gone from audio/",
                "chạy 'python main.py library rebuild'", "run 'python main.py library rebuild'"))
    if station.paths.catalogue.exists():
        for item in station_library(station).missing_copies():
            problems.append(Problem(
                str(station.paths.audio / item.file), "chưa có bản sao định dạng đài: bài vẫn phát, nhưng máy "
                "phải giải mã khi phát (tốn CPU)", "no station copy: it plays, but is decoded on air (costs CPU)",
                "chạy 'python main.py library rebuild'", "run 'python main.py library rebuild'", severity="warning"))
        for path in Library(station.paths.catalogue, station.paths.audio).untracked():
            problems.append(Problem(
                str(path), "tệp âm thanh chưa có trong danh mục", "audio file is not in the catalogue",
                "chạy 'python main.py library rebuild' hoặc 'ingest'", "run 'python main.py library rebuild' or "
                "'ingest'", severity="warning"))
    return problems


def cmd_validate(args) -> int:
    problems: list[Problem] = []
    try:
        station = load_station(args.config)
    except BroadcasterError as err:
        for p in err.problems:
            print(p)
        return 2
    problems.extend(station.warnings)
    playlists = {}
    try:
        playlists = load_playlists(station)
    except BroadcasterError as err:
        problems.extend(err.problems)
    items = library_items(station)
    problems.extend(library_problems(station, playlists, items))
    problems.extend(feed_problems(station))
    problems.extend(bulletin_problems(station))
    for p in problems:
        print(p)
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if errors:
        print(f"{errors} lỗi, {warnings} cảnh báo / {errors} errors, {warnings} warnings")
        return 2
    print(f"OK: {station.identity.name} — {len(station.slots)} buổi phát/slots, {len(playlists)} danh sách/playlists,"
          f" {len(items)} tệp/files ({warnings} cảnh báo/warnings)")
    return 0


def cmd_plan(args) -> int:
    station = load_station(args.config)
    try:
        first = date.fromisoformat(args.date)
    except ValueError:
        raise fail("--date", f"ngày không hợp lệ: {args.date!r}", f"not a date: {args.date!r}",
                   hint_vi="viết dạng YYYY-MM-DD", hint_en="write it as YYYY-MM-DD") from None
    if not 1 <= args.days <= 3660:
        raise fail("--days", "số ngày phải từ 1 đến 3660", "--days must be 1 to 3660")
    playlists, items = planner_inputs(station)
    plans = plan_days(station, playlists, items, first, args.days)
    if args.json:
        print(json.dumps(plans_to_json(plans, station.timezone, station.topics), ensure_ascii=False, indent=2))
    else:
        print(rundown(plans, station.topics))
    if args.png:
        timeline_png(plans, args.png, f"{station.identity.name} — {first.isoformat()} (+{args.days - 1})",
                     station.topics)
    return 0
