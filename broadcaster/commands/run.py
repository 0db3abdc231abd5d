"""`run` (the playout daemon) and `play-now` (a priority or emergency clip, through the daemon if one runs)."""

from __future__ import annotations

import logging
import os
import sys
from datetime import datetime
from pathlib import Path

from broadcaster.model import BREAK_IN_LEVELS, SOUNDED, Level
from broadcaster.playout import journal
from broadcaster.problems import BroadcasterError, fail


def register(sub, common) -> None:
    run = sub.add_parser("run", parents=[common], help="chạy phát tự động / run the playout daemon")
    run.add_argument("--state", help="state folder (default: paths.state from config)")
    run.add_argument("--poll", type=float, default=2.0, help="seconds between checks for changed inputs")
    run.add_argument("--preroll", type=float, default=None,
                     help="seconds before a slot the engine is started (default: the engine's preroll for "
                          "audio.block_frames + 1 s)")
    run.add_argument("--debug", action="store_true")
    run.set_defaults(handler=cmd_run)

    now = sub.add_parser("play-now", parents=[common],
                         help="phát ngay tin khẩn cấp / ưu tiên — play an emergency or priority clip")
    now.add_argument("file")
    now.add_argument("--level", required=True, choices=BREAK_IN_LEVELS)
    now.add_argument("--reason", default="", help="lý do (ghi vào nhật ký) / reason, written to the as-run log")
    now.add_argument("--confirm", action="store_true", help="cho phép phát khẩn cấp trong giờ cấm phát / "
                                                            "allow an emergency inside a blackout")
    now.add_argument("--state", help="state folder (default: paths.state from config)")
    now.set_defaults(handler=cmd_play_now)


def cmd_run(args) -> int:
    from broadcaster.playout.daemon import Daemon

    journal.setup(logging.DEBUG if args.debug else logging.INFO)
    daemon = Daemon(Path(args.config), state=Path(args.state).resolve() if args.state else None,
                    poll_seconds=args.poll, preroll_seconds=args.preroll)
    try:
        daemon.run_forever()
    except RuntimeError as err:
        logging.getLogger("broadcaster.daemon").critical("%s", err)
        return 1
    return 0


def cmd_play_now(args) -> int:
    from broadcaster.playout.breakin import BreakInRequest, ask_daemon, judge
    from broadcaster.playout.daemon import daemon_alive
    from broadcaster.playout.setup import PlayoutSetup
    from broadcaster.station.config import load_station

    journal.setup()
    station = load_station(args.config)
    setup = PlayoutSetup.of(station)
    state = Path(args.state).resolve() if args.state else setup.state
    file = Path(args.file)
    if not file.is_file():
        raise fail(str(file), "không tìm thấy tệp", "file not found", "kiểm tra đường dẫn", "check the path")
    now = datetime.now(setup.zone)
    request = BreakInRequest.new(file, args.level, args.reason, args.confirm, now)

    # A state folder this user may not enter belongs to a daemon of another user: hand the request over all the
    # same, so that the spool's own error says which folder and what to do (not a traceback from planning).
    if daemon_alive(state) or not _may_enter(state):
        verdict, taken = ask_daemon(state, request, timeout=10.0)
        if verdict is None:
            print("Trạm phát không trả lời / the daemon did not answer"
                  + (" (nó đã nhận yêu cầu; xem 'log show' và báo động / it took the request: see 'log show' "
                     "and its alarms)" if taken else " (đã rút yêu cầu / request withdrawn)"), file=sys.stderr)
            return 1
        print(verdict)
        return 0 if verdict.accepted else 2

    # No daemon: judge and play here, on the configured device, logged like the daemon would.
    from broadcaster.playout.daemon import break_in_too_long
    from broadcaster.sound.decode import probe_duration

    too_long = break_in_too_long(file, setup.audio.max_break_in_minutes, probe_duration)
    if too_long is not None:
        print(too_long)
        return 2
    plans = _plans_for_today(args.config, state, now)
    verdict = judge(args.level, args.confirm, plans, now)
    print(f"(không có trạm phát đang chạy: tự phát / no daemon running: playing it here) {verdict}")
    if not verdict.accepted:
        return 2
    start = None
    if args.level == Level.PRIORITY:
        from broadcaster.planning.runs import runs_ahead

        first = runs_ahead([p for p in plans if p.date == now.date()], now)[0]
        if first.start > now:
            print(f"chờ đến {first.start:%H:%M:%S} / waiting until {first.start:%H:%M:%S}")
            start = first.start
    from broadcaster.playout.play_now import play_file

    blackouts = [b for p in plans for b in p.blackouts]
    entry = play_file(setup if not args.state else _with_state(setup, state), file, args.level, args.reason,
                      start=start, confirm=args.confirm, blackouts=blackouts)
    if entry is None or entry.status not in SOUNDED:
        print(f"Không phát được / not aired: {entry.reason if entry else 'no answer from the engine'}")
        return 1
    print(f"Đã phát xong / aired ({entry.status}, {entry.actual_start} → {entry.actual_end})")
    return 0


def _may_enter(folder: Path) -> bool:
    try:
        return not folder.exists() or os.access(folder, os.R_OK | os.X_OK)
    except OSError:
        return False


def _with_state(setup, state: Path):
    from dataclasses import replace

    return replace(setup, state=state)


def _plans_for_today(config: str, state: Path, now: datetime) -> list:
    """Today's plan (for its slots and blackouts): fresh from the files, else the daemon's cached one."""
    from broadcaster.planning.cache import PlanCache
    from broadcaster.planning.inputs import make_plans

    try:
        return make_plans(Path(config), [now.date()])[1]
    except (BroadcasterError, ImportError):
        cached = PlanCache(state).load(now.date())
        if cached is None:
            raise fail(config, "không lập được lịch hôm nay", "cannot make today's plan",
                       "chạy 'python main.py validate'", "run 'python main.py validate'") from None
        return [cached]

