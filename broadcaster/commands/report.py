"""`report` and `logbook`: results reports and the weekly logbook for the district, from the as-run log only."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

from broadcaster.asrun.figures import PERIODS, build_report, logged_items, quota_misses
from broadcaster.asrun.logbook import build_logbook, parse_iso_week
from broadcaster.bulletins.aired import aired_bulletins
from broadcaster.bulletins.approval import approvers_by_audio
from broadcaster.commands.asrun import open_log
from broadcaster.commands.progress import Progress
from broadcaster.problems import BroadcasterError, fail
from broadcaster.station.config import load_station

REPORT_FORMATS = ("json", "csv", "xlsx", "docx", "pdf")
LOGBOOK_FORMATS = ("docx", "pdf", "xlsx")


def register(sub, common) -> None:
    report = sub.add_parser("report", parents=[common],
                            help="báo cáo kết quả tuyên truyền / results report from the as-run log")
    report.add_argument("--from", dest="first", required=True, help="YYYY-MM-DD, first day (station time)")
    report.add_argument("--to", dest="last", required=True, help="YYYY-MM-DD, last day, included")
    report.add_argument("--period", choices=PERIODS[1:], help="split into days, ISO weeks or months")
    report.add_argument("--format", choices=REPORT_FORMATS, default="json")
    report.add_argument("--out", help="output file (json: standard output if omitted)")
    report.add_argument("--ref", help='directive answered, e.g. "Công văn số 123/STTTT-TTBCXB"')
    report.add_argument("--log", help="as-run log file (default: paths.asrun_log from config)")
    report.set_defaults(handler=cmd_report)
    logbook = sub.add_parser("logbook", parents=[common],
                             help="sổ nhật ký chương trình phát thanh hàng tuần / the weekly broadcast logbook")
    logbook.add_argument("--week", required=True, help="ISO week, e.g. 2021-W08")
    logbook.add_argument("--format", choices=LOGBOOK_FORMATS, default="docx")
    logbook.add_argument("--out", required=True, help="output file")
    logbook.add_argument("--log", help="as-run log file (default: paths.asrun_log from config)")
    logbook.set_defaults(handler=cmd_logbook)


def _log_path(args) -> Path:
    log, _zone = open_log(args)  # the same --log / paths.asrun_log rules and errors as `log show`
    log.close()
    return log.path


def _day(text: str, flag: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(flag, f"ngày không hợp lệ: {text!r}", f"not a date: {text!r}",
                   hint_vi="viết dạng YYYY-MM-DD", hint_en="write it as YYYY-MM-DD") from None


def _out(args, fmt: str) -> Path:
    if not args.out:
        raise fail("--out", f"cần --out cho định dạng {fmt}", f"--out is required for {fmt}",
                   hint_vi="ví dụ --out bao-cao.docx", hint_en="e.g. --out report.docx")
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def cmd_report(args) -> int:
    first, last = _day(args.first, "--from"), _day(args.last, "--to")
    if last < first:
        raise fail("--to", "ngày kết thúc trước ngày bắt đầu", "--to is before --from")
    fmt = args.format
    out = _out(args, fmt) if fmt != "json" or args.out else None  # before the work, not after
    station = load_station(args.config)
    log_path = _log_path(args)
    with Progress() as progress:
        report = write_report(station, log_path, first, last, args.period or "all", fmt, out, args.ref, progress)
    if not report.integrity.ok:
        print(f"CẢNH BÁO/WARNING: nhật ký hỏng tại dòng {report.integrity.first_bad_id} / as-run log broken at row "
              f"{report.integrity.first_bad_id}: {report.integrity.message}", file=sys.stderr)
    if args.out:
        print(f"OK: {args.out}", file=sys.stderr)
    return 0


def write_report(station, log_path: Path, first: date, last: date, period: str, fmt: str, out: Path | None,
                 ref: str | None = None, progress: Progress | None = None):
    """The results report for [first, last] written to `out` as json, csv, xlsx, docx or pdf (json with no `out`:
    printed) — the CLI's `report` and the console's download; returns the report (its integrity says if the log
    is broken)."""
    progress = progress or Progress(enabled=False)
    report = build_report(log_path, station, first, last, period, ref, progress=progress)
    progress.close()  # the next bar, if any, is the rows'
    report = replace(report, quota_misses=quota_misses(report, station, daily_minimums(station)),
                     bulletins=aired_bulletins(log_path, station, first, last))
    _write_report(report, fmt, out, station, log_path, progress)
    return report


def _write_report(report, fmt: str, out: Path | None, station, log_path: Path, progress: Progress) -> None:
    if fmt == "json":
        text = json.dumps(report.to_json(), ensure_ascii=False, indent=2)
        if out:
            out.write_text(text + "\n", encoding="utf-8")
        else:
            print(text)
        return
    if fmt in ("csv", "xlsx"):  # every aired or partial row is written: the long part of a year's report
        rows = progress.iterate("report-rows", logged_items(log_path, station, report.first, report.last),
                                report.plays + report.partial_plays, every=512)
        if fmt == "csv":
            from broadcaster.reports.csv_render import render_items_csv

            render_items_csv(rows, out, station.topics)
        else:
            from broadcaster.reports.xlsx_render import render_report_xlsx

            render_report_xlsx(report, rows, out)
        return
    from broadcaster.reports.report_outline import report_document

    document = report_document(report, issued=datetime.now(station.zone).date())  # the station's today
    _render_document(document, fmt, out)


def cmd_logbook(args) -> int:
    try:
        year, week = parse_iso_week(args.week)
    except ValueError:
        raise fail("--week", f"tuần không hợp lệ: {args.week!r}", f"not an ISO week: {args.week!r}",
                   hint_vi="viết dạng YYYY-Www, ví dụ 2021-W08", hint_en="write it as YYYY-Www, e.g. 2021-W08") \
            from None
    station = load_station(args.config)
    out = _out(args, args.format)
    logbook = write_logbook(station, _log_path(args), year, week, args.format, out)
    if not logbook.integrity.ok:
        print(f"CẢNH BÁO/WARNING: nhật ký hỏng tại dòng {logbook.integrity.first_bad_id} / as-run log broken at "
              f"row {logbook.integrity.first_bad_id}", file=sys.stderr)
    print(f"OK: {out}", file=sys.stderr)
    return 0


def write_logbook(station, log_path: Path, year: int, week: int, fmt: str, out: Path):
    """The weekly logbook (sổ nhật ký) of ISO week `year`-W`week` written to `out` as docx, pdf or xlsx."""
    logbook = replace(build_logbook(log_path, station, year, week), approvers=approvers_by_audio(station))
    slot_names = {s.id: s.name for s in station.slots}
    if fmt == "xlsx":
        from broadcaster.reports.xlsx_render import render_logbook_xlsx

        render_logbook_xlsx(logbook, slot_names, out)
    else:
        from broadcaster.reports.logbook_outline import logbook_document

        document = logbook_document(logbook, slot_names, issued=datetime.now(station.zone).date())
        _render_document(document, fmt, out)
    return logbook


def daily_minimums(station) -> dict[str, int]:
    """Per topic, the highest plays-per-day minimum among the playlists the station's slots use."""
    from broadcaster.station.playlists import load_playlists

    try:
        playlists = load_playlists(station)
    except BroadcasterError as err:  # a report still comes out; it just cannot judge quotas
        print(f"CẢNH BÁO/WARNING: không đọc được danh sách phát, bỏ qua kiểm tra hạn mức / playlists unreadable, "
              f"quota check skipped ({err.problems[0]})", file=sys.stderr)
        return {}
    used = {slot.playlist for slot in station.slots}
    minimums: dict[str, int] = {}
    for playlist in playlists.values():
        if playlist.id in used:
            for category, rule in playlist.categories.items():
                minimums[category] = max(minimums.get(category, 0), rule.plays.min)
    return minimums


def _render_document(document, fmt: str, out: Path) -> None:
    """One outline, two office formats: DOCX or PDF."""
    if fmt == "docx":
        from broadcaster.reports.docx_render import render_docx

        render_docx(document, out)
    else:
        from broadcaster.reports.pdf_render import render_pdf

        render_pdf(document, out)
