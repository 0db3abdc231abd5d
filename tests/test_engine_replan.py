"""A re-plan reaching the run on air (Engine.replace_upcoming): simulated clock, WAV sink, checked by sample."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from tests.support.audio import RATE, T0, chain, find, noise, planned, tone, write_wav
from tests.support.engine import play_to_wav


@pytest.fixture
def audio(tmp_path):
    d = tmp_path / "audio"
    for seed in (1, 2, 3, 4):
        write_wav(d / f"n{seed}.wav", noise(seed, 3.0))
    write_wav(d / "t440.wav", tone(440, 2.0))
    return d


def replan_at(seconds: float, items, hard_stop):
    done = []

    def trigger(frames, engine):
        if frames >= seconds * RATE and not done:
            done.append(engine.replace_upcoming(items, hard_stop))
    return trigger, done


def test_the_rest_of_the_run_on_air_follows_the_new_plan_sample_exact(tmp_path, audio):
    old = chain([("n1.wav", 3.0), ("n2.wav", 3.0), ("n3.wav", 3.0)])
    new = chain([("n1.wav", 3.0), ("n4.wav", 3.0), ("n3.wav", 3.0)])  # the operator swapped the 2nd item
    stop = T0 + timedelta(seconds=10)
    trigger, done = replan_at(1.0, new, stop)
    out, result, log = play_to_wav(tmp_path, audio, old, stop, on_write=trigger)
    assert done == [True]
    assert find(out, noise(1, 3.0)[RATE:2 * RATE]) == (RATE, pytest.approx(1.0, abs=1e-3))  # n1 not cut
    lag, height = find(out, noise(4, 3.0)[RATE:2 * RATE])
    assert lag == 4 * RATE and height > 0.999  # the new item, on its planned sample
    assert find(out, noise(3, 3.0)[RATE:2 * RATE])[0] == 7 * RATE
    assert find(out, noise(2, 3.0)[RATE:2 * RATE])[1] < 0.1  # the replaced item never aired
    assert [(e.title, e.status) for e in result.entries] == [("n1", "aired"), ("n4", "aired"), ("n3", "aired")]
    assert log.verify().ok


def test_a_new_item_due_while_the_old_one_plays_joins_at_its_end_at_the_right_offset(tmp_path, audio):
    old = chain([("n1.wav", 3.0), ("n2.wav", 3.0)])
    new = [planned("n4.wav", 1.5, 3.0), planned("n3.wav", 4.5, 3.0)]  # new plan moved everything earlier
    stop = T0 + timedelta(seconds=8)
    trigger, _ = replan_at(1.0, new, stop)
    out, result, _ = play_to_wav(tmp_path, audio, old, stop, on_write=trigger)
    assert find(out, noise(1, 3.0)[2 * RATE:3 * RATE - 2205])[0] == 2 * RATE  # n1 played to its end
    # n4 from 1.5 s into its file at 3.0 s: anchored to the plan, not shifted
    assert find(out, noise(4, 3.0)[2 * RATE:round(2.9 * RATE)])[0] == round(3.5 * RATE)
    assert find(out, noise(3, 3.0)[RATE:2 * RATE])[0] == round(5.5 * RATE)
    rows = [(e.title, e.status) for e in result.entries]
    assert rows == [("n1", "aired"), ("n4", "partial"), ("n3", "aired")]
    assert "joined after a re-plan" in result.entries[1].reason


def test_a_crossfade_already_begun_is_on_air_and_the_new_plan_keeps_its_crossfade(tmp_path, audio):
    old = chain([("n1.wav", 3.0), ("n2.wav", 3.0), ("n3.wav", 3.0)], xf=1.0)  # n2 2–5, n3 4–7
    new = chain([("n1.wav", 3.0), ("n2.wav", 3.0), ("n4.wav", 3.0)], xf=1.0)
    stop = T0 + timedelta(seconds=8)
    trigger, _ = replan_at(2.5, new, stop)  # n2's crossfade-in has begun: n2 is on air, n3 is not
    out, result, _ = play_to_wav(tmp_path, audio, old, stop, on_write=trigger)
    assert [e.title for e in result.entries] == ["n1", "n2", "n4"]
    assert all(e.status == "aired" for e in result.entries)
    # n4 crossfades in at 4.0 s exactly as planned: equal power in the middle of the crossfade
    assert find(out, noise(4, 3.0)[RATE:2 * RATE])[0] == 5 * RATE
    rms = lambda a, b: float(np.sqrt(np.mean(out[round(a * RATE):round(b * RATE)] ** 2)))  # noqa: E731
    assert rms(4.45, 4.55) == pytest.approx(rms(5.5, 6.5), rel=0.05)


def test_a_waiting_priority_clip_keeps_its_place_after_a_re_plan(tmp_path, audio):
    write_wav(audio / "pri.wav", noise(9, 1.0))
    old = chain([("n1.wav", 3.0), ("n2.wav", 3.0), ("n3.wav", 3.0)])
    new = chain([("n1.wav", 3.0), ("n4.wav", 3.0), ("n3.wav", 3.0)])
    stop = T0 + timedelta(seconds=10.5)
    fired = []

    def trigger(frames, engine):
        if frames >= RATE // 2 and not fired:
            fired.append(engine.break_in(audio / "pri.wav", "priority", "họp"))
        if frames >= RATE and len(fired) == 1:
            fired.append(engine.replace_upcoming(new, stop))

    out, result, _ = play_to_wav(tmp_path, audio, old, stop, on_write=trigger)
    assert find(out, noise(9, 1.0)[: RATE // 2])[0] == 3 * RATE
    assert find(out, noise(4, 3.0)[RATE:2 * RATE])[0] == 5 * RATE  # the new item, after the clip
    assert [e.title for e in result.entries] == ["n1", "pri", "n4", "n3"]
    assert fired[0].wait(0) == result.entries[1]


def test_replace_upcoming_without_a_run_says_so(tmp_path, audio):
    from broadcaster.asrun.log import AsRunLog
    from broadcaster.playout.clock import SimClock
    from broadcaster.playout.engine import Engine
    from broadcaster.sound.sinks import NullSink
    from tests.support.audio import ZONE
    from tests.support.engine import SETTINGS

    engine = Engine(audio, SETTINGS, lambda d, frames: NullSink(), SimClock(ZONE, T0), AsRunLog(tmp_path / "a.sqlite"),
                    ZONE)
    assert engine.replace_upcoming(chain([("n1.wav", 3.0)]), T0 + timedelta(seconds=5)) is False


def test_a_run_whose_slot_left_the_plan_ends_after_the_item_on_air(tmp_path, audio):
    old = chain([("n1.wav", 3.0), ("n2.wav", 3.0), ("n3.wav", 3.0)])
    stop = T0 + timedelta(seconds=10)
    trigger, _ = replan_at(1.0, [], stop)
    out, result, _ = play_to_wav(tmp_path, audio, old, stop, on_write=trigger)
    assert [(e.title, e.status) for e in result.entries] == [("n1", "aired")]
    assert len(out) == 3 * RATE  # nothing after it, not even silence to the old slot end


def test_a_blackout_added_to_the_run_on_air_moves_its_hard_stop(tmp_path, audio):
    old = chain([("n1.wav", 3.0), ("n2.wav", 3.0), ("n3.wav", 3.0)])
    new_stop = T0 + timedelta(seconds=4.5)  # the new plan cut the slot at a new blackout
    trigger, _ = replan_at(1.0, old[:2], new_stop)
    out, result, _ = play_to_wav(tmp_path, audio, old, T0 + timedelta(seconds=10), on_write=trigger)
    assert len(out) <= round(4.5 * RATE) and np.abs(out[round(4.49 * RATE):]).max() < 0.01
    assert [(e.title, e.status) for e in result.entries] == [("n1", "aired"), ("n2", "partial")]
    assert "hard stop" in result.entries[1].reason


def test_a_re_plan_reaches_the_run_it_names_while_the_next_run_waits_for_the_device(tmp_path, audio):
    """The daemon may start the next run (a moved slot) while the last one plays out its item: each re-plan
    goes to the run whose key it names, and a waiting run does not swallow the one on air's."""
    import threading
    import time

    from broadcaster.asrun.log import AsRunLog
    from broadcaster.playout.clock import SimClock
    from broadcaster.playout.engine import Engine
    from broadcaster.sound.sinks import WavFileSink
    from tests.support.audio import ZONE, read_wav
    from tests.support.engine import SETTINGS

    run_a = chain([("n1.wav", 3.0), ("n2.wav", 3.0)])
    run_b = chain([("n3.wav", 3.0)], t0=T0 + timedelta(seconds=6))
    outputs, later = [], {}

    class Sink(WavFileSink):
        def __init__(self):
            super().__init__(tmp_path / f"out-{len(outputs)}.wav", RATE, 2)
            outputs.append(self.path)

        def write(self, block):
            super().write(block)
            if self.path.name == "out-0.wav" and self.frames_written >= RATE and not later:
                later["b"] = threading.Thread(target=lambda: later.update(
                    result=engine.play_run(run_b, run_b[0].start + timedelta(seconds=3.5), key="b")))
                later["b"].start()
                time.sleep(0.2)  # B is now in play_run, waiting for the run lock
                later["a"] = engine.replace_upcoming([run_a[0], planned("n4.wav", 3.0, 3.0)],
                                                     T0 + timedelta(seconds=6), key="a")
                later["b?"] = engine.replace_upcoming([planned("n1.wav", 6.0, 3.0)],
                                                      T0 + timedelta(seconds=9.5), key="b")

    log = AsRunLog(tmp_path / "asrun.sqlite")
    engine = Engine(audio, replace(SETTINGS, block_frames=4096), lambda d, frames: Sink(),
                    SimClock(ZONE, T0 - timedelta(seconds=5)), log, ZONE)
    result_a = engine.play_run(run_a, T0 + timedelta(seconds=6), key="a")
    later["b"].join(10)
    assert later["a"] is True and later["b?"] is True
    assert [e.title for e in result_a.entries] == ["n1", "n4"]
    assert [e.title for e in later["result"].entries] == ["n1"]  # B's own re-plan, applied when it began
    assert find(read_wav(outputs[0]), noise(4, 3.0)[RATE:2 * RATE])[0] == 4 * RATE
    assert engine.replace_upcoming([], T0, key="a") is False  # both over


