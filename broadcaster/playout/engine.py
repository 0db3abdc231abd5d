"""The playout engine: plays runs of planned items through a sink, on time, and logs what really aired.

API (the daemon, play-now and simulate use only this):

    engine = Engine(audio_dir, settings, sink_factory, clock, log, zone, blackouts=day_plan.blackouts)
    result = engine.play_run(items, hard_stop)      # blocks until the run is over; returns RunResult
    ticket = engine.break_in(path, "emergency", "bão số 5", confirm=False)   # from any thread
    ticket.wait()                                    # -> the as-run entry (or None if refused/skipped)
    engine.set_blackouts(windows)                    # the day's blackouts (a new day, a re-plan)
    engine.replace_upcoming(new_items, hard_stop, key=k)  # re-plan of the run play_run(..., key=k) plays
    engine.stop()                                    # fade out and return from play_run

How it keeps time, falls back between devices, breaks in, takes a re-plan and writes as-run rows:
docs/architecture.md ("The engine").
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

import numpy as np

from broadcaster.asrun.log import AsRunEntry, AsRunLog
from broadcaster.files import file_sha256
from broadcaster.library.station_copy import playable_path
from broadcaster.model import BREAK_IN_LEVELS, Level, PlannedItem, Status, Window
from broadcaster.playout.clock import Clock
from broadcaster.problems import BroadcasterError, Problem
from broadcaster.sound.decode import probe_duration
from broadcaster.sound.mixer import Event, Mixer, Voice, frames_between
from broadcaster.sound.sinks import Sink, SinkFailure
from broadcaster.station.config import AudioSettings

SinkFactory = Callable[[str, int], Sink]  # (device, block frames) -> a sink not yet open
EMERGENCY_FADE_SECONDS = 0.1  # what was on air fades this long before an emergency (a fade, not a click)
logger = logging.getLogger(__name__)


class BreakInRefused(BroadcasterError):
    """A break-in that the rules do not allow now (blackout)."""


@dataclass
class BreakInTicket:
    item: PlannedItem
    level: str
    reason: str
    done: threading.Event = field(default_factory=threading.Event)
    entry: AsRunEntry | None = None

    def wait(self, timeout: float | None = None) -> AsRunEntry | None:
        self.done.wait(timeout)
        return self.entry


@dataclass
class RunResult:
    entries: list[AsRunEntry] = field(default_factory=list)
    underruns: int = 0
    resyncs: list[float] = field(default_factory=list)  # seconds of each re-alignment (+ = was late)
    sink_failures: list[str] = field(default_factory=list)
    frames: int = 0
    blocks: int = 0  # mixed and handed to the sink, of up to audio.block_frames frames each


class Engine:
    def __init__(self, audio_dir: str | Path, settings: AudioSettings, sink_factory: SinkFactory, clock: Clock,
                 log: AsRunLog, zone: tzinfo, *, blackouts: Sequence[Window] = (), preroll: float = 1.5,
                 resync_threshold: float = 0.05, retry_delays: Sequence[float] = (0.5, 1, 2, 4, 8)):
        self.audio_dir = Path(audio_dir)
        self.settings = settings
        self.sink_factory = sink_factory
        self.clock = clock
        self.log = log
        self.zone = zone
        self.preroll = preroll
        self.resync_threshold = resync_threshold
        self.retry_delays = tuple(retry_delays)
        self._blackouts: list[Window] = list(blackouts)
        self._requests: queue.Queue[BreakInTicket] = queue.Queue()
        self._run_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._in_block_loop = False
        self._playback_sink: Sink | None = None  # the playback's open sink, for break_in() to wake a waiting write
        self._stop = threading.Event()
        self._stop_reason = "stopped by the operator"
        self._alone: list[threading.Thread] = []  # break-ins playing on an idle engine
        self._tickets: dict[int, BreakInTicket] = {}
        # play_run calls between their call and their return (waiting or playing), by the caller's run key,
        # and the re-plan waiting for each: one run can wait for the lock while another is still on air
        self._in_run: dict[object, int] = {}
        self._replacements: dict[object, tuple[list[PlannedItem], datetime]] = {}

    # ---- public -------------------------------------------------------------------------------------------
    def set_blackouts(self, windows: Sequence[Window]) -> None:
        with self._state_lock:
            self._blackouts = list(windows)

    def stop(self, reason: str = "stopped by the operator") -> None:
        """`reason` ends the reason of the rows it cuts (`partial`)."""
        self._stop_reason = reason
        self._stop.set()

    def wait_idle(self, timeout: float) -> bool:
        """True once nothing plays: no run, no break-in thread (their rows written, their device closed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._state_lock:
                busy = self._in_block_loop or any(t.is_alive() for t in self._alone)
            if not busy:
                return True
            time.sleep(0.02)
        return False

    def _start_alone(self) -> None:
        """A break-in on its own thread (no run on air), followed so that wait_idle() can wait for it."""
        thread = threading.Thread(target=self._play_alone, name="break-in", daemon=True)
        with self._state_lock:
            self._alone = [t for t in self._alone if t.is_alive()] + [thread]
        thread.start()

    def replace_upcoming(self, items: Sequence[PlannedItem], hard_stop: datetime, *, key: object = None) -> bool:
        """A re-plan of the run played with this `key` (thread-safe): applied at its next block, or when it
        starts if it is still waiting. False if no such run is in play_run (nothing to replace)."""
        with self._state_lock:
            if not self._in_run.get(key):
                return False
            self._replacements[key] = (list(items), hard_stop)
            return True

    def play_run(self, items: Sequence[PlannedItem], hard_stop: datetime, *, resume_at: datetime | None = None,
                 key: object = None, opening: Sequence[BreakInTicket] = ()) -> RunResult:
        """`key` names the run for replace_upcoming (the daemon's run key). `opening` (from opening_ticket) play
        at the run's first item boundary: its start, or the next one if the run joins late. A run that does not
        start (stopped while waiting) leaves them unanswered."""
        if not items:
            return RunResult()
        with self._state_lock:
            self._in_run[key] = self._in_run.get(key, 0) + 1
        try:
            return self._play_run(items, hard_stop, resume_at, key, opening)
        finally:
            with self._state_lock:
                self._in_run[key] -= 1
                if not self._in_run[key]:
                    del self._in_run[key]
                    self._replacements.pop(key, None)

    def _play_run(self, items: Sequence[PlannedItem], hard_stop: datetime,
                  resume_at: datetime | None, key: object, opening: Sequence[BreakInTicket] = ()) -> RunResult:
        # A stop() is not cleared here: one that lands between the daemon's last check and this call (its
        # shutdown racing a run's start) would be lost, and the run would play on to its end.
        run_start = items[0].start
        mixer = self._mixer()
        join, note = None, ""
        if resume_at is not None and resume_at > run_start:
            join, note = resume_at, f"resumed after restart at {resume_at.astimezone(self.zone):%H:%M:%S}"
        else:
            # Wait outside the lock (a break-in meanwhile plays on its own instead of waiting for the slot), in
            # short naps so that stop() is heard.
            ready = run_start - timedelta(seconds=self.preroll)
            while self.clock.now() < ready and not self._stop.is_set():
                self.clock.sleep_until(min(ready, self.clock.now() + timedelta(seconds=0.5)))
            if self._stop.is_set():
                self._stop.clear()
                return RunResult()
        with self._run_lock:
            mixer.load(list(items), run_start, hard_stop, join_at=join, join_note=note)
            for ticket in opening:  # taken at the run's first step, before any item has begun
                self._requests.put(ticket)
            return self._run(mixer, run_start, "started late", key=key)

    def break_in(self, file: str | Path, level: str, reason: str, confirm: bool = False, *,
                 title: str | None = None, gain_db: float = 0.0, category: str = "break-in") -> BreakInTicket:
        """Queue a break-in; thread-safe. Raises BreakInRefused inside a blackout (emergency without confirm,
        or priority)."""
        if level not in BREAK_IN_LEVELS:
            raise ValueError(f"level must be one of {', '.join(BREAK_IN_LEVELS)}")
        path = Path(file) if Path(file).is_absolute() else self.audio_dir / file
        now = self.clock.now()
        blackout = self._blackout_at(now)
        if blackout is not None and (level == Level.PRIORITY or not confirm):
            until = blackout.end.astimezone(self.zone).strftime("%H:%M")
            raise BreakInRefused([Problem(
                "play-now",
                f"đang trong giờ cấm phát '{blackout.name}' (đến {until}); "
                + ("tin ưu tiên không được phát" if level == Level.PRIORITY else "tin khẩn cấp cần xác nhận --confirm"),
                f"inside blackout '{blackout.name}' (until {until}); "
                + ("priority items may not air" if level == Level.PRIORITY else "an emergency needs --confirm"),
                "chờ hết giờ cấm phát" if level == Level.PRIORITY else "thêm --confirm nếu thật sự khẩn cấp",
                "wait until the blackout ends" if level == Level.PRIORITY else "add --confirm if it really is urgent")])
        ticket = self._ticket(path, level, reason, now, title=title, gain_db=gain_db, category=category)
        with self._state_lock:
            self._requests.put(ticket)
            idle = not self._in_block_loop
            sink = self._playback_sink
        if sink is not None and level == Level.EMERGENCY:
            sink.wake()  # the engine thread may be waiting up to a block for room in the sink
        if idle:
            self._start_alone()
        return ticket

    def opening_ticket(self, file: str | Path, reason: str, *, gain_db: float = 0.0,
                       category: str = "break-in") -> BreakInTicket:
        """A priority clip that waited for a slot, for play_run(opening=...): it opens the run, ahead of the
        slot's first item. Not queued and not judged here (the caller judged it when it was accepted)."""
        path = Path(file) if Path(file).is_absolute() else self.audio_dir / file
        return self._ticket(path, Level.PRIORITY, reason, self.clock.now(), gain_db=gain_db, category=category)

    @staticmethod
    def _ticket(path: Path, level: str, reason: str, now: datetime, *, title: str | None = None,
                gain_db: float = 0.0, category: str = "break-in") -> BreakInTicket:
        duration = probe_duration(path)
        item = PlannedItem(start=now, end=now + timedelta(seconds=duration), slot="", category=category,
                           title=title or path.stem, file=str(path), sha256=file_sha256(path), gain_db=gain_db,
                           duration=duration, level=level)
        return BreakInTicket(item, level, reason)

    # ---- runs ---------------------------------------------------------------------------------------------
    def _station_copy(self, file: str, sha256: str | None) -> Path:
        """What the mixer opens for an item: its station copy when the library has a whole one, else its file."""
        return playable_path(self.audio_dir, file, sha256, self.settings.sample_rate, self.settings.channels)

    def _mixer(self) -> Mixer:
        return Mixer(self.audio_dir, sample_rate=self.settings.sample_rate, channels=self.settings.channels,
                     fade_seconds=self.settings.fade_seconds,
                     locate=self._station_copy if self.settings.station_copies else None)

    def _play_alone(self) -> None:
        with self._run_lock:
            if self._requests.empty():
                return  # a run picked it up meanwhile
            now = self.clock.now()
            start = now + timedelta(seconds=0.2)
            stop = self._next_blackout_start(now) or start + timedelta(days=1)
            mixer = self._mixer()
            mixer.load([], start, stop)
            self._run(mixer, start, "started late", idle_break_in=True)

    def _blackout_at(self, moment: datetime) -> Window | None:
        with self._state_lock:
            return next((b for b in self._blackouts if b.start <= moment < b.end), None)

    def _next_blackout_start(self, moment: datetime) -> datetime | None:
        with self._state_lock:
            return min((b.start for b in self._blackouts if b.start > moment), default=None)

    def _run(self, mixer: Mixer, run_start: datetime, late_note: str, idle_break_in: bool = False,
             key: object = None) -> RunResult:
        result = RunResult()
        play = _Playback(self, mixer, run_start, result, on_sink=self._set_playback_sink, stopping=self._stop.is_set,
                         answer=self._answer)
        play.flexible = idle_break_in
        with self._state_lock:
            self._in_block_loop = True
        try:
            if idle_break_in:
                self._take_requests(mixer, play)
            play.start(late_note)
            while not mixer.done:
                if self._stop.is_set():
                    mixer.stop_all(self._stop_reason)
                    self._stop.clear()
                self._take_requests(mixer, play)
                if not idle_break_in:
                    self._take_replacement(mixer, play, key)
                play.step()
            play.finish()
        except Exception as err:  # the rows still waiting to be heard are not lost with the run
            try:
                play.lose_unheard(self.clock.now(), f"playout stopped by an error: {err}")
            except Exception:  # noqa: BLE001 - the error that stopped the run is the one to report
                logger.exception("could not write the rows of the run that stopped")
            raise
        finally:
            mixer.close()
            with self._state_lock:
                self._in_block_loop = False
                self._playback_sink = None
            # Break-ins that arrived as the run ended play on their own.
            if not self._requests.empty():
                self._start_alone()
        return result

    def _take_requests(self, mixer: Mixer, play: _Playback) -> None:
        while True:
            try:
                ticket = self._requests.get_nowait()
            except queue.Empty:
                return
            if ticket.level == Level.EMERGENCY and mixer.voices:
                play.drop_unheard()  # the emergency should not wait for audio queued ahead of the listener
                voice = mixer.interrupt(ticket.item, ticket.reason, round(EMERGENCY_FADE_SECONDS * mixer.sr))
            elif ticket.level == Level.EMERGENCY or not mixer.voices:
                voice = mixer.play_now(ticket.item, ticket.reason)
            else:
                voice = mixer.insert_at_boundary(ticket.item, ticket.reason)
            if voice is None:
                self._skip_ticket(ticket, play, "no item boundary before the slot end")
            else:
                self._tickets[id(voice)] = ticket

    def _skip_ticket(self, ticket: BreakInTicket, play: _Playback, why: str) -> None:
        """A priority break-in that found no item boundary: a `skipped` row, and its ticket answered."""
        ticket.entry = self.log.append(
            planned_start=ticket.item.start, actual_start=None, actual_end=None, status=Status.SKIPPED,
            title=ticket.item.title, file=ticket.item.file, sha256=ticket.item.sha256,
            category=ticket.item.category, level=ticket.level, reason=f"{ticket.reason}; {why}")
        play.result.entries.append(ticket.entry)
        ticket.done.set()

    def _take_replacement(self, mixer: Mixer, play: _Playback, key: object) -> None:
        with self._state_lock:
            replacement = self._replacements.pop(key, None)
        if replacement is None:
            return
        items, hard_stop = replacement
        # a new slot end or blackout holds too, but never sooner than a hard fade from now
        mixer.hard_stop_frame = max(frames_between(mixer.run_start, hard_stop, mixer.sr), mixer.pos + mixer.hard_fade)
        for voice in mixer.replace_upcoming(items, "joined after a re-plan"):
            self._skip_ticket(self._tickets.pop(id(voice)), play,
                              "no item boundary before the slot end after a re-plan")
        upcoming = [v for v in mixer.voices if v.kind == "plan" and not v.started]
        if upcoming:
            at = (mixer.run_start + timedelta(seconds=upcoming[0].start / mixer.sr)).astimezone(self.zone)
            logger.info("re-plan applied to the run on air: %d upcoming items, next %r at %s",
                        len(upcoming), upcoming[0].item.title, at.isoformat(timespec="milliseconds"))
        else:
            logger.info("re-plan applied to the run on air: nothing more to play in it")

    def _set_playback_sink(self, sink: Sink | None) -> None:
        with self._state_lock:
            self._playback_sink = sink

    def _answer(self, voice: Voice, entry: AsRunEntry) -> BreakInTicket | None:
        """The break-in ticket `voice` plays, if any, given the row written for it."""
        ticket = self._tickets.pop(id(voice), None)
        if ticket is not None:
            ticket.entry = entry
        return ticket


@dataclass
class _Unheard:
    """A row waiting for its sink frame to be heard."""

    frame: int
    event: Event
    wall: datetime | None = None  # when it is heard, once timed (`flush_heard` times it when it writes it)


@dataclass
class _Airing:
    """What the playback keeps of one voice for its as-run rows: when it was heard to start, and which rows are
    written. The why of the row (a break-in's reason, the notes on how it was moved or cut) is the mixer's
    `Voice`."""

    actual_start: datetime | None = None  # heard at the sink; None until then, and after a failure cut it
    start_frame: int | None = None  # sink frame of the start while that clock was a guess: timed again later
    failed_logged: bool = False  # its `failed` row is written: the sound card failed while it was on air
    info: list[str] = field(default_factory=list)  # worth a word in its row, does not make it partial


class _Playback:
    """One run on one sink at a time: block loop, timing, sink failures, as-run rows. It reads the engine's
    public settings (devices, clock, sink factory, log, zone, tuning); what it tells the engine goes through
    the hooks: `on_sink` (the sink now open, or None), `stopping` (the engine is being stopped) and `answer`
    (the break-in ticket a written row answers, if any)."""

    def __init__(self, engine: Engine, mixer: Mixer, run_start: datetime, result: RunResult, *,
                 on_sink: Callable[[Sink | None], None], stopping: Callable[[], bool],
                 answer: Callable[[Voice, AsRunEntry], BreakInTicket | None]):
        self.e = engine
        self.on_sink = on_sink
        self.stopping = stopping
        self.answer = answer
        self.mixer = mixer
        self.result = result
        self.sr = engine.settings.sample_rate
        self.clock = engine.clock
        self.run_start = run_start
        # A step before this run (while idle) is already in clock.now(): forget it, or the first timing check
        # would apply it a second time and skip or hold by the whole step.
        self.clock.check_step()
        # When mixer frame 0 must be heard, on the monotonic clock (moves if the wall clock steps).
        self.mono0 = self.clock.monotonic() + (run_start - self.clock.now()).total_seconds()
        self.sink: Sink | None = None
        self.sink_frame = 0
        self.offset = 0  # sink frame - mixer frame
        self.sink_wall0: datetime | None = None  # non-real-time sinks: wall time of sink frame 0
        self.buf = np.zeros((0, engine.settings.channels), np.float32)
        self.next_check = 0.0
        self.sink_note = ""
        self.answered: list[BreakInTicket] = []
        # Rows of a real-time sink wait here, in the mixer's order, until the sink's clock says their frame is
        # heard: audio still queued can yet be lost (an emergency drops it, a power cut).
        self.unheard: list[_Unheard] = []
        self.airings: dict[Voice, _Airing] = {}  # by voice (compared by identity), for the run's rows
        self.recent: list[float] = []  # last lateness readings, 4 a second: act on their median
        self.flexible = False  # True for a break-in on an idle engine: its start may slip, its content not

    # ---- timing -------------------------------------------------------------------------------------------
    def heard_wall(self, sink_frame: int) -> datetime:
        if self.sink.realtime:
            return self.clock.now() + timedelta(seconds=self.heard_mono(sink_frame) - self.clock.monotonic())
        return self.sink_wall0 + timedelta(seconds=sink_frame / self.sr)

    def heard_mono(self, sink_frame: int) -> float:
        """Monotonic time at which `sink_frame` is heard (real-time sinks). Not after the sink drained: the
        sounddevice sink counts the silence it fills after its queue ran dry, so it then times the frames before
        that silence too late."""
        mono = self.sink.heard_time(sink_frame)
        if mono is None:
            # The sink cannot say (it measures afresh after an underrun): the frame was lined up to be heard
            # at its due time. Not "now": the frame rendered now is heard a queue later.
            mono = self.mono0 + (sink_frame - self.offset) / self.sr
        return mono

    def lateness(self) -> float | None:
        """Seconds the next mixer frame will be heard after it should be (negative: early)."""
        heard = self.sink.heard_time(self.sink_frame)
        if heard is None:
            return None
        return heard - (self.mono0 + self.mixer.pos / self.sr)

    # ---- sink ---------------------------------------------------------------------------------------------
    def open_sink(self) -> None:
        """Open the first configured device that works, retrying with backoff until the hard stop."""
        attempt = 0
        errors: list[str] = []
        while True:
            for device in self.e.settings.output_devices:
                try:
                    sink = self.e.sink_factory(device, self.e.settings.block_frames)
                    sink.open()
                except SinkFailure as err:
                    errors.append(str(err))
                    continue
                self.sink = sink
                self.mixer.decode_ahead = not sink.realtime  # faster than real time: decode on every core
                self.on_sink(sink)
                self.sink_frame = 0
                self.sink_wall0 = self.clock.now()
                if errors:
                    self.sink_note = f"on {sink.name} after: {'; '.join(dict.fromkeys(errors))}"
                    self.result.sink_failures.extend(errors)
                return
            if not self.wait_to_retry(attempt):
                raise SinkFailure(",".join(self.e.settings.output_devices), "; ".join(dict.fromkeys(errors)))
            attempt += 1

    def wait_to_retry(self, attempt: int) -> bool:
        """Back off before retry `attempt` (0, 1, …); False, without waiting, if that would pass the hard stop
        or the engine is stopping."""
        delay = self.e.retry_delays[min(attempt, len(self.e.retry_delays) - 1)]
        if self.clock.now() + timedelta(seconds=delay) >= self._hard_stop_wall() or self.stopping():
            return False
        self.clock.sleep_until(self.clock.now() + timedelta(seconds=delay))
        return True

    def drop_unheard(self) -> None:
        """Have the sink drop what it holds unheard and render those frames again (an emergency cuts in
        there, right after what the listener has heard or the device already holds). Items whose end was in
        the dropped audio did not end: they are back on air, their rows not written (the emergency's cut
        gives them `partial` rows ending where they are heard to end)."""
        if self.sink is None:
            return
        self.flush_heard()  # before the sink's clock is measured afresh
        dropped = self.sink.discard()
        if dropped > 0:
            self.sink_frame -= dropped
            self.result.frames -= dropped
            cut = [row for row in self.unheard if row.frame > self.sink_frame]
            self.unheard = [row for row in self.unheard if row.frame <= self.sink_frame]
            for row in cut:
                if row.event.kind != "end":  # a skip or failure stays one
                    self.write_row(row.event, None)
            for v in self.mixer.rewind(dropped, [row.event.voice for row in cut if row.event.kind == "end"]):
                airing = self.airing(v)  # its start was in the dropped audio: not heard after all
                airing.actual_start, airing.start_frame = None, None
            self.offset = self.sink_frame - self.mixer.pos

    def _hard_stop_wall(self) -> datetime:
        return self.run_start + timedelta(seconds=self.mixer.hard_stop_frame / self.sr)

    def start(self, late_note: str) -> None:
        self.connect(late_note, "skip")

    def connect(self, late_note: str, kind: str) -> None:
        """Open a device and line it up with the clock. A device can also fail while being lined up (a fresh
        sound server's first stream can stall for seconds): it is closed and a device opened again, with
        backoff, until the hard stop."""
        attempt = 0
        while True:
            try:
                self.open_sink()
            except SinkFailure as err:
                self.give_up(err)
                return
            try:
                self.align(late_note, kind=kind)
                return
            except SinkFailure as err:
                logger.warning("%s failed while starting: %s", self.sink.name, err.reason)
                self.result.sink_failures.append(str(err))
                self.drop_sink()
                late_note, kind = "sound card was unavailable", "fail"
                if not self.wait_to_retry(attempt):
                    self.give_up(err)
                    return
                attempt += 1

    def drop_sink(self) -> None:
        try:
            self.sink.close(drain=False)
        except Exception:  # noqa: BLE001 - a dead device may fail to close too; it is gone either way
            pass
        self.sink = None
        self.on_sink(None)

    def align(self, late_note: str, kind: str = "skip") -> None:
        """Line the sink up with the clock: silence until mixer frame `pos` is heard on time, or skip ahead
        if it is already late."""
        sink = self.sink
        if sink.realtime:
            # small chunks: with big blocks the wait for a settled clock would overshoot by up to a block
            silence = np.zeros((min(self.e.settings.block_frames, 1024), self.e.settings.channels), np.float32)
            opened = time.monotonic()
            settled = opened + getattr(sink, "settle_seconds", 0.0)  # first DAC times after a start are off
            while (sink.heard_time(self.sink_frame) is None or time.monotonic() < settled) \
                    and time.monotonic() < opened + 3.0:
                self.write(silence)
            self.sink_frame -= sink.discard(device=False)  # the silence still queued need not be waited for
            late = self.lateness() or 0.0
        else:  # a file has no clock: wait (instantly, on a SimClock) for the right moment, no silence
            due = self.run_start + timedelta(seconds=self.mixer.pos / self.sr)
            self.clock.sleep_until(due)
            self.sink_wall0 = self.clock.now() - timedelta(seconds=self.sink_frame / self.sr)
            late = (self.sink_wall0 - due).total_seconds() + self.sink_frame / self.sr
        if self.flexible and late > 0:  # a break-in has no slot time to keep: start it late, never cut it
            self.mono0 += late
            self.run_start += timedelta(seconds=late)
            late = 0.0
        frames = round(late * self.sr)
        logger.info("%s: run frame %d is %+.1f ms from its time", self.sink.name, self.mixer.pos, late * 1000)
        if frames > round(self.e.resync_threshold * self.sr):
            self.mixer.seek(self.mixer.pos + frames, f"{late_note} by {late:.3f} s", kind=kind)
        elif frames < 0:
            silence = np.zeros((min(-frames, 1 << 16), self.e.settings.channels), np.float32)
            left = -frames
            while left > 0:
                self.write(silence[:left])
                left -= min(left, silence.shape[0])
        self.offset = self.sink_frame - self.mixer.pos
        self.next_check = self.clock.monotonic() + 0.25

    def write(self, block: np.ndarray) -> None:
        self.sink.write(block)
        self.sink_frame += block.shape[0]
        if not self.sink.realtime:  # pace: a SimClock jumps, a WallClock waits for real time
            self.clock.sleep_until(self.sink_wall0 + timedelta(seconds=self.sink_frame / self.sr))

    # ---- loop ---------------------------------------------------------------------------------------------
    def step(self) -> None:
        if self.sink is None:
            self.mixer.seek(self.mixer.hard_stop_frame, "no sound device", kind="fail")
            self.log_events(self.mixer.render(self.buf[:0]), 0)
            return
        n = max(1, self.mixer.frames_left(self.e.settings.block_frames))
        if self.buf.shape[0] < n:
            self.buf = np.zeros((n, self.e.settings.channels), np.float32)
        block = self.buf[:n]
        block_sink_start = self.sink_frame
        # the rest of an item cut by a sound-card failure starts its own row where it is heard again
        on_air = (self.airings.get(v) for v in self.mixer.voices if v.started and not v.ended)
        resuming = [a for a in on_air if a is not None and a.failed_logged and a.actual_start is None]
        events = self.mixer.render(block)
        for airing in resuming:
            airing.actual_start = self.heard_wall(block_sink_start)
        self.log_events(events, block_sink_start)
        try:
            self.write(block)
        except SinkFailure as err:
            self.on_failure(err)
            return
        self.flush_heard()  # the write waited up to a block for room: rows heard meanwhile
        self.result.frames += n
        self.result.blocks += 1
        self.offset = self.sink_frame - self.mixer.pos
        self.check_timing()

    def check_timing(self) -> None:
        if not self.sink.realtime or self.clock.monotonic() < self.next_check:
            return
        self.next_check = self.clock.monotonic() + 0.25
        step = self.clock.check_step()
        if step:
            self.mono0 -= step  # the wall clock jumped: the plan's instants moved on the monotonic clock
            self.recent.clear()  # readings from before the step no longer mean anything
            logger.warning("wall clock stepped %+.3f s", step)
        late = self.lateness()
        if late is not None:
            self.recent.append(late)
            del self.recent[:-5]
            # act on a step at once; on drift only when the median of 3+ readings says so (one late callback
            # on a busy machine is no reason to jump)
            late = late if step else (sorted(self.recent)[len(self.recent) // 2] if len(self.recent) >= 3 else None)
        if late is not None and abs(late) > self.e.resync_threshold:
            if any(v.exempt for v in self.mixer.voices):
                return  # never cut into an emergency (a sink restarted for it reads late): re-align after it
            self.recent.clear()
            logger.warning("%s: %+.1f ms off the clock (step %+.3f s): re-aligning", self.sink.name, late * 1000, step)
            frames = round(late * self.sr)
            self.mixer.jump(frames)
            if frames < 0:
                # A hold plays silence while everything left moves later by the same frames, the hard stop too:
                # mixer frame f is now heard that much earlier than before. Without this the next reading is as
                # early as the last, and the hold repeats until the hard stop.
                self.mono0 += frames / self.sr
                self.run_start += timedelta(seconds=frames / self.sr)
            self.result.resyncs.append(late)

    def on_failure(self, err: SinkFailure) -> None:
        self.result.sink_failures.append(str(err))
        failed_at = self.clock.now()
        self.lose_unheard(failed_at, f"sound card failed: {err}")
        self.drop_sink()
        for v in self.mixer.voices:
            airing = self.airings.get(v)
            if v.started and not v.ended and airing is not None and airing.actual_start is not None:
                self.append_failed(v, failed_at, f"sound card failed: {err}")
                airing.failed_logged = True
                airing.actual_start = None  # the rest of it, if any, gets its own row when the card is back
                v.notes.append("resumed after a sound card failure")
        self.connect("sound card was unavailable", "fail")

    def give_up(self, err: SinkFailure) -> None:
        self.sink = None
        self.mixer.seek(self.mixer.hard_stop_frame, f"no working sound device: {err.reason}", kind="fail")
        self.log_events(self.mixer.render(self.buf[:0]), 0)

    def finish(self) -> None:
        self.log_events(self.mixer.take_events(), self.sink_frame)
        if self.sink is not None:
            for row in self.unheard:  # timed now, while the sink's queue still plays (see heard_mono)
                row.wall = self.heard_wall(row.frame)
            try:
                self.sink.close(drain=True)  # returns once the last frame is heard
            except SinkFailure as err:
                self.lose_unheard(self.clock.now(), f"sound card failed: {err}")
            self.flush_heard(everything=True)
            self.result.underruns += self.sink.underruns
        for ticket in self.answered:
            ticket.done.set()

    # ---- as-run rows --------------------------------------------------------------------------------------
    def airing(self, v: Voice) -> _Airing:
        return self.airings.setdefault(v, _Airing())

    def log_events(self, events: list[Event], block_sink_start: int) -> None:
        """Start times are noted; rows are written now on a sink without a queue (a file: its frames count
        as heard once written), else once their frame is heard (`flush_heard`)."""
        for ev in events:
            airing = self.airing(ev.voice)
            if ev.kind == "start":
                airing.actual_start = self.heard_wall(block_sink_start + ev.at)
                # Right after an emergency restarted the stream the sink's clock is a guess (the last restart's
                # delay): time the start again once the stream is measured (its row waits for that, flush_heard).
                airing.start_frame = block_sink_start + ev.at if getattr(self.sink, "provisional", False) else None
                if self.sink_note:
                    airing.info.append(self.sink_note)
                    self.sink_note = ""
                continue
            if ev.kind == "end" and airing.actual_start is None:  # resumed after a failure: starts at this block
                airing.actual_start = self.heard_wall(block_sink_start)
            frame = block_sink_start + (ev.at or 0)
            if self.sink is not None and self.sink.realtime:
                self.unheard.append(_Unheard(frame, ev))
            else:
                self.write_row(ev, self.heard_wall(frame) if self.sink is not None else None)

    def flush_heard(self, everything: bool = False, guess: bool = False) -> None:
        """Write the rows whose frame the sink's clock says is heard by now (`everything`: the sink drained;
        `guess`: now, even if the sink's clock is provisional)."""
        if not (everything or guess) and getattr(self.sink, "provisional", False):
            return  # its clock is a guess until it has measured the stream it restarted: wait for it
        now = self.clock.monotonic()
        while self.unheard and (everything or self.heard_mono(self.unheard[0].frame) <= now):
            row = self.unheard.pop(0)
            self.write_row(row.event, row.wall or self.heard_wall(row.frame))

    def lose_unheard(self, at: datetime, reason: str) -> None:
        """The sink (or the run) failed at `at`: rows heard by then are written as heard; the items whose end
        was still queued did not air to their end (`failed`, like the items on air)."""
        if self.sink is not None:
            self.flush_heard(guess=True)
        lost, self.unheard = self.unheard, []
        for row in lost:
            if row.event.kind == "end":
                self.append_failed(row.event.voice, at, reason)
            else:
                self.write_row(row.event, None)

    def write_row(self, ev: Event, heard: datetime | None) -> None:
        """The row for a mixer event; `heard`: when its frame is heard (the end of an item that ended)."""
        v = ev.voice
        airing = self.airing(v)
        if airing.start_frame is not None and not getattr(self.sink, "provisional", False):
            airing.actual_start, airing.start_frame = self.heard_wall(airing.start_frame), None
        if ev.kind == "end":
            self.append(v, Status.AIRED if v.as_planned else Status.PARTIAL, airing.actual_start, heard, "")
        else:
            if airing.failed_logged and airing.actual_start is None:
                return  # none of its rest aired after the failure: its `failed` row already says so
            status = Status.FAILED if ev.kind == "fail" else Status.SKIPPED
            end = self.clock.now() if airing.actual_start else None
            self.append(v, status, airing.actual_start, end, ev.reason)

    def append_failed(self, v: Voice, at: datetime, reason: str) -> None:
        """A `failed` row for an item cut at `at`; no times if its start was not heard by then."""
        start = self.airing(v).actual_start
        heard = start is not None and start < at
        self.append(v, Status.FAILED, start if heard else None, at if heard else None, reason)

    def append(self, v: Voice, status: str, start: datetime | None, end: datetime | None, reason: str) -> None:
        item = v.item
        parts = ([v.reason] if v.reason else []) + v.notes + self.airing(v).info + ([reason] if reason else [])
        entry = self.e.log.append(
            planned_start=None if v.kind == "break-in" else item.start,
            actual_start=start.astimezone(self.e.zone) if start else None,
            actual_end=end.astimezone(self.e.zone) if end else None, status=status, slot=item.slot,
            category=item.category, title=item.title, file=item.file, sha256=item.sha256, level=item.level,
            reason="; ".join(dict.fromkeys(parts)))
        self.result.entries.append(entry)
        ticket = self.answer(v, entry)
        if ticket is not None:
            self.answered.append(ticket)  # told once the sink has played it out
