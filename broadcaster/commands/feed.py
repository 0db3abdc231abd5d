"""`district ...` (publish clips, collect results) and `sync` (a commune fetches its district feed)."""

from __future__ import annotations

import re
import sys
import time
from datetime import date
from pathlib import Path

from broadcaster.commands.progress import Progress
from broadcaster.feed import publish as feed_publish
from broadcaster.feed import signing
from broadcaster.feed.settings import collector_settings, feed_settings
from broadcaster.model import LEVELS, Level
from broadcaster.problems import fail
from broadcaster.station.config import load_station


def register(sub, common) -> None:
    district = sub.add_parser("district", help="đài huyện: đăng tin bài, thu kết quả / district: publish, collect")
    dsub = district.add_subparsers(dest="district_command", required=True, metavar="ACTION")

    keygen = dsub.add_parser("keygen", help="tạo cặp khóa Ed25519 / make an Ed25519 key pair")
    keygen.add_argument("--out", required=True, help="folder for district.key (secret, 0600) and district.pub")
    keygen.set_defaults(handler=cmd_keygen)

    pub = dsub.add_parser("publish", help="đăng một tin bài vào feed / add a clip to the feed")
    pub.add_argument("file")
    _feed_args(pub)
    pub.add_argument("--category", required=True)
    pub.add_argument("--title", required=True)
    pub.add_argument("--valid-from", help="YYYY-MM-DD")
    pub.add_argument("--valid-until", help="YYYY-MM-DD")
    pub.add_argument("--plays-per-day", help="MIN-MAX, e.g. 3-5 (or one number)")
    pub.add_argument("--priority", choices=LEVELS, default=Level.NORMAL)
    pub.add_argument("--targets", default="all", help="all, or commune ids separated by commas")
    pub.add_argument("--district", help="district id (first publish only; default 'district')")
    pub.add_argument("--reason", default="", help="why (for a break-in: the reason in the communes' as-run log)")
    pub.add_argument("--override-blackout", action="store_true",
                     help="emergency only: may air inside a commune's blackout (online-learning hours)")
    pub.set_defaults(handler=cmd_publish)

    rev = dsub.add_parser("revoke", help="thu hồi tin bài / withdraw a clip")
    rev.add_argument("clip", help="sha256 (or a unique prefix) or clip file name")
    _feed_args(rev)
    rev.set_defaults(handler=cmd_revoke)

    ref = dsub.add_parser("refresh", help="ký lại, gia hạn / re-sign with a new version and expiry (daily cron)")
    _feed_args(ref)
    ref.set_defaults(handler=cmd_refresh)

    root = dsub.add_parser("root", help="khóa gốc ngoại tuyến / offline root key certifying online keys")
    rsub = root.add_subparsers(dest="root_command", required=True, metavar="ACTION")
    rinit = rsub.add_parser("init", help="root/1.root.json: the root key certifies the online key(s)")
    rinit.add_argument("--feed", required=True)
    rinit.add_argument("--root-key", required=True, help="the offline root private key (on a USB stick)")
    rinit.add_argument("--online-key", action="append", required=True, help="online public key (repeatable)")
    rinit.add_argument("--district", required=True)
    rinit.add_argument("--expires-days", type=_days, default=365)
    rinit.set_defaults(handler=cmd_root_init)
    rrot = rsub.add_parser("rotate", help="next root: new online key(s), a new root key, or a later expiry")
    rrot.add_argument("--feed", required=True)
    rrot.add_argument("--root-key", required=True, help="the current root private key")
    rrot.add_argument("--new-root-key", help="a new root private key (the old one signs it over)")
    rrot.add_argument("--online-key", action="append", help="the online public key(s) from now on (repeatable)")
    rrot.add_argument("--expires-days", type=_days, default=365)
    rrot.set_defaults(handler=cmd_root_rotate)

    srv = dsub.add_parser("serve", help="phục vụ thư mục feed qua HTTP / serve the feed folder over HTTP")
    srv.add_argument("--feed", required=True)
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8080)
    srv.set_defaults(handler=cmd_serve)

    tok = dsub.add_parser("token", help="cấp mã truy cập cho một xã / give a commune a collector token")
    tok.add_argument("commune")
    tok.add_argument("--tokens", required=True, help="YAML file commune-id: token")
    tok.set_defaults(handler=cmd_token)

    col = dsub.add_parser("collector", parents=[common], help="trạm thu kết quả / run the collector service")
    col.add_argument("--host")
    col.add_argument("--port", type=int)
    col.add_argument("--db", help="SQLite file (default: collector.db from config, or paths.state/collector.sqlite)")
    col.add_argument("--tokens", help="YAML file commune-id: token")
    col.set_defaults(handler=cmd_collector)

    rep = dsub.add_parser("report", parents=[common], help="báo cáo tin bài theo xã / per clip and commune report")
    rep.add_argument("--from", dest="date_from", required=True, help="YYYY-MM-DD")
    rep.add_argument("--to", dest="date_to", required=True, help="YYYY-MM-DD")
    rep.add_argument("--format", choices=("text", "json", "csv", "pdf", "docx"), default="text")
    rep.add_argument("--out", help="output file (required for pdf and docx)")
    rep.add_argument("--db")
    rep.add_argument("--tokens", help="communes expected to report (default: collector.tokens)")
    rep.add_argument("--feed", help="feed folder, for titles and targets (default: collector.feed)")
    rep.set_defaults(handler=cmd_report)

    anc = dsub.add_parser("anchors", parents=[common],
                          help="mốc chuỗi băm của một xã / a commune's as-run chain anchors (for log verify --anchors)")
    anc.add_argument("--commune", required=True)
    anc.add_argument("--db")
    anc.set_defaults(handler=cmd_anchors)

    sync = sub.add_parser("sync", parents=[common], help="xã: nhận tin bài từ huyện / fetch the district feed")
    sync.add_argument("--once", action="store_true", help="sync once and exit (default: every interval_minutes)")
    sync.add_argument("--feed-url", help="override feed.url (http(s) URL or a folder)")
    sync.add_argument("--public-key", help="override feed.public_key")
    sync.add_argument("--no-send", action="store_true", help="queue receipts but do not post them")
    sync.set_defaults(handler=cmd_sync)