@pytest.mark.parametrize("swap", [True, False])
def test_a_re_plan_during_an_emergency_keeps_the_rest_of_the_item_it_cut(tmp_path, audio, swap):
    """The rest of the item an emergency cut is on air (it resumes after the emergency); a re-plan arriving
    meanwhile replaces only what has not started: the operator's new item 1, or a slot gone from the plan."""
    write_wav(audio / "em.wav", noise(8, 1.0))
    old = chain([("n1.wav", 3.0), ("n2.wav", 3.0), ("n3.wav", 3.0)])
    new = chain([("n4.wav", 3.0), ("n2.wav", 3.0), ("n3.wav", 3.0)]) if swap else []
    stop = T0 + timedelta(seconds=10)
    fired = []

    def trigger(frames, engine):
        if frames >= RATE // 2 and not fired:
            fired.append(engine.break_in(audio / "em.wav", "emergency", "cháy chợ"))
        if frames >= RATE and len(fired) == 1:  # the emergency is on air, n1's rest waits for its end
            fired.append(engine.replace_upcoming(new, stop))

    out, result, log = play_to_wav(tmp_path, audio, old, stop, on_write=trigger)
    assert fired[1] is True
    lag, height = find(out, noise(1, 3.0)[2 * RATE:round(2.9 * RATE)])
    assert lag == 2 * RATE and height > 0.999  # n1's rest, on the clock, after the emergency
    assert find(out, noise(4, 3.0)[2 * RATE:round(2.9 * RATE)])[1] < 0.1  # the new item 1 never aired
    rows = [(e.title, e.status) for e in result.entries]
    assert rows == [("n1", "partial"), ("em", "aired"), ("n1", "partial")] + (
        [("n2", "aired"), ("n3", "aired")] if swap else [])
    assert "resumed after emergency: cháy chợ" in result.entries[2].reason
    assert log.verify().ok
