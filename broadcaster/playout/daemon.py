"""`run`: the station's playout daemon, for weeks on end with nobody at the desk.

It keeps plans for today and tomorrow, and an APScheduler job per slot run (a DateTrigger in the station zone,
the engine's own preroll + 1 s early, so the engine is built and opens the device in time for the first sample).
A main loop every quarter second: heartbeat, break-in spool, clock-step check; every `poll` seconds: have
config.yaml, playlists/ or the library changed, or has the feed dropped `replan-requested`? then re-plan the rest
of the day.
The run on air takes the new plan from its next item (Engine.replace_upcoming); the item on air is never cut.
Broken inputs keep the last good plan (cached on disk) playing.

On start it first settles a crash: the item cut by the last stop gets a `partial` row (see recovery.py), then
the run due now is resumed at the right offset.

Audio never waits on a write. As-run rows that cannot be written (disk full, log read-only) wait in memory
(asrun/kept.py), state files likewise (state_writes.py); both are tried again every second, and an alarm says
so meanwhile (alarms.py: the daemon's log, `log show`, `paths.state/alarms.json`). Break-in requests are judged
and analysed in their own threads, so a long file never stalls the loop's heartbeat.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from broadcaster.asrun.kept import KeptLog
from broadcaster.asrun.log import iso_ms, ticket_tag
from broadcaster.model import DayPlan, Level, PlannedItem, Status
from broadcaster.planning.cache import PlanCache, shifted_to
from broadcaster.planning.inputs import make_plans, watched_inputs
from broadcaster.planning.replan import REPLAN_MARKER, clear_replan_request
from broadcaster.planning.runs import Run, due_at, runs_of
from broadcaster.playout.alarms import AlarmBoard
from broadcaster.playout.breakin import (
    STALE_SECONDS,
    BreakInRequest,
    BreakInSpool,
    HeldPriority,
    Verdict,
    judge,
    priority_expiry,
)
from broadcaster.playout.clock import StepWatch
from broadcaster.playout.recovery import OnAirState, record_interruption
from broadcaster.playout.setup import START_MARGIN, PlayoutSetup, engine_preroll, make_engine
from broadcaster.playout.state_writes import StateWrites
from broadcaster.playout.watch import ChangeWatch
from broadcaster.problems import BroadcasterError

log = logging.getLogger("broadcaster.daemon")

ALIVE_FILE = "daemon.alive"  # touched every tick: play-now knows a daemon is listening
ALIVE_SECONDS = 5.0
RETRY_SECONDS = 5.0  # after a run fails (device gone), try again this often until its slot ends
SHUTDOWN_WAIT = 6.0  # s for the engine's last rows and its device on SIGTERM (the unit's TimeoutStopSec is 10 s)
HEALTH_SECONDS = 1.0  # how often rows and state kept in memory are tried again


@dataclass
class PlayingRun:
    """A run the daemon has claimed: its latest plan, the engine playing it (None until the engine is in it)."""

    run: Run
    engine: object
    started: datetime
    notes: list[str] = field(default_factory=list)


class Daemon:
    def __init__(self, config: Path, *, state: Path | None = None, poll_seconds: float = 2.0,
                 preroll_seconds: float | None = None, engine_factory=make_engine, plan_maker=make_plans):
        """`preroll_seconds`: how early a run's job starts the engine; None (the default) follows the engine's
        preroll for the configured block size (engine_preroll + START_MARGIN). A value below the engine's preroll
        is raised to it: the first item would start late."""
        self.config = Path(config)
        self.poll_seconds = poll_seconds
        self._preroll_asked = preroll_seconds
        self.engine_factory = engine_factory
        self.plan_maker = plan_maker
        self._state_override = state
        self.setup: PlayoutSetup | None = None
        self.plans: list[DayPlan] = []
        self._lock = threading.RLock()
        self._playing: dict[str, PlayingRun] = {}
        self._done: set[str] = set()
        self._held_priority: list[tuple[BreakInRequest, datetime]] = []  # accepted, waiting for a run
        self._priority_tickets: dict[str, tuple[BreakInRequest, object]] = {}  # handed to the engine
        self._stop = threading.Event()
        self._scheduler: BackgroundScheduler | None = None
        self._watch: ChangeWatch | None = None
        self._resume_key: str | None = None
        self._engine_obj = None
        self._engine_setup: PlayoutSetup | None = None
        self._asrun: KeptLog | None = None
        self._alarms: AlarmBoard | None = None
        self._writes = StateWrites()
        self._taken: set[str] = set()  # request ids taken (a spool file that could not be removed is not re-read)
        self._deciding: list[threading.Thread] = []
        self._feed_threads: dict[str, threading.Thread] = {}
        self._feed_cancel = threading.Event()  # set on stop: a sync in flight ends at once

    # ---- time -------------------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(self.setup.zone)

    def _days(self) -> list[date]:
        today = self.now().date()
        return [today, today + timedelta(days=1)]

    # ---- planning ---------------------------------------------------------------------------------------
    def _load(self) -> bool:
        """Fresh plans for today and tomorrow from the files; False (and the old plans kept) if they are broken."""
        try:
            station, plans = self.plan_maker(self.config, self._days())
        except BroadcasterError as err:
            for problem in err.problems:
                log.error("CONFIG ERROR, keeping the last good plan / LỖI CẤU HÌNH, giữ lịch cũ: %s", problem)
            return False
        except Exception:
            log.exception("planning failed, keeping the last good plan / lập lịch lỗi, giữ lịch cũ")
            return False
        self.setup = self._setup_of(station)
        self._writes.do("setup", self.setup.save, self.setup.state)
        cache = PlanCache(self.setup.state)
        for plan in plans:
            self._writes.do(f"plan:{plan.date}", lambda p=plan: cache.save(p), cache.path(plan.date))
            for exc in plan.exceptions:
                log.warning("plan %s: %s: %s", plan.date, exc.rule, exc.message)
        self.plans = plans
        if self._watch is None:
            self._watch = ChangeWatch(watched_inputs(station))
        else:
            self._watch.retarget(watched_inputs(station))
        return True

    def _setup_of(self, station) -> PlayoutSetup:
        setup = PlayoutSetup.of(station)
        return replace(setup, state=self._state_override) if self._state_override else setup

    def _first_setup(self) -> PlayoutSetup:
        """Zone and folders, from config.yaml if it loads (cheap: no planner), else from the last good snapshot."""
        from broadcaster.station.config import load_station

        try:
            return self._setup_of(load_station(self.config))
        except BroadcasterError as err:
            for problem in err.problems:
                log.error("CONFIG ERROR / LỖI CẤU HÌNH: %s", problem)
        snapshot = PlayoutSetup.load(self._state_override or self.config.resolve().parent / "data")
        if snapshot is None:
            raise RuntimeError("config.yaml is broken and there is no last good setup to fall back on: "
                               "fix config.yaml / sửa config.yaml rồi chạy lại")
        log.error("config.yaml is broken: playing the cached plan / cấu hình lỗi: chạy theo lịch đã lưu")
        return snapshot

    def _cached_plans(self) -> list[DayPlan]:
        cache = PlanCache(self.setup.state)
        plans = []
        for day in self._days():
            plan = cache.load(day)
            if plan is None:
                older = cache.latest_before(day)
                if older is not None:
                    log.warning("no plan for %s: replaying the plan of %s / dùng lại lịch ngày %s",
                                day, older.date, older.date)
                    plan = shifted_to(older, day)
            if plan is not None:
                plans.append(plan)
        return plans

    def replan(self, why: str) -> None:
        with self._lock:
            if self._load():
                log.info("re-planned (%s): %d runs today, %d items", why,
                         len(runs_of(self.plans[0])) if self.plans else 0,
                         sum(len(p.items) for p in self.plans[:1]))
            else:
                log.warning("re-plan (%s) failed: the last good plan stays / giữ lịch cũ", why)
                if not self.plans or self.plans[0].date != self.now().date():
                    self.plans = self._cached_plans()  # a new day with broken inputs: cached/yesterday's plan
            if self._engine_obj is not None:
                self._engine_obj.set_blackouts(self._blackouts())
            self._schedule()

    # ---- scheduling -------------------------------------------------------------------------------------
    def lead(self) -> timedelta:
        """How long before a run starts its job fires: the engine's preroll (from the block size) + a margin."""
        needed = engine_preroll(self.setup.audio)
        if self._preroll_asked is None:
            return timedelta(seconds=needed + START_MARGIN)
        if self._preroll_asked < needed:
            log.warning("--preroll %.2f s is shorter than the engine needs at %d-frame blocks: %.2f s used",
                        self._preroll_asked, self.setup.audio.block_frames, needed)
            return timedelta(seconds=needed)
        return timedelta(seconds=self._preroll_asked)

    def _runs(self) -> dict[str, Run]:
        return {run.key: run for plan in self.plans for run in runs_of(plan)}

    def _schedule(self) -> None:
        """One DateTrigger job per run still to come; runs due now start at once (seeking in)."""
        now = self.now()
        wanted = {}
        self._sync_playing()
        for key, run in self._runs().items():
            if run.hard_stop <= now or key in self._done or not run.items or key in self._playing:
                continue
            wanted[key] = run
        for job in self._scheduler.get_jobs():
            if job.id.startswith("run:") and job.id[4:] not in wanted:
                job.remove()
        lead = self.lead()
        for key, run in wanted.items():
            fire = max(run.start - lead, now)
            self._scheduler.add_job(self._play_run, DateTrigger(run_date=fire, timezone=self.setup.zone),
                                    args=[key], id=f"run:{key}", replace_existing=True, misfire_grace_time=None,
                                    coalesce=True)
        if wanted:
            first = min(wanted.values(), key=lambda r: r.start)
            log.info("scheduled %d runs; next %s at %s", len(wanted), first.window.id, iso_ms(first.start))

    def _update_playing(self, run: Run) -> None:
        """The new plan for the run on air: the engine swaps the items not yet started (the one on air plays
        on). If the engine is not in the run yet (a few ms around its start), the next poll tries again."""
        playing = self._playing[run.key]
        if (run.items, run.hard_stop) == (playing.run.items, playing.run.hard_stop) or playing.engine is None:
            return
        if playing.engine.replace_upcoming(list(run.items), run.hard_stop, key=run.key):
            playing.run = run
            log.info("run %s on air: items not started yet replaced by the new plan (%d items in the run)",
                     run.window.id, len(run.items))

    def _end_vanished(self, key: str) -> None:
        """The run on air is no longer in the plan (its slot was removed or moved): the item on air plays on,
        nothing after it. Not for a run of a day no longer planned (a slot across midnight keeps its items)."""
        playing = self._playing[key]
        run = playing.run
        if playing.engine is None or not run.items or not any(p.date == run.start.date() for p in self.plans):
            return
        if playing.engine.replace_upcoming([], run.hard_stop, key=key):
            playing.run = Run(run.window, ())
            log.warning("run %s on air is no longer in the plan: it ends after the item on air", run.window.id)

    def _sync_playing(self) -> None:
        with self._lock:
            runs = self._runs()
            for key in list(self._playing):
                if key in runs:
                    self._update_playing(runs[key])
                else:
                    self._end_vanished(key)

    # ---- playing ----------------------------------------------------------------------------------------
    def _engine(self):
        """The engine for the current setup; a new one when the audio settings or folders changed."""
        with self._lock:
            if self._engine_obj is None or self._engine_setup != self.setup:
                self._asrun = self._asrun or KeptLog(self.setup.asrun_log, self.setup.zone)
                self._engine_obj = self.engine_factory(self.setup, self._asrun, self._blackouts())
                self._engine_setup = self.setup
            return self._engine_obj

    def _blackouts(self) -> list:
        return [b for plan in self.plans for b in plan.blackouts]

    def _play_run(self, key: str) -> None:
        """Scheduler job: play one run to its hard stop. Never raises: one run's failure is not the daemon's."""
        with self._lock:
            run = self._runs().get(key)
            if run is None or key in self._playing or self._stop.is_set():
                return
            self._playing[key] = PlayingRun(run, None, self.now())  # claimed: a re-plan now must not schedule it again
            resuming, self._resume_key = self._resume_key == key, None
        attempt = 0
        while not self._stop.is_set() and self.now() < run.hard_stop:
            now = self.now()
            try:
                engine = self._engine()
                with self._lock:
                    run = self._runs().get(key, run)  # a re-plan since the claim (or the last attempt)
                    self._playing[key] = PlayingRun(run, engine, now)
                    held, self._held_priority = self._held_priority, []
                self._on_air_state(lambda state, k=key, t=now: state.begin(k, t))
                opening = []
                if held and now < run.start:  # priority clips that waited for this slot open it
                    opening = [t for t in (self._hand_held(engine, r, opening=True) for r, _ in held) if t]
                elif held:  # a run joined late (a restart): in at its next item boundary
                    threading.Timer(0.2, lambda e=engine, h=held: [self._hand_held(e, r) for r, _ in h]).start()
                due = due_at([_plan_of(run)], now) if now > run.start else None
                log.info("run %s start (%s → %s, %d items)%s", run.window.id, iso_ms(run.start),
                         iso_ms(run.hard_stop), len(run.items),
                         f", joining {due.item.title!r} at {due.offset:.2f} s" if due else "")
                result = engine.play_run(list(run.items), run.hard_stop, key=key, opening=opening,
                                         resume_at=now if resuming and not attempt else None)
                log.debug("run %s result: %s", run.window.id, result)
                for failure in dict.fromkeys(result.sink_failures):
                    log.error("run %s sound device failure: %s", run.window.id, failure)
                log.info("run %s end: %d rows, %d underruns, %d re-alignments", run.window.id,
                         len(result.entries), result.underruns, len(result.resyncs))
                break
            except Exception as err:  # an engine bug, an unreadable file the engine did not catch: carry on
                attempt += 1
                log.exception("run %s failed (attempt %d): %s", run.window.id, attempt, err)
                _record_failure(self._asrun, run, err)
            self._stop.wait(RETRY_SECONDS)
        with self._lock:
            self._done.add(key)
            self._playing.pop(key, None)
            if not self._playing:
                self._on_air_state(OnAirState.end)

    def _on_air_state(self, change) -> None:
        state = OnAirState(self.setup.state)
        self._writes.do("on-air", lambda: change(state), state.marker)

    # ---- break-ins --------------------------------------------------------------------------------------
    def _take_break_ins(self) -> None:
        """Each request in its own thread: judging and the loudness analysis of a long file take seconds, and
        one request's failure is not the next one's."""
        self._deciding = [t for t in self._deciding if t.is_alive()]
        for request in BreakInSpool(self.setup.state).pending():
            if request.id in self._taken:
                continue
            self._taken.add(request.id)
            thread = threading.Thread(target=self._take_break_in, args=(request,), name=f"break-in {request.id}",
                                      daemon=True)
            self._deciding.append(thread)
            thread.start()

    def _take_break_in(self, request: BreakInRequest) -> None:
        try:
            verdict = self._decide(request)
        except Exception as err:  # an engine or analysis bug: this request is refused, the daemon goes on
            log.exception("break-in %s could not be judged", request.id)
            verdict = Verdict(False, f"Lỗi khi xử lý yêu cầu: {err}", f"Error handling the request: {err}")
        spool = BreakInSpool(self.setup.state)
        self._writes.do(f"answer:{request.id}", lambda: spool.answer(request.id, verdict),
                        spool.folder / f"{request.id}.answer.json")
        (log.warning if request.level == Level.EMERGENCY else log.info)(
            "break-in %s %s %s (%s): %s", request.level, Path(request.file).name,
            "ACCEPTED" if verdict.accepted else "REFUSED", request.reason, verdict)

    def _decide(self, request: BreakInRequest) -> Verdict:
        from broadcaster.sound.decode import probe_duration

        now = self.now()
        if (now - datetime.fromisoformat(request.requested_at)).total_seconds() > STALE_SECONDS:
            return Verdict(False, "Yêu cầu quá cũ, không phát", "Request is stale, not aired")
        if not Path(request.file).is_file():
            return Verdict(False, f"Không tìm thấy tệp {request.file}", f"File not found: {request.file}")
        too_long = break_in_too_long(Path(request.file), self.setup.audio.max_break_in_minutes, probe_duration)
        if too_long is not None:
            return too_long
        with self._lock:
            verdict = judge(request.level, request.confirm, self.plans, now)
            if not verdict.accepted:
                return verdict
            if request.level == Level.PRIORITY:
                until = priority_expiry(self.plans, now)
                held = HeldPriority(self.setup.state)  # kept on disk until it has aired
                self._writes.do(f"held:{request.id}", lambda: held.keep(request, until), held.folder)
                if not self._playing:
                    self._held_priority.append((request, until))  # handed over when the next run starts
                    return verdict
        refused = self._hand_held(self._engine(), request, answered_now=True) if request.level == Level.PRIORITY \
            else self._hand_to_engine(self._engine(), request)[1]
        return refused or verdict

    def _hand_held(self, engine, request: BreakInRequest, answered_now: bool = False, opening: bool = False):
        """A kept priority clip to the engine; followed until it has aired (then no longer kept), or refused
        (a `skipped` row says why, unless play-now is printing the refusal right now). Returns the refusal; with
        `opening`, the ticket for play_run(opening=...) instead (None if refused)."""
        ticket, refused = self._hand_to_engine(engine, request, opening=opening)
        if refused is not None:
            if answered_now:
                self._drop_held(request.id)
            else:
                self._priority_done(request, f"{refused.message_vi} / {refused.message_en}")
            return None if opening else refused
        with self._lock:
            self._priority_tickets[request.id] = (request, ticket)
        return ticket if opening else None

    def _check_priority(self) -> None:
        """Every tick: clips the engine is done with are no longer kept; waiting ones past their slot expire."""
        with self._lock:
            # the row is written once the clip's end is heard (done is set only at the run's end)
            done = [(r, t) for r, t in self._priority_tickets.values() if t.entry is not None or t.done.is_set()]
            for request, _ in done:
                del self._priority_tickets[request.id]
            now = self.now()
            expired = [r for r, until in self._held_priority if until is None or until <= now]
            self._held_priority = [(r, until) for r, until in self._held_priority if r not in expired]
        for request, ticket in done:
            self._drop_held(request.id)
            entry = ticket.entry
            log.info("priority clip %s: %s%s", Path(request.file).name, entry.status if entry else "not aired",
                     f" ({entry.reason})" if entry and entry.status != Status.AIRED else "")
        for request in expired:
            self._priority_done(request, "hết hạn: buổi phát đã qua mà chưa phát được (trạm dừng?) / "
                                         "expired: its slot ended before it could air (was the daemon down?)")

    def _priority_done(self, request: BreakInRequest, why: str) -> None:
        """A kept priority clip that will not air: no longer kept, and a `skipped` row says why."""
        from broadcaster.files import file_sha256

        self._drop_held(request.id)
        log.warning("priority clip %s (requested %s) not aired: %s", Path(request.file).name,
                    request.requested_at, why)
        try:
            sha = file_sha256(Path(request.file))
        except OSError:
            sha = ""
        try:
            self._asrun.append(planned_start=datetime.fromisoformat(request.requested_at), actual_start=None,
                               actual_end=None, status=Status.SKIPPED,
                               category=_category(Level.PRIORITY), title=Path(request.file).stem, file=request.file,
                               sha256=sha, level=Level.PRIORITY, reason=f"{request.logged_reason}; {why}")
        except Exception:
            log.exception("could not record the expired priority clip in the as-run log")

    def _restore_priority(self) -> None:
        """After a restart: accepted priority clips that have not aired wait for the next run, or expire. One
        with a row already (the stop came between its row and the removal of its record) is done: not again."""
        held = []
        for request, until in HeldPriority(self.setup.state).all():
            rows = self._asrun.with_reason(ticket_tag(request.id))
            if not rows:
                held.append((request, until))
                continue
            self._drop_held(request.id)
            log.warning("priority clip %s (requested %s) is already in the as-run log (row %d, %s): "
                        "not handed again / đã có trong nhật ký, không phát lại", Path(request.file).name,
                        request.requested_at, rows[-1].id, rows[-1].status)
        with self._lock:
            self._held_priority.extend(held)
        for request, until in held:
            if until > self.now():
                log.info("priority clip %s (requested %s) still to air, until %s", Path(request.file).name,
                         request.requested_at, iso_ms(until))
        self._check_priority()  # the others expire now

    def _drop_held(self, request_id: str) -> None:
        held = HeldPriority(self.setup.state)
        self._writes.do(f"held:{request_id}", lambda: held.drop(request_id), held.folder)

    def _hand_to_engine(self, engine, request: BreakInRequest, opening: bool = False):
        """Give the engine the clip (with the library's gain if known): (ticket, None), or (None, Verdict) if
        it was refused. With `opening`, only its ticket is made, for the run about to start."""
        from broadcaster.playout.engine import BreakInRefused
        from broadcaster.playout.play_now import clip_gain

        if self._stop.is_set():
            return None, Verdict(False, "Trạm phát đang tắt", "The daemon is stopping")
        try:
            gain, warning = clip_gain(self.setup, Path(request.file))
            if warning:
                log.warning("%s: %s", request.file, warning)
            reason = request.logged_reason if request.level == Level.PRIORITY else request.reason  # held ones: tagged
            if opening:
                ticket = engine.opening_ticket(Path(request.file), reason, gain_db=gain,
                                               category=_category(request.level))
            else:
                ticket = engine.break_in(Path(request.file), request.level, reason, confirm=request.confirm,
                                         gain_db=gain, category=_category(request.level))
        except BreakInRefused as err:
            problem = err.problems[0]
            return None, Verdict(False, problem.message_vi, problem.message_en)
        except BroadcasterError as err:  # the file cannot air (corrupt, silent)
            problem = err.problems[0]
            return None, Verdict(False, problem.message_vi, problem.message_en)
        except Exception as err:
            log.exception("engine did not take the break-in %s", request.file)
            return None, Verdict(False, f"Lỗi: {err}", f"Error: {err}")
        return ticket, None

    # ---- the loop ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """Resume from the cached plan first (within a second or two of a restart), then plan afresh: the
        planner and library pull in the loudness analysis (scipy), which alone takes over a second to import."""
        self.setup = self._first_setup()
        self.plans = self._cached_plans()
        self._alarms = AlarmBoard(self.setup.state, self.setup.zone)
        self._alarms.reserve()
        self._prepare_spool()
        self._asrun = KeptLog(self.setup.asrun_log, self.setup.zone)
        self._asrun.flush()  # opens it: a damaged log is set aside now, before anything airs
        self._settle_crash()
        self._restore_priority()
        self._check_health()
        self._scheduler = BackgroundScheduler(timezone=self.setup.zone,
                                              executors={"default": ThreadPoolExecutor(4)})
        self._scheduler.start()
        self._scheduler.add_job(self.replan, CronTrigger(hour=0, minute=0, second=1, timezone=self.setup.zone),
                                args=["new day"], id="midnight", misfire_grace_time=None, coalesce=True)
        with self._lock:
            self._schedule()
        self._schedule_feed_sync()
        if self._resume_key:  # let the engine get the device going before the planner's heavy imports
            deadline = time.monotonic() + 3.0
            while self._resume_key and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)
        self.replan("start")

    def _schedule_feed_sync(self) -> None:
        """The district feed every feed.interval_minutes, in three daemon threads of its own (inbox, HTTP feed,
        results upward), so that none waits on another, a slow 3G sync never holds up playout, and a stop never
        waits on a sync: `_feed_cancel` ends any transfer within a quarter second. A new emergency or priority
        clip goes into the break-in spool; a re-plan marker is what _poll_inputs sees."""
        try:
            from broadcaster.feed.settings import feed_settings
            from broadcaster.station.config import load_station

            settings = feed_settings(load_station(self.config))
        except Exception as err:  # a broken config is reported by replan(); no feed until it is fixed
            log.warning("district feed not scheduled: %s", err)
            return
        if not settings.url and not settings.public_key:
            return  # this station takes no district feed
        self._scheduler.add_job(self._start_feed_sync, "interval", minutes=settings.interval_minutes,
                                id="feed-sync", next_run_time=datetime.now(self.setup.zone) + timedelta(seconds=5),
                                coalesce=True, max_instances=1, misfire_grace_time=None)
        log.info("district feed: syncing every %g min", settings.interval_minutes)

    def _start_feed_sync(self) -> None:
        from broadcaster.feed import sync

        for name, part in (("inbox", sync.sync_inbox), ("http", sync.sync_http), ("results", sync.send_results)):
            running = self._feed_threads.get(name)
            if running is not None and running.is_alive():
                continue  # the last one is still at it (bounded by its deadline)
            thread = threading.Thread(target=self._sync_feed, args=(name, part), daemon=True, name=f"feed-{name}")
            self._feed_threads[name] = thread
            thread.start()

    def _sync_feed(self, name: str, part) -> None:
        from broadcaster.station.config import load_station

        try:
            result = part(load_station(self.config), cancel=self._feed_cancel) if name != "inbox" \
                else part(load_station(self.config))
        except Exception:
            log.exception("district feed %s failed (playout goes on)", name)
            return
        if result.busy or (name != "results" and not result.sources and not result.error):
            return
        if name == "results":
            if result.outbox_error or result.error:
                log.warning("district feed: results not sent: %s", result.outbox_error or result.error)
            return
        problems = "; ".join(f"{s.source}: {s.code or s.status} {s.message}".strip() for s in result.sources
                             if s.status == "rejected") or result.error
        log.log(logging.INFO if result.ok else logging.WARNING,
                "district feed: %s; %d new clip(s), %d break-in(s)", "ok" if result.ok else problems or "problems",
                len(result.added), len(result.breakins))

    def _settle_crash(self) -> None:
        left = OnAirState(self.setup.state).left_over()
        if left is None:
            return
        marker, stopped_at = left
        cached = PlanCache(self.setup.state)
        plans = [p for p in (cached.load(stopped_at.date() - timedelta(days=1)), cached.load(stopped_at.date()))
                 if p is not None]
        row = record_interruption(self._asrun, plans, marker, stopped_at)
        self._on_air_state(OnAirState.end)
        if row:
            log.warning("previous stop cut %r (planned %s) at %s: logged as partial",
                        row["title"], row["planned_start"], row["stopped_at"])
        due = due_at(self.plans, self.now())
        if due is not None:
            # The job scheduled for this run starts at once; the engine logs the item "resumed after restart".
            self._resume_key = due.run.key
            log.info("resuming run %s at %r + %.2f s", due.run.window.id, due.item.title, due.offset)

    def run_forever(self) -> None:
        signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        signal.signal(signal.SIGINT, lambda *_: self._stop.set())
        self.start()
        log.info("daemon ready; state in %s", self.setup.state)
        steps = StepWatch()
        last_poll = last_health = 0.0
        alive = self.setup.state / ALIVE_FILE
        while not self._stop.wait(0.25):
            # each step on its own: a state folder that cannot be written must not keep break-ins from being taken
            self._tick("heartbeat", lambda: self._beat(alive))
            self._tick("break-ins", self._take_break_ins)
            self._tick("priority", self._check_priority)
            self._tick("clock", lambda: self._check_step(steps))
            if time.monotonic() - last_poll >= self.poll_seconds:
                last_poll = time.monotonic()
                self._tick("inputs", self._poll_inputs)
            if time.monotonic() - last_health >= HEALTH_SECONDS:
                last_health = time.monotonic()
                self._tick("health", self._check_health)
        self.shutdown()

    @staticmethod
    def _stop_engines(engines: list) -> None:
        for engine in engines:
            try:
                engine.stop("stopped: the daemon is stopping (SIGTERM) / dừng: trạm phát tắt")
            except Exception:
                log.exception("engine stop failed")

    @staticmethod
    def _tick(what: str, step) -> None:
        try:
            step()
        except Exception:
            log.exception("daemon loop error in %s (carrying on)", what)

    def _beat(self, alive: Path) -> None:
        try:
            alive.touch()
        except OSError:
            pass  # a state folder that cannot be written: _check_health raises the alarm
        with self._lock:
            if self._playing:
                self._writes.do("heartbeat", OnAirState(self.setup.state).beat, self.setup.state)

    def _check_step(self, steps: StepWatch) -> None:
        step = steps.check()
        if step:
            log.warning("wall clock stepped by %+.3f s (NTP?): re-scheduling", step)
            with self._lock:
                self._schedule()
            self._scheduler.wakeup()

    def _check_health(self) -> None:
        """Rows and state kept in memory are tried again; the alarms say what still waits."""
        asrun, alarms = self._asrun, self._alarms
        self._writes.retry()
        waiting = asrun.flush()
        if asrun.trouble:
            alarms.raise_alarm(
                "asrun-unwritable",
                f"Không ghi được nhật ký phát sóng ({asrun.trouble}): {waiting} dòng đang giữ trong bộ nhớ, sẽ ghi "
                "khi ghi được. Vẫn phát bình thường. Kiểm tra chỗ trống đĩa (df) và quyền ghi tệp nhật ký.",
                f"Cannot write the as-run log ({asrun.trouble}): {waiting} row(s) kept in memory, written as soon as "
                "it can be. Playout goes on. Check free space (df) and that the log file is writable.",
                asrun.path)
        else:
            alarms.clear("asrun-unwritable", "every row kept in memory is written")
        for kept in asrun.set_aside:
            alarms.raise_alarm(
                "asrun-damaged",
                f"Nhật ký phát sóng bị hỏng ({kept.why}); đã giữ lại thành {kept.name} (sha256 {kept.sha256}) và "
                "bắt đầu nhật ký mới. Gửi tệp hỏng cho đài huyện nếu cần.",
                f"The as-run log was damaged ({kept.why}); it is kept as {kept.name} (sha256 {kept.sha256}) and a "
                "new log began. Keep the damaged file for the district.", asrun.path.with_name(kept.name))
        trouble = self._writes.trouble()
        if trouble:
            count, path, error = trouble
            alarms.raise_alarm(
                "state-unwritable",
                f"Không ghi được thư mục trạng thái ({error}): {count} tệp đang giữ trong bộ nhớ. Vẫn phát bình "
                "thường. Kiểm tra chỗ trống đĩa (df).",
                f"Cannot write the state folder ({error}): {count} file(s) kept in memory. Playout goes on. "
                "Check free space (df).", path)
        else:
            alarms.clear("state-unwritable", "every state file kept in memory is written")
        alarms.retry()

    def _prepare_spool(self) -> None:
        spool = BreakInSpool(self.setup.state)
        try:
            for note in spool.prepare():
                log.warning("break-in folder: %s", note)
        except OSError as err:
            self._alarms.raise_alarm(
                "spool-unwritable",
                f"Thư mục phát khẩn {spool.folder} không dùng được ({err.strerror or err}): play-now sẽ không tới "
                "được trạm phát. Sửa: chown -R <người dùng dịch vụ>:<nhóm> và chmod 2770 thư mục này.",
                f"The break-in folder {spool.folder} is not usable ({err.strerror or err}): play-now cannot reach "
                "the daemon. Fix: chown -R <service user>:<group> and chmod 2770 on it.", spool.folder)

    def _poll_inputs(self) -> None:
        if (self.setup.state / REPLAN_MARKER).exists():
            clear_replan_request(self.setup.state)
            self.replan("replan-requested by the feed")
        elif self._watch is not None and self._watch.changed():
            self.replan("inputs changed")
        else:
            self._sync_playing()

    def shutdown(self) -> None:
        log.info("stopping")
        self._stop.set()
        self._feed_cancel.set()  # the feed threads are daemon threads: never waited on past this
        with self._lock:
            engines = [self._engine_obj] if self._engine_obj is not None else []
        self._stop_engines(engines)
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
        for thread in self._deciding:  # a request being judged may hand its clip over meanwhile: stopped too
            thread.join(timeout=2.0)
        with self._lock:
            engines = [self._engine_obj] if self._engine_obj is not None else []
        self._stop_engines(engines)
        for engine in engines:  # a break-in on an idle engine plays on its own thread: its row, then its device
            if not engine.wait_idle(SHUTDOWN_WAIT):
                log.error("the engine did not stop within %.0f s", SHUTDOWN_WAIT)
        self._tick("priority", self._check_priority)  # clips that aired in the last moments are no longer kept
        self._on_air_state(OnAirState.end)
        self._writes.retry()
        try:
            (self.setup.state / ALIVE_FILE).unlink(missing_ok=True)
        except OSError:
            pass
        if self._asrun is not None:
            self._asrun.close()


def break_in_too_long(file: Path, max_minutes: float, probe) -> Verdict | None:
    """A refusal for a clip longer than audio.max_break_in_minutes (found by ffprobe, before any decoding)."""
    try:
        minutes = probe(file) / 60
    except Exception:  # noqa: BLE001 - unreadable: the analysis says why, in its own words
        return None
    if minutes <= max_minutes:
        return None
    return Verdict(False, f"Tệp dài {minutes:.0f} phút, quá mức tối đa {max_minutes:g} phút cho phát khẩn "
                          "(audio.max_break_in_minutes); kiểm tra đúng tệp chưa, hoặc tăng mức này trong config.yaml",
                   f"The clip is {minutes:.0f} min long, over the {max_minutes:g} min break-in maximum "
                   "(audio.max_break_in_minutes); check it is the right file, or raise the limit in config.yaml")


def daemon_alive(state: Path) -> bool:
    try:
        return time.time() - (Path(state) / ALIVE_FILE).stat().st_mtime < ALIVE_SECONDS
    except OSError:
        return False


def _plan_of(run: Run) -> DayPlan:
    return DayPlan(date=run.start.date(), timezone=str(run.start.tzinfo), slots=[run.window], items=list(run.items))


def _category(level: str) -> str:
    return {Level.EMERGENCY: "khan-cap", Level.PRIORITY: "uu-tien"}.get(level, "break-in")


def _record_failure(asrun: KeptLog, run: Run, err: Exception) -> None:
    try:
        asrun.append(planned_start=run.start, actual_start=None, actual_end=None, status=Status.FAILED,
                     slot=run.window.id, reason=f"phát lỗi / playout failed: {type(err).__name__}: {err}"[:500])
    except Exception:
        log.exception("could not record the failure in the as-run log")


__all__ = ["Daemon", "daemon_alive", "PlannedItem"]
