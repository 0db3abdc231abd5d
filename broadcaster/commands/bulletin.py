"""`bulletin new|edit|list|show|approve|reject|withdraw`: commune bulletins read by the speech engine and
approved by the commune leadership before they air (TT 39/2020). The work is done by
broadcaster/bulletins/desk.py, which the web console calls too."""

from __future__ import annotations

import json
from pathlib import Path

from broadcaster.bulletins.approval import Person, station_store
from broadcaster.bulletins.settings import VOICES
from broadcaster.bulletins.store import STATUS_VI, Bulletin
from broadcaster.commands.library import _day, _mmss
from broadcaster.problems import BroadcasterError, Problem
from broadcaster.station.config import load_station


def register(sub, common) -> None:
    bulletin = sub.add_parser("bulletin", help="thông báo của xã đọc bằng giọng máy / commune bulletins (text to "
                                               "speech, approval)")
    actions = bulletin.add_subparsers(dest="bulletin_command", required=True, metavar="ACTION")

    new = actions.add_parser("new", parents=[common], help="viết thông báo mới / write a new bulletin")
    new.add_argument("--title", required=True, help="tiêu đề / title")
    new.add_argument("--text-file", required=True, help="tệp nội dung (UTF-8) / the text, a UTF-8 file")
    _draft_options(new)
    new.add_argument("--emergency", action="store_true", help="khẩn cấp / emergency (with --approve: airs at once)")
    new.add_argument("--approve", action="store_true", help="người duyệt viết và duyệt luôn / an approver writes "
                                                            "and approves in one step")
    new.add_argument("--air-now", action="store_true",
                     help="với --emergency --approve: phát ngay, ngắt chương trình (như play-now) / with --emergency "
                          "--approve: break in now, as play-now does")
    new.add_argument("--by", default="", help="người viết / who writes it")
    new.set_defaults(handler=cmd_new)

    edit = actions.add_parser("edit", parents=[common],
                              help="sửa: tạo bản nháp mới, bản đã duyệt vẫn phát đến khi bản mới được duyệt / edit: "
                                   "a new draft; the approved one airs until the draft is approved")
    edit.add_argument("id", type=int, metavar="ID")
    edit.add_argument("--title")
    edit.add_argument("--text-file")
    _draft_options(edit)
    edit.add_argument("--by", default="", help="người sửa / who edits it")
    edit.set_defaults(handler=cmd_edit)

    show_all = actions.add_parser("list", parents=[common], help="danh sách thông báo / list bulletins")
    show_all.add_argument("--json", action="store_true")
    show_all.set_defaults(handler=cmd_list)
    show = actions.add_parser("show", parents=[common], help="nội dung, âm thanh, trạng thái, lịch sử / text, audio, "
                                                            "status and history")
    show.add_argument("id", type=int, metavar="ID")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)

    for name, helptext in (("approve", "duyệt / approve"), ("reject", "từ chối / reject"),
                           ("withdraw", "hủy, thôi phát / withdraw, take off air")):
        action = actions.add_parser(name, parents=[common], help=helptext)
        action.add_argument("id", type=int, metavar="ID")
        action.add_argument("--comment", default="", help="ý kiến / comment" + (" (bắt buộc / required)"
                                                                                 if name == "reject" else ""))
        action.add_argument("--by", default="", help="họ tên người " + ("hủy" if name == "withdraw" else "duyệt")
                            + " / who decides")
        action.set_defaults(handler=cmd_decide, decision=name)


def _draft_options(parser) -> None:
    parser.add_argument("--voice", choices=None, help=f"giọng / voice: {', '.join(VOICES)} (default from config)")
    parser.add_argument("--rate", type=int, help="tốc độ đọc, từ/phút / words a minute (default from config)")
    parser.add_argument("--category", help="chủ đề trong thư viện / library category (default: bulletins.category)")
    parser.add_argument("--valid-from", help="phát từ ngày / airs from YYYY-MM-DD")
    parser.add_argument("--valid-until", help="phát đến hết ngày / airs until YYYY-MM-DD inclusive")
    parser.add_argument("--plays-per-day", help="số lần phát mỗi ngày / plays a day, N-M (e.g. 2-3)")


def _read_text(name: str) -> str:
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BroadcasterError([Problem(name, "không có tệp nội dung", "the text file does not exist",
                                        "kiểm tra đường dẫn", "check the path")]) from None
    except UnicodeDecodeError:
        raise BroadcasterError([Problem(name, "tệp nội dung không phải UTF-8", "the text file is not UTF-8",
                                        "lưu lại tệp với mã UTF-8", "save the file as UTF-8")]) from None


def _changes(args) -> dict:
    from broadcaster.bulletins.desk import plays_per_day

    return {"voice": args.voice, "rate": args.rate, "category": args.category,
            "valid_from": _day(args.valid_from, "--valid-from"), "valid_until": _day(args.valid_until, "--valid-until"),
            "plays": plays_per_day(args.plays_per_day)}


def cmd_new(args) -> int:
    from broadcaster.bulletins.desk import Draft, write_bulletin

    if args.air_now and not (args.emergency and args.approve):
        raise BroadcasterError([Problem("--air-now", "phát ngay chỉ dùng cùng --emergency --approve",
                                        "--air-now needs --emergency --approve",
                                        "người duyệt thêm --emergency --approve --by \"Họ tên\"",
                                        "an approver adds --emergency --approve --by \"Full name\"")])
    station = load_station(args.config)
    draft = Draft(title=args.title, text=_read_text(args.text_file), emergency=args.emergency, **_changes(args))
    bulletin = write_bulletin(station, draft, Person(args.by), approve=args.approve, source=args.text_file)
    _print_made(bulletin)
    if args.air_now:
        from argparse import Namespace

        from broadcaster.commands.run import cmd_play_now

        # The same break-in as play-now: through the daemon if one runs, else on the device here.
        return cmd_play_now(Namespace(
            config=args.config, file=str(station.paths.audio / bulletin.audio_file), level="emergency",
            reason=f"thông báo khẩn cấp #{bulletin.id} «{bulletin.title}», duyệt / approved: {args.by}",
            confirm=False, state=None))
    return 0