def _feed_args(parser) -> None:
    parser.add_argument("--feed", required=True, help="feed folder (served as static files)")
    parser.add_argument("--key", required=True, help="district private key (district.key)")
    parser.add_argument("--expires-days", type=_days, default=feed_publish.DEFAULT_EXPIRES_DAYS,
                        help=f"manifest lifetime, more than 0 and at most {feed_publish.MAX_EXPIRES_DAYS} days; "
                             "communes refuse it after that (default 7)")


def _days(text: str) -> float:
    """--expires-days: a number, checked for range by publish (nan, inf, huge and negative are refused there)."""
    import argparse

    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"không phải số / not a number: {text[:40]!r}") from None


def cmd_keygen(args) -> int:
    private, public = signing.generate(Path(args.out))
    key = signing.load_public(public)
    print(f"Khóa bí mật / private key: {private} (giữ kín / keep secret)")
    print(f"Khóa công khai / public key: {public} (gửi các xã / give to communes)  key id {signing.key_id(key)}")
    return 0


def _day(text: str | None, option: str) -> str | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise fail(option, f"ngày không hợp lệ: {text!r}", f"not a date: {text!r}",
                   hint_vi="viết dạng YYYY-MM-DD", hint_en="write it as YYYY-MM-DD") from None


def _quota(text: str | None) -> tuple[int, int] | None:
    if not text:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", text)
    if not match or (match.group(2) and int(match.group(2)) < int(match.group(1))):
        raise fail("--plays-per-day", f"số lượt/ngày không hợp lệ: {text!r}", f"not a plays-per-day range: {text!r}",
                   hint_vi="viết dạng 3-5", hint_en="write it as MIN-MAX, e.g. 3-5")
    low = int(match.group(1))
    return low, int(match.group(2) or low)


