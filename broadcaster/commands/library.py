"""`ingest` and `library list|rebuild`: bring audio into the station library and look at it."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date

from broadcaster.commands.progress import Progress
from broadcaster.library.catalogue import Library, station_library
from broadcaster.model import LEVELS, Approval, Level
from broadcaster.problems import BroadcasterError, Problem, fail
from broadcaster.station.config import load_station, topic_name

APPROVAL_VI = {"pending": "chờ duyệt", "approved": "đã duyệt", "rejected": "từ chối"}


def register(sub, common) -> None:
    ingest = sub.add_parser("ingest", parents=[common],
                            help="nhập tệp âm thanh vào thư viện / add audio files to the library")
    ingest.add_argument("files", nargs="+", metavar="FILE")
    ingest.add_argument("--category", help="chủ đề / category, e.g. bluezone, khai-bao-y-te, covid-song")
    ingest.add_argument("--title", help="tên bài / title (default: the file's title tag, else its name)")
    ingest.add_argument("--valid-from", help="phát từ ngày / airs from YYYY-MM-DD")
    ingest.add_argument("--valid-until", help="phát đến hết ngày / airs until YYYY-MM-DD inclusive")
    ingest.add_argument("--priority", default=Level.NORMAL, help=" | ".join(Level))
    ingest.add_argument("--source", default="local", help="nguồn / source (default: local)")
    ingest.add_argument("--by", default="", help="người nhập / who adds them; an approver's clips are approved, "
                                                 "others wait for approval (approval.approvers)")
    ingest.set_defaults(handler=cmd_ingest)

    library = sub.add_parser("library", help="thư viện âm thanh / the audio library")
    library_sub = library.add_subparsers(dest="library_command", required=True, metavar="ACTION")
    show = library_sub.add_parser("list", parents=[common], help="liệt kê thư viện / list the catalogue")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_list)
    rebuild = library_sub.add_parser("rebuild", parents=[common],
                                     help="dựng lại danh mục từ audio/ / rebuild the catalogue from audio/")
    rebuild.set_defaults(handler=cmd_rebuild)
    edit = library_sub.add_parser("edit", parents=[common], help="sửa tên, chủ đề, hiệu lực / edit an item")
    edit.add_argument("sha256", help="the item's sha256 (library list --json), or its first 12+ characters")
    edit.add_argument("--title")
    edit.add_argument("--category")
    edit.add_argument("--valid-from", help="YYYY-MM-DD, or '' for none")
    edit.add_argument("--valid-until", help="YYYY-MM-DD, or '' for none")
    edit.set_defaults(handler=cmd_edit)
    retire = library_sub.add_parser("retire", parents=[common],
                                    help="gỡ khỏi lịch (vào audio/.retired/) / take out of rotation")
    retire.add_argument("sha256")
    retire.set_defaults(handler=cmd_retire)
    restore = library_sub.add_parser("restore", parents=[common], help="đưa bài đã gỡ trở lại / bring one back")
    restore.add_argument("sha256")
    restore.set_defaults(handler=cmd_restore)
    for name, helptext in (("approve", "duyệt một bài của xã / approve a local clip"),
                           ("reject", "từ chối một bài của xã / reject a local clip")):
        action = library_sub.add_parser(name, parents=[common], help=helptext)
        action.add_argument("item", metavar="FILE|SHA256", help="tệp như 'library list' hiện / the file as "
                                                                  "'library list' shows it, or a sha256 prefix")
        action.add_argument("--comment", default="", help="ý kiến / comment" + (" (bắt buộc / required)"
                                                                                 if name == "reject" else ""))
        action.add_argument("--by", default="", help="họ tên người duyệt / the approver's name")
        action.set_defaults(handler=cmd_decide, decision=name)


def open_library(args) -> tuple[Library, float]:
    station = load_station(args.config)
    return station_library(station), station.audio.target_lufs


def _topics(args) -> dict[str, str]:
    return load_station(args.config).topics


def cmd_ingest(args) -> int:
    problems = _option_problems(args)
    if problems:
        raise BroadcasterError(problems)
    from broadcaster.bulletins.approval import Person, approval_on_arrival, record_arrival
    from broadcaster.bulletins.settings import approval_settings

    station = load_station(args.config)
    library, target = station_library(station), station.audio.target_lufs
    person = Person(args.by) if args.by.strip() else None
    approval = approval_on_arrival(approval_settings(station), args.source, person)
    rejected = waiting = 0
    with Progress() as progress:
        for name in progress.iterate("ingest", args.files, len(args.files)):
            try:
                result = library.ingest(name, category=args.category, title=args.title,
                                        valid_from=_day(args.valid_from, "--valid-from"),
                                        valid_until=_day(args.valid_until, "--valid-until"),
                                        priority=args.priority, source=args.source, target_lufs=target,
                                        approval=approval)
                if result.added:
                    record_arrival(station, result.item, person)
            except BroadcasterError as err:
                rejected += 1
                for problem in err.problems:
                    progress.echo(f"TỪ CHỐI/REJECTED {problem}")
                continue
            item = result.item
            for problem in result.warnings:
                progress.echo(str(problem))
            if result.added:
                progress.echo(f"ĐÃ THÊM/ADDED {name} → {item.file}  ({_mmss(item.duration)}, {item.sample_rate} Hz, "
                              f"{item.channels} ch, {item.loudness_lufs:.1f} LUFS, gain {item.gain_db:+.1f} dB)")
                waiting += item.approval == Approval.PENDING
            else:
                progress.echo(f"ĐÃ CÓ/ALREADY IN LIBRARY {name} = {item.file} (cùng nội dung / same audio, sha256 "
                              f"{item.sha256[:12]}…)")
    accepted = len(args.files) - rejected
    print(f"{accepted}/{len(args.files)} tệp nhận, {rejected} từ chối / {accepted} accepted, {rejected} rejected")
    if waiting:
        print(f"{waiting} bài chờ duyệt, chưa được phát / {waiting} items wait for approval and do not air yet: "
              "python main.py library approve FILE --by \"Họ tên\"")
    return 2 if rejected else 0


def cmd_decide(args) -> int:
    from broadcaster.bulletins.approval import Person, decide_item
    from broadcaster.bulletins.store import Decision

    station = load_station(args.config)
    decision = Decision.APPROVED if args.decision == "approve" else Decision.REJECTED
    item = decide_item(station, args.item, Person(args.by), decision, args.comment)
    print(f"{item.file} «{item.title}»: {item.approval} ({args.by})")
    return 0


def cmd_list(args) -> int:
    library, _ = open_library(args)
    topics = _topics(args)
    items, untracked = library.items(), library.untracked()
    if args.json:
        print(json.dumps({"items": [_json(item) | {"category_name": topic_name(topics, item.category)}
                                    for item in items],
                          "untracked": [p.relative_to(library.audio_dir).as_posix() for p in untracked]},
                         ensure_ascii=False, indent=2))
        return 0
    if not items:
        print("Thư viện trống / the library is empty")
    category = None
    for item in items:  # sorted by file, so by category folder: one heading per topic
        if item.category != category:
            category = item.category
            print(f"— Chủ đề / topic: {topic_name(topics, category)} ({category})")
        valid = ""
        if item.valid_from or item.valid_until:
            valid = f"  [{item.valid_from or '…'} → {item.valid_until or '…'}]"
        waits = "" if item.approval == Approval.APPROVED else f"  [{APPROVAL_VI[item.approval]} / {item.approval}]"
        print(f"{item.category:14} {_mmss(item.duration):>6} {item.loudness_lufs:6.1f} LUFS {item.gain_db:+5.1f} dB "
              f"{item.priority:9} {item.file}  «{item.title}»{valid}{waits}")
    total = sum(item.duration for item in items)
    print(f"{len(items)} bài, tổng {_mmss(total)} / {len(items)} items, {_mmss(total)} in all")
    for path in untracked:
        print(Problem(str(path), "tệp chưa có trong danh mục", "file is not in the catalogue",
                      "chạy: python main.py library rebuild (hoặc ingest)", "run: python main.py library rebuild "
                      "(or ingest)", severity="warning"))
    return 0


def cmd_rebuild(args) -> int:
    from broadcaster.bulletins.approval import approval_on_arrival
    from broadcaster.bulletins.settings import approval_settings

    library, target = open_library(args)
    arriving = approval_on_arrival(approval_settings(load_station(args.config)), "local", None)
    with Progress() as progress:
        report = library.rebuild(target_lufs=target, progress=progress, arriving=arriving)
    for rel, same in report.duplicates:
        print(Problem(str(library.audio_dir / rel), f"trùng nội dung với {same}; không đưa vào danh mục",
                      f"same audio as {same}; left out of the catalogue", "xóa một trong hai tệp",
                      "delete one of the two", severity="warning"))
    for rel in report.dropped:
        print(f"BỎ/DROPPED {rel}: tệp không còn / file is gone")
    for problem in report.problems + report.copy_warnings:
        print(problem)
    if report.copies_made or report.copies_pruned:
        print(f"Bản sao định dạng đài: ghi {report.copies_made}, xóa {report.copies_pruned} không dùng nữa / "
              f"station copies: wrote {report.copies_made}, deleted {report.copies_pruned} no longer used "
              "(audio/.station)")
    print(f"Danh mục: {len(report.catalogued)} bài ({report.analysed} phân tích lại), {len(report.problems)} tệp lỗi"
          f" / catalogue: {len(report.catalogued)} items ({report.analysed} analysed), "
          f"{len(report.problems)} files with problems")
    return 2 if report.problems else 0


def _find(library: Library, prefix: str, retired: bool = False) -> str:
    """A whole sha256 from the one the operator typed (at least 12 characters, as `library list` shows)."""
    known = [sha for sha, _ in library.retired()] if retired else [i.sha256 for i in library.items()]
    found = [sha for sha in known if len(prefix) >= 12 and sha.startswith(prefix.lower())]
    if len(found) != 1:
        raise fail(prefix, "không có bài này" if not found else "nhiều bài khớp", "no such item" if not found else
                   "several items match", "xem: python main.py library list --json",
                   "see: python main.py library list --json")
    return found[0]


def cmd_edit(args) -> int:
    library, _ = open_library(args)
    sha256 = _find(library, args.sha256)
    item = library.get(sha256)
    if args.title is not None or args.category is not None:
        item = library.set_details(sha256, title=args.title if args.title is not None else item.title,
                                   category=args.category if args.category is not None else item.category)
    if args.valid_from is not None or args.valid_until is not None:
        item = library.set_validity(
            sha256, _day(args.valid_from, "--valid-from") if args.valid_from is not None else item.valid_from,
            _day(args.valid_until, "--valid-until") if args.valid_until is not None else item.valid_until)
    print(f"OK: {item.file} «{item.title}» {item.category} [{item.valid_from or '…'} → {item.valid_until or '…'}]")
    return 0


def cmd_retire(args) -> int:
    library, _ = open_library(args)
    moved = library.remove(_find(library, args.sha256))
    print(f"Đã gỡ / retired → {moved}")
    return 0


def cmd_restore(args) -> int:
    library, target = open_library(args)
    item = library.restore(_find(library, args.sha256, retired=True), target_lufs=target)
    print(f"Đã đưa trở lại / restored: {item.file} «{item.title}»")
    return 0


def _option_problems(args) -> list[Problem]:
    problems = []
    if not args.category:
        problems.append(Problem("--category", "thiếu chủ đề", "no category given",
                                "thêm --category, ví dụ --category bluezone",
                                "add --category, e.g. --category bluezone"))
    if args.priority not in LEVELS:
        problems.append(Problem("--priority", f"mức ưu tiên không biết: {args.priority!r}",
                                f"unknown priority {args.priority!r}", f"dùng {', '.join(LEVELS)}",
                                f"use {', '.join(LEVELS)}"))
    for option, value in (("--valid-from", args.valid_from), ("--valid-until", args.valid_until)):
        try:
            _day(value, option)
        except BroadcasterError as err:
            problems += err.problems
    return problems


def _day(text: str | None, option: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(option, f"ngày không hợp lệ: {text!r}", f"not a date: {text!r}", hint_vi="viết dạng YYYY-MM-DD",
                   hint_en="write it as YYYY-MM-DD") from None


def _mmss(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


def _json(item) -> dict:
    data = asdict(item)
    data["valid_from"] = item.valid_from.isoformat() if item.valid_from else None
    data["valid_until"] = item.valid_until.isoformat() if item.valid_until else None
    return data