def cmd_edit(args) -> int:
    from broadcaster.bulletins.desk import edit_bulletin

    station = load_station(args.config)
    changes = _changes(args) | {"title": args.title, "text": _read_text(args.text_file) if args.text_file else None}
    bulletin = edit_bulletin(station, args.id, Person(args.by), **changes)
    _print_made(bulletin)
    return 0


def _print_made(bulletin: Bulletin) -> None:
    print(f"THÔNG BÁO/BULLETIN #{bulletin.id} «{bulletin.title}»: {STATUS_VI[bulletin.status]} / {bulletin.status}"
          f"  {_mmss(bulletin.duration)}  {bulletin.audio_file}")
    if bulletin.replaces:
        print(f"  sửa từ #{bulletin.replaces}; bản cũ vẫn phát đến khi bản này được duyệt / edits "
              f"#{bulletin.replaces}; the old one airs until this one is approved")
    if bulletin.status == "draft":
        print(f"  chờ duyệt: python main.py bulletin approve {bulletin.id} --by \"Họ tên\" / waits for approval")


def cmd_decide(args) -> int:
    from broadcaster.bulletins.desk import approve_bulletin, reject_bulletin, withdraw_bulletin

    station = load_station(args.config)
    person = Person(args.by)
    action = {"approve": approve_bulletin, "reject": reject_bulletin, "withdraw": withdraw_bulletin}[args.decision]
    bulletin = action(station, args.id, person, args.comment)
    print(f"THÔNG BÁO/BULLETIN #{bulletin.id} «{bulletin.title}»: {STATUS_VI[bulletin.status]} / {bulletin.status}"
          f" ({args.by})")
    return 0


def cmd_list(args) -> int:
    station = load_station(args.config)
    bulletins = station_store(station).bulletins()
    if args.json:
        print(json.dumps([_json(b) for b in bulletins], ensure_ascii=False, indent=2))
        return 0
    if not bulletins:
        print("Chưa có thông báo nào / no bulletins yet")
    for b in bulletins:
        valid = f"  [{b.valid_from or '…'} → {b.valid_until or '…'}]" if b.valid_from or b.valid_until else ""
        edit = f"  (sửa từ/edits #{b.replaces})" if b.replaces else ""
        urgent = "  KHẨN CẤP/EMERGENCY" if b.emergency else ""
        print(f"#{b.id:<4} {STATUS_VI[b.status]:20} {_mmss(b.duration):>6} {b.voice:7} «{b.title}»"
              f"{valid}{edit}{urgent}")
    return 0


def cmd_show(args) -> int:
    from broadcaster.bulletins.desk import need_bulletin

    station = load_station(args.config)
    bulletin = need_bulletin(station, args.id)
    history = station_store(station).records(bulletin_id=bulletin.id)
    if args.json:
        data = _json(bulletin) | {"history": [{"at": r.at, "by": r.by, "role": r.role, "decision": r.decision.value,
                                               "comment": r.comment, "text_sha256": r.text_sha256,
                                               "audio_sha256": r.audio_sha256, "emergency": r.emergency}
                                              for r in history]}
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    b = bulletin
    print(f"Thông báo / bulletin #{b.id}: «{b.title}»")
    print(f"  trạng thái / status: {STATUS_VI[b.status]} / {b.status}" + ("  KHẨN CẤP / EMERGENCY" if b.emergency
                                                                            else ""))
    print(f"  âm thanh / audio: {station.paths.audio / b.audio_file}  ({_mmss(b.duration)}, {b.engine} {b.voice}, "
          f"{b.rate} từ/phút)  sha256 {b.audio_sha256}")
    print(f"  viết bởi / written by: {b.created_by or '—'}, {b.created_at}" + (f"; sửa từ / edits #{b.replaces}"
                                                                               if b.replaces else ""))
    print(f"  nội dung / text (sha256 {b.text_sha256}):")
    print("    " + b.text.strip().replace("\n", "\n    "))
    print("  máy đọc / as spoken:")
    print("    " + b.spoken.replace("\n\n", "\n    "))
    print("  lịch sử / history:")
    print(f"    {b.created_at}  tạo / written  {b.created_by or '—'}")
    for r in history:
        print(f"    {r.at}  {r.decision.value:9}  {r.by}{' (' + r.role + ')' if r.role else ''}"
              f"{'  KHẨN CẤP' if r.emergency else ''}{'  — ' + r.comment if r.comment else ''}")
    return 0


def _json(b: Bulletin) -> dict:
    return {"id": b.id, "title": b.title, "status": b.status.value, "text": b.text, "text_sha256": b.text_sha256,
            "spoken": b.spoken, "engine": b.engine, "voice": b.voice, "rate": b.rate, "category": b.category,
            "valid_from": b.valid_from.isoformat() if b.valid_from else None,
            "valid_until": b.valid_until.isoformat() if b.valid_until else None,
            "plays_per_day": [b.plays_min, b.plays_max] if b.plays_min is not None else None,
            "emergency": b.emergency, "audio_file": b.audio_file, "audio_sha256": b.audio_sha256,
            "duration": b.duration, "replaces": b.replaces, "created_by": b.created_by, "created_at": b.created_at}