def cmd_publish(args) -> int:
    valid_from, valid_until = _day(args.valid_from, "--valid-from"), _day(args.valid_until, "--valid-until")
    if valid_from and valid_until and valid_until < valid_from:
        raise fail("--valid-until", "ngày kết thúc trước ngày bắt đầu", "--valid-until is before --valid-from")
    targets = "all" if args.targets.strip() == "all" else tuple(t.strip() for t in args.targets.split(",") if t.strip())
    manifest, clip = feed_publish.publish(
        Path(args.feed), Path(args.key), Path(args.file), category=args.category, title=args.title,
        valid_from=valid_from, valid_until=valid_until, plays_per_day=_quota(args.plays_per_day),
        priority=args.priority, targets=targets or "all", district=args.district, expires_days=args.expires_days,
        reason=args.reason, override_blackout=args.override_blackout)
    print(f"Đã đăng / published {clip.file} ({clip.size} bytes) '{clip.title}' → "
          f"manifest v{manifest.version}, hết hạn / expires {manifest.expires}")
    return 0


def cmd_revoke(args) -> int:
    manifest, clip = feed_publish.revoke(Path(args.feed), Path(args.key), args.clip, expires_days=args.expires_days)
    print(f"Đã thu hồi / revoked {clip.sha256[:12]} '{clip.title}' → manifest v{manifest.version}")
    return 0


def cmd_refresh(args) -> int:
    manifest = feed_publish.refresh(Path(args.feed), Path(args.key), expires_days=args.expires_days)
    print(f"Đã ký lại / re-signed manifest v{manifest.version}, hết hạn / expires {manifest.expires}")
    return 0


def cmd_root_init(args) -> int:
    path = feed_publish.root_init(Path(args.feed), Path(args.root_key), [Path(p) for p in args.online_key],
                                  args.district, expires_days=args.expires_days)
    print(f"Đã ký root / signed {path}; cất khóa gốc ngoại tuyến / keep the root key offline")
    return 0


def cmd_root_rotate(args) -> int:
    path = feed_publish.root_rotate(Path(args.feed), Path(args.root_key),
                                    new_root_key=Path(args.new_root_key) if args.new_root_key else None,
                                    online=[Path(p) for p in args.online_key] if args.online_key else None,
                                    expires_days=args.expires_days)
    print(f"Đã ký root mới / signed {path}; các xã nhận ở lần đồng bộ sau / communes take it at their next sync")
    return 0


def cmd_serve(args) -> int:
    from broadcaster.feed.static import FeedFileServer

    server = FeedFileServer((args.host, args.port), Path(args.feed))
    return _serve(server, f"Đang phục vụ / serving {args.feed} at {server.url}")


