"""As-run rows say only what the listener heard: written once the sink's clock says the item's end is heard,
never for audio an emergency took out of the sink's queue. Real null sink at the default 16384-frame blocks
(up to ~2 s queued ahead of the listener), recorded back from its monitor."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime, timedelta

import numpy as np

from broadcaster.asrun.log import AsRunLog
from broadcaster.playout.clock import WallClock
from broadcaster.playout.engine import Engine
from broadcaster.sound.sinks import sound_card_sink
from broadcaster.station.config import AudioSettings
from tests.support.audio import RATE, ZONE, chain, noise, tone, write_wav
from tests.support.pulse import Recorder

BLOCK = 16384  # the default audio.block_frames
WINDOW = RATE // 50  # 20 ms


def level(x: np.ndarray, hz: float) -> np.ndarray:
    """Amplitude of the `hz` component in consecutive 20 ms windows."""
    n = len(x) // WINDOW * WINDOW
    t = np.arange(WINDOW) / RATE
    frames = x[:n].reshape(-1, WINDOW)
    return 2 * np.hypot(frames @ np.cos(2 * np.pi * hz * t), frames @ np.sin(2 * np.pi * hz * t)) / WINDOW


def engine_for(tmp_path, clock, **tuning):
    settings = AudioSettings(output_devices=("default",), fade_seconds=0.005, block_frames=BLOCK)
    log = AsRunLog(tmp_path / "asrun.sqlite")
    engine = Engine(tmp_path / "audio", settings,
                    lambda dev, frames: sound_card_sink("sounddevice", dev, RATE, 2, frames), clock, log, ZONE,
                    preroll=3.5, resync_threshold=0.1, **tuning)
    return engine, log


def mono(clock, stamp: str) -> float:
    """time.monotonic() of an as-run time."""
    return time.monotonic() - (clock.now() - datetime.fromisoformat(stamp)).total_seconds()


def test_an_item_whose_end_an_emergency_dropped_from_the_queue_is_partial_where_it_was_heard_to_end(
        tmp_path, pulse):
    audio = tmp_path / "audio"
    write_wav(audio / "a.wav", tone(330, 4.0, 0.2))
    write_wav(audio / "b.wav", tone(550, 4.0, 0.2))
    write_wav(audio / "siren.wav", tone(1000, 1.5, 0.5))
    clock = WallClock(ZONE)
    items = chain([("a.wav", 4.0), ("b.wav", 4.0)], t0=clock.now() + timedelta(seconds=4.0))
    engine, log = engine_for(tmp_path, clock)
    called: list[float] = []

    def request() -> None:  # 0.6 s before a's end: its last block is already queued (0.74 s + PortAudio's)
        time.sleep((items[0].end - clock.now()).total_seconds() - 0.6)
        called.append(time.monotonic())
        engine.break_in(audio / "siren.wav", "emergency", "bão số 5")

    rec = Recorder(pulse)
    threading.Thread(target=request, daemon=True).start()
    result = engine.play_run(items, items[-1].end)
    recording, _ = rec.stop()

    a_row = next(e for e in result.entries if e.title == "a")
    assert a_row.status == "partial" and "interrupted by emergency: bão số 5" in a_row.reason
    # In the recording: a until the emergency took the air (its 0.1 s fade), then the siren.
    first = int(rec.frame_at(called[0] - 1.0)) // WINDOW
    a_level, siren = level(recording[:, 0], 330)[first:], level(recording[:, 0], 1000)[first:]
    siren_on = int(np.flatnonzero(siren >= 0.25)[0])
    a_on = np.flatnonzero(a_level[:siren_on] >= 0.02)
    a_heard_end = rec.time_of((first + a_on[-1] + 1) * WINDOW)
    logged_end = mono(clock, a_row.actual_end)
    print(f"a: as-run end {1000 * (logged_end - a_heard_end):+.1f} ms from its end in the recording, "
          f"siren loud {1000 * (rec.time_of((first + siren_on) * WINDOW) - logged_end):+.1f} ms after it")
    assert abs(logged_end - a_heard_end) < 0.06
    assert mono(clock, items[0].end.isoformat()) - a_heard_end > 0.1  # a's planned end was never heard
    # No row claims audio the recording does not hold: each item's tone is there up to the row's end.
    for row, hz in ((a_row, 330), (next(e for e in result.entries if e.level == "emergency"), 1000)):
        end = int(rec.frame_at(mono(clock, row.actual_end))) // WINDOW
        assert level(recording[:, 0], hz)[end - 3:end - 1].min() > 0.01, (row.title, row.actual_end)
    assert [e.title for e in result.entries] == ["a", "siren", "b"]
    assert log.verify().ok


def test_a_row_is_written_once_its_end_is_heard_not_when_it_is_queued(tmp_path, pulse):
    audio = tmp_path / "audio"
    write_wav(audio / "a.wav", tone(330, 2.0, 0.2))
    write_wav(audio / "b.wav", tone(550, 2.0, 0.2))
    clock = WallClock(ZONE)
    items = chain([("a.wav", 2.0), ("b.wav", 2.0)], t0=clock.now() + timedelta(seconds=4.0))
    engine, _ = engine_for(tmp_path, clock)
    seen: dict[str, float] = {}  # title -> time.monotonic() the row was first readable by another process

    def watch() -> None:  # another connection to the real file, as `log show` or a power cut would see it
        db = sqlite3.connect(f"file:{tmp_path / 'asrun.sqlite'}?mode=ro", uri=True)
        deadline = time.monotonic() + 20
        while len(seen) < 2 and time.monotonic() < deadline:
            for (title,) in db.execute("SELECT title FROM asrun"):
                seen.setdefault(title, time.monotonic())
            time.sleep(0.005)
        db.close()

    rec = Recorder(pulse)
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    result = engine.play_run(items, items[-1].end)
    watcher.join(5)
    recording, _ = rec.stop()

    assert [(e.title, e.status) for e in result.entries] == [("a", "aired"), ("b", "aired")]
    for row, hz in zip(result.entries, (330, 550)):
        on = np.flatnonzero(level(recording[:, 0], hz) >= 0.02)
        heard_end = rec.time_of((on[-1] + 1) * WINDOW)
        print(f"{row.title}: row readable {1000 * (seen[row.title] - heard_end):+.1f} ms after its end was heard; "
              f"as-run end {1000 * (mono(clock, row.actual_end) - heard_end):+.1f} ms from the recording")
        assert seen[row.title] >= heard_end - 0.06  # not before (16384-frame blocks queue up to ~2 s)
        assert seen[row.title] - heard_end < 0.8  # within about a block and a half after
        assert abs(mono(clock, row.actual_end) - heard_end) < 0.06


def test_an_item_whose_end_was_queued_when_the_sound_card_died_is_failed_not_aired(tmp_path, own_server):
    server = own_server  # a private server: this test kills it
    Recorder(server).stop()  # the first stream on a fresh server can take ~2 s to run
    audio = tmp_path / "audio"
    for seed in (1, 2):
        write_wav(audio / f"n{seed}.wav", noise(seed, 3.0))
    write_wav(audio / "long.wav", noise(4, 10.0))
    clock = WallClock(ZONE)
    items = chain([("n1.wav", 3.0), ("n2.wav", 3.0), ("long.wav", 10.0)], t0=clock.now() + timedelta(seconds=4))
    killed = []

    def outage() -> None:  # 0.4 s before n1's end: its last block is queued
        time.sleep((items[0].end - clock.now()).total_seconds() - 0.4)
        killed.append(clock.now())
        server.kill()
        time.sleep(1.0)
        server.restart()

    thread = threading.Thread(target=outage)
    thread.start()
    engine, log = engine_for(tmp_path, clock, retry_delays=(0.2, 0.4))
    result = engine.play_run(items, items[-1].end)
    thread.join()
    n1 = result.entries[0]
    assert (n1.title, n1.status) == ("n1", "failed") and "sound card failed" in n1.reason
    # cut when the engine saw the failure (as the item on air), not at its planned end after the kill
    assert killed[0] < datetime.fromisoformat(n1.actual_end) < items[0].end
    assert not any(e.status == "aired" for e in result.entries if e.title in ("n1", "n2"))
    assert result.entries[-1].title == "long"  # back on air
    assert log.verify().ok