def _serve(server, banner: str) -> int:
    """Serve until stopped (Ctrl-C, SIGTERM), closing the socket either way."""
    print(banner, flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def cmd_token(args) -> int:
    from broadcaster.feed.collector import add_token

    token = add_token(Path(args.tokens), args.commune)
    print(f"{args.commune}: {token}")
    print("Ghi vào config.yaml của xã: feed.collector_token / put it in the commune's feed.collector_token")
    return 0


def _collector_defaults(args):
    if Path(args.config).exists():
        return collector_settings(load_station(args.config))
    from broadcaster.feed.settings import CollectorSettings

    return CollectorSettings(db=Path("data/collector.sqlite"))


def _district_station(args):
    """The district's own config.yaml, if any: its name and its topic names (`topics:`) for the report."""
    return load_station(args.config) if Path(args.config).exists() else None


def cmd_collector(args) -> int:
    from broadcaster.feed.collector import make_server

    settings = _collector_defaults(args)
    tokens = args.tokens or settings.tokens
    if not tokens:
        raise fail("--tokens", "chưa có tệp mã truy cập", "no token file given",
                   hint_vi="dùng --tokens hoặc collector.tokens", hint_en="pass --tokens or set collector.tokens")
    server = make_server(args.host or settings.host, args.port or settings.port, Path(args.db or settings.db),
                         Path(tokens))
    host, port = server.server_address[:2]
    return _serve(server, f"Trạm thu đang chạy / collector listening on http://{host}:{port}/messages")


def cmd_report(args) -> int:
    from broadcaster.feed.collector import load_tokens
    from broadcaster.feed.report import build, read_feed_manifest, render

    settings = _collector_defaults(args)
    tokens = args.tokens or settings.tokens
    feed = args.feed or settings.feed
    db = Path(args.db or settings.db)
    if args.format in ("pdf", "docx") and not args.out:
        raise fail("--out", f"cần --out cho định dạng {args.format}", f"--out is required for {args.format}",
                   hint_vi="ví dụ --out bao-cao-huyen.pdf", hint_en="e.g. --out district-report.pdf")
    if not db.exists():
        raise fail(str(db), "chưa có cơ sở dữ liệu của trạm thu", "no collector database here",
                   hint_vi="kiểm tra --db", hint_en="check --db")
    report = build(db, date.fromisoformat(_day(args.date_from, "--from")),
                   date.fromisoformat(_day(args.date_to, "--to")),
                   sorted(load_tokens(Path(tokens))) if tokens else None,
                   read_feed_manifest(Path(feed)) if feed else None)
    district = _district_station(args)
    topics = district.topics if district else {}
    if args.format in ("pdf", "docx"):
        from datetime import datetime
        from zoneinfo import ZoneInfo

        from broadcaster.reports.district_outline import district_document
        from broadcaster.station.config import DEFAULT_ZONE

        issued = datetime.now(district.zone if district else ZoneInfo(DEFAULT_ZONE)).date()  # the district's today
        document = district_document(report, district.identity if district else None, topics, issued)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        if args.format == "pdf":
            from broadcaster.reports.pdf_render import render_pdf

            render_pdf(document, out)
        else:
            from broadcaster.reports.docx_render import render_docx

            render_docx(document, out)
        print(f"OK: {out}", file=sys.stderr)
        return 0
    text = render(report, args.format, topics)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0


def cmd_anchors(args) -> int:
    """The chain anchors a commune's summaries carried, as JSON for `log verify --anchors`."""
    import json

    from broadcaster.asrun.anchors import commune_anchors
    from broadcaster.feed.collector import connect

    db_path = Path(args.db or _collector_defaults(args).db)
    if not db_path.exists():
        raise fail(str(db_path), "chưa có cơ sở dữ liệu của trạm thu", "no collector database here",
                   hint_vi="kiểm tra --db", hint_en="check --db")
    db = connect(db_path)
    try:
        rows = db.execute("SELECT received_at, body FROM messages WHERE commune = ? AND kind = 'summary'",
                          (args.commune,)).fetchall()
    finally:
        db.close()
    anchors = commune_anchors([(r[0], json.loads(r[1])) for r in rows])
    print(json.dumps([{"day": a.day, **a.to_json()} for a in anchors], ensure_ascii=False, indent=1))
    return 0


def cmd_sync(args) -> int:
    from broadcaster.feed.sync import sync_once

    station = load_station(args.config)
    interval = feed_settings(station).interval_minutes
    while True:
        with Progress() as progress:
            result = sync_once(station, feed_url=args.feed_url, progress=progress, flush=not args.no_send,
                               public_key=Path(args.public_key) if args.public_key else None)
        _print_sync(result)
        if args.once:
            return 0 if result.ok else 1
        time.sleep(interval * 60)


def _print_sync(result) -> None:
    if result.busy:
        print("Đang có lần đồng bộ khác / another sync is running")
    if not result.sources:
        print("Không có nguồn tin bài (feed.url, thư mục inbox) / no feed source (feed.url, inbox)")
    for s in result.sources:
        head = {"accepted": "NHẬN/ACCEPTED", "unchanged": "KHÔNG ĐỔI/UNCHANGED", "rejected": "TỪ CHỐI/REJECTED",
                "skipped": "BỎ QUA/SKIPPED"}[s.status]
        version = f" v{s.version}" if s.version else ""
        print(f"{head}{version}  {s.source}")
        if s.message:
            print("  " + s.message.replace("\n", "\n  "))
        for sha in s.added:
            print(f"  + {sha[:12]} đã vào thư viện / in the library")
        for sha in s.withdrawn:
            print(f"  - {sha[:12]} đã rút khỏi lịch phát / withdrawn")
        for sha, code in s.rejected.items():
            print(f"  ! {sha[:12]} bị từ chối / rejected: {code}")
        for sha, code in s.pending.items():
            print(f"  … {sha[:12]} chưa tải xong, lần sau thử lại / not yet, retried next sync: {code}")
    if result.replan_requested:
        print("Đã yêu cầu lập lại lịch hôm nay / re-plan of today requested")
    print(f"Gửi lên huyện / sent: {result.sent}, còn chờ / queued: {result.queued}"
          + (f" ({result.outbox_error})" if result.outbox_error else ""))
