"""The engine with a simulated clock and a WAV sink: real files, real ffmpeg, real SQLite, checked sample by sample."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from broadcaster.asrun.log import AsRunLog
from broadcaster.model import DayPlan, Window
from broadcaster.planning.cache import PlanCache, plan_to_json
from broadcaster.playout.clock import SimClock
from broadcaster.playout.engine import BreakInRefused, Engine
from broadcaster.sound.sinks import NullSink, WavFileSink
from tests.support.audio import (
    RATE,
    T0,
    ZONE,
    chain,
    find,
    longest_quiet,
    noise,
    planned,
    read_wav,
    tone,
    write_mp3,
    write_wav,
)
from tests.support.engine import SETTINGS, play_to_wav


@pytest.fixture
def audio(tmp_path):
    d = tmp_path / "audio"
    write_wav(d / "n1.wav", noise(1, 3.0))
    write_wav(d / "n2.wav", noise(2, 3.0))
    write_wav(d / "n3.wav", noise(3, 3.0))
    write_wav(d / "t440.wav", tone(440, 2.0))
    return d


def test_consecutive_items_land_on_their_planned_sample_with_no_gap(tmp_path, audio):
    items = chain([("n1.wav", 3.0), ("n2.wav", 3.0), ("n3.wav", 3.0)])
    out, result, _ = play_to_wav(tmp_path, audio, items, T0 + timedelta(seconds=10))
    assert len(out) == 9 * RATE
    for seed, planned_frame in ((1, 0), (2, 3 * RATE), (3, 6 * RATE)):
        middle = noise(seed, 3.0)[RATE:2 * RATE]
        lag, height = find(out, middle)
        assert lag == planned_frame + RATE  # sample-exact
        assert height > 0.999
    # the only dips are the 50 ms anti-click fades meeting at each join: under -30 dB for less than 15 ms
    assert longest_quiet(out[: 9 * RATE - 2205], 0.01) < 0.015
    assert [e.status for e in result.entries] == ["aired"] * 3
    assert [e.actual_start[11:23] for e in result.entries] == ["05:30:00.000", "05:30:03.000", "05:30:06.000"]


def gain_at(out, source, start: float, seconds: float) -> float:
    """The gain the mix applied to `source` (placed at frame 0 of `out`) over a window starting `start` s in."""
    a, b = round(start * RATE), round((start + seconds) * RATE)
    return float(np.sum(out[a:b] * source[a:b]) / np.sum(source[a:b] ** 2))


@pytest.mark.parametrize("cached_fade, config_fade", [(1.0, 0.05), (0.0, 0.5)])
def test_a_cached_plan_fades_as_config_yaml_says_now(tmp_path, audio, cached_fade, config_fade):
    """A plan cached before audio.fade_seconds changed (older caches carried each item's fade) plays with the
    fade the station's settings give at play time."""
    items = chain([("n1.wav", 3.0), ("n2.wav", 3.0)])
    data = plan_to_json(DayPlan(date=T0.date(), timezone=str(ZONE), slots=[], blackouts=[], items=items))
    for item in data["items"]:
        item["fade_in"] = item["fade_out"] = cached_fade
    cache = PlanCache(tmp_path / "state")
    cache.path(T0.date()).parent.mkdir(parents=True)
    cache.path(T0.date()).write_text(json.dumps(data), encoding="utf-8")
    cached = cache.load(T0.date())
    out, result, _ = play_to_wav(tmp_path, audio, cached.items, T0 + timedelta(seconds=7),
                                 settings=replace(SETTINGS, fade_seconds=config_fade))
    source = noise(1, 3.0)
    assert gain_at(out, source, config_fade / 2 - 0.002, 0.004) == pytest.approx(0.5, abs=0.05)  # half-way in
    assert gain_at(out, source, config_fade + 0.001, 0.2) == pytest.approx(1.0, abs=0.01)  # and no longer
    assert [e.status for e in result.entries] == ["aired", "aired"]


def test_join_between_two_tones_has_no_click(tmp_path, audio):
    write_wav(audio / "t440b.wav", tone(440, 2.0)[::-1].copy())  # starts where a sine ends: worst case is abrupt
    items = chain([("t440.wav", 2.0), ("t440b.wav", 2.0)])
    out, _, _ = play_to_wav(tmp_path, audio, items, T0 + timedelta(seconds=5))
    max_step = 2 * np.pi * 440 / RATE * 0.3  # steepest slope of the tone itself
    assert np.abs(np.diff(out[:, 0])).max() <= max_step * 1.05 + 2 / 32767


def test_crossfade_is_equal_power_and_gain_is_applied(tmp_path, audio):
    items = chain([("n1.wav", 3.0), ("n2.wav", 3.0)], xf=1.0)
    items[1] = planned("n2.wav", 2.0, 3.0, xf=1.0, gain_db=-6.0)
    out, _, _ = play_to_wav(tmp_path, audio, items, T0 + timedelta(seconds=10))
    assert len(out) == 5 * RATE
    rms = lambda a, b: float(np.sqrt(np.mean(out[round(a * RATE):round(b * RATE)] ** 2)))  # noqa: E731
    full = rms(0.5, 1.5)
    assert rms(3.5, 4.5) == pytest.approx(full * 10 ** (-6 / 20), rel=0.03)
    # middle of the crossfade: sin²+cos² power of uncorrelated noise, with the -6 dB item: (1 + 0.25)/2
    assert rms(2.45, 2.55) == pytest.approx(full * np.sqrt((1 + 0.25) / 2), rel=0.05)


def test_a_late_slot_is_faded_out_before_the_blackout(tmp_path, audio):
    items = chain([("n1.wav", 3.0), ("n2.wav", 3.0), ("n3.wav", 3.0)])
    hard_stop = T0 + timedelta(seconds=4.5)  # blackout starts in the middle of n2; n3 cannot air
    out, result, log = play_to_wav(tmp_path, audio, items, hard_stop,
                           blackouts=[Window("hoc", "học trực tuyến", hard_stop, hard_stop + timedelta(hours=1))])
    assert len(out) <= round(4.5 * RATE)  # nothing after the hard stop
    assert np.abs(out[round(4.49 * RATE):]).max() < 0.01  # and already (almost) silent just before it
    assert np.sqrt(np.mean(out[round(3.2 * RATE):round(3.4 * RATE)] ** 2)) > 0.15  # n2 was on air before
    assert [e.status for e in result.entries] == ["aired", "partial", "skipped"]
    assert "hard stop" in result.entries[1].reason and "hard stop" in result.entries[2].reason
    assert log.verify().ok


def test_restart_resumes_the_item_on_air_at_the_right_offset(tmp_path, audio):
    items = chain([("n1.wav", 3.0), ("n2.wav", 3.0), ("n3.wav", 3.0)])
    restart = T0 + timedelta(seconds=4.0)
    out, result, _ = play_to_wav(tmp_path, audio, items, T0 + timedelta(seconds=10), start=restart, resume_at=restart)
    lag, _ = find(out, noise(2, 3.0)[round(1.5 * RATE):round(2 * RATE)])
    assert lag == round(0.5 * RATE)  # n2 heard from 1.0 s in (restart), so its 1.5 s is 0.5 s into the file
    assert [(e.title, e.status) for e in result.entries] == [("n2", "partial"), ("n3", "aired")]
    assert "resumed after restart" in result.entries[0].reason
    assert result.entries[0].actual_start.endswith("05:30:04.000+07:00")


def test_missing_file_is_logged_failed_and_the_slot_goes_on(tmp_path, audio):
    items = chain([("n1.wav", 3.0), ("gone.mp3", 3.0), ("n3.wav", 3.0)])
    out, result, _ = play_to_wav(tmp_path, audio, items, T0 + timedelta(seconds=10))
    assert [e.status for e in result.entries] == ["aired", "failed", "aired"]
    assert "not found" in result.entries[1].reason
    assert find(out, noise(3, 3.0)[RATE:2 * RATE])[0] == 7 * RATE


def test_speech_over_a_ducked_bed(tmp_path, audio):
    write_wav(audio / "bed.wav", tone(220, 1.0, level=0.5))  # shorter than the speech: it loops
    item = planned("n1.wav", 0, 3.0, bed_file="bed.wav", duck_db=-20.0)
    out, _, _ = play_to_wav(tmp_path, audio, [item], T0 + timedelta(seconds=5))
    speech = noise(1, 3.0)
    bed_part = out[round(1.5 * RATE):round(2.5 * RATE)] - speech[round(1.5 * RATE):round(2.5 * RATE)]
    assert np.abs(bed_part).max() == pytest.approx(0.5 * 10 ** (-20 / 20), rel=0.05)


def test_mp3_items_decode_in_place(tmp_path, audio):
    write_mp3(audio / "n1.mp3", noise(1, 3.0))
    out, result, _ = play_to_wav(tmp_path, audio, [planned("n1.mp3", 0, 3.0)], T0 + timedelta(seconds=5))
    lag, height = find(out, noise(1, 3.0)[RATE:2 * RATE])
    assert abs(lag - RATE) <= 2 and height > 0.6  # lossy (no highs), but on time to a sample or two
    assert result.entries[0].status == "aired"


def test_priority_break_in_airs_at_the_next_boundary_and_moves_the_rest(tmp_path, audio):
    write_wav(audio / "pri.wav", noise(9, 1.0))
    items = chain([("n1.wav", 3.0), ("n2.wav", 3.0), ("n3.wav", 3.0)])
    tickets = []

    def trigger(frames, engine):
        if frames >= RATE and not tickets:  # 1 s into n1
            tickets.append(engine.break_in(audio / "pri.wav", "priority", "họp khẩn"))

    out, result, _ = play_to_wav(tmp_path, audio, items, T0 + timedelta(seconds=9.5), on_write=trigger)
    assert find(out, noise(9, 1.0)[: RATE // 2])[0] == 3 * RATE  # at the n1/n2 boundary
    assert find(out, noise(2, 3.0)[RATE:2 * RATE])[0] == 5 * RATE  # n2 moved 1 s later
    assert [(e.title, e.status) for e in result.entries] == [
        ("n1", "aired"), ("pri", "aired"), ("n2", "partial"), ("n3", "partial")]
    assert result.entries[1].level == "priority" and result.entries[1].reason == "họp khẩn"
    assert result.entries[1].planned_start is None
    assert tickets[0].wait(0) == result.entries[1]


def test_emergency_interrupts_now_then_the_plan_goes_on_by_the_clock(tmp_path, audio):
    write_wav(audio / "em.wav", noise(8, 2.0))
    items = chain([("n1.wav", 3.0), ("n2.wav", 3.0), ("n3.wav", 3.0)])
    fired = []

    def trigger(frames, engine):
        if frames >= RATE and not fired:
            fired.append(engine.break_in(audio / "em.wav", "emergency", "cháy chợ"))

    out, result, _ = play_to_wav(tmp_path, audio, items, T0 + timedelta(seconds=10), on_write=trigger)
    lag, _ = find(out, noise(8, 2.0)[: RATE // 2])
    assert RATE < lag < 2 * RATE  # within a block + the short fade of the request
    assert find(out, noise(3, 3.0)[RATE:2 * RATE])[0] == 7 * RATE  # later items keep their clock times
    statuses = {(e.title, e.status) for e in result.entries}
    assert ("n1", "partial") in statuses and ("em", "aired") in statuses and ("n3", "aired") in statuses


def test_the_rest_of_a_priority_clip_cut_by_an_emergency_is_still_the_break_in(tmp_path, audio):
    write_wav(audio / "pri.wav", noise(9, 3.0))
    write_wav(audio / "em.wav", noise(8, 0.5))
    items = chain([("n1.wav", 3.0), ("n2.wav", 3.0)])
    fired = []

    def trigger(frames, engine):
        if frames >= RATE and not fired:  # 1 s into n1: the clip airs at 3 s
            fired.append(engine.break_in(audio / "pri.wav", "priority", "họp khẩn"))
        if frames >= 3.5 * RATE and len(fired) == 1:  # 0.5 s into the clip
            fired.append(engine.break_in(audio / "em.wav", "emergency", "cháy chợ"))

    _, result, log = play_to_wav(tmp_path, audio, items, T0 + timedelta(seconds=12), on_write=trigger)
    rows = [e for e in result.entries if e.title == "pri"]
    assert [e.status for e in rows] == ["partial", "partial"]
    cut, rest = rows
    assert "interrupted by emergency" in cut.reason and "resumed after emergency" in rest.reason
    for row in rows:  # before, the rest was logged as a plan item: planned at the request, no reason, no level
        assert row.planned_start is None and row.level == "priority" and "họp khẩn" in row.reason
    assert log.verify().ok


def test_emergency_in_a_blackout_needs_confirm(tmp_path, audio):
    write_wav(audio / "em.wav", noise(8, 0.5))
    log = AsRunLog(tmp_path / "asrun.sqlite")
    clock = SimClock(ZONE, T0)
    blackout = Window("hoc", "Học trực tuyến", T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    out = tmp_path / "em.wav"
    engine = Engine(audio, SETTINGS, lambda d, frames: WavFileSink(out, RATE, 2), clock, log, ZONE,
                    blackouts=[blackout])
    with pytest.raises(BreakInRefused) as err:
        engine.break_in(audio / "em.wav", "emergency", "test")
    assert "--confirm" in str(err.value)
    with pytest.raises(BreakInRefused):
        engine.break_in(audio / "em.wav", "priority", "test", confirm=True)
    entry = engine.break_in(audio / "em.wav", "emergency", "lũ quét", confirm=True).wait(10)
    assert entry is not None and entry.status == "aired" and entry.level == "emergency"
    assert len(read_wav(out)) == pytest.approx(0.5 * RATE, abs=2)


def test_null_sink_mixes_a_long_run_without_growing(tmp_path, audio):
    items = chain([(f"n{1 + i % 3}.wav", 3.0) for i in range(40)], xf=0.5)
    log = AsRunLog(tmp_path / "asrun.sqlite")
    engine = Engine(audio, SETTINGS, lambda d, frames: NullSink(), SimClock(ZONE, T0), log, ZONE)
    result = engine.play_run(items, T0 + timedelta(hours=1))
    assert len(result.entries) == 40 and all(e.status == "aired" for e in result.entries)
    assert result.frames == round((40 * 2.5 + 0.5) * RATE)


def test_an_emergency_is_not_cut_by_the_slot_end(tmp_path, audio):
    write_wav(audio / "em.wav", noise(8, 2.0))
    items = chain([("n1.wav", 3.0)])
    fired = []

    def trigger(frames, engine):
        if frames >= 2 * RATE and not fired:
            fired.append(engine.break_in(audio / "em.wav", "emergency", "đê vỡ"))

    out, result, _ = play_to_wav(tmp_path, audio, items, T0 + timedelta(seconds=3.0), on_write=trigger)
    lag, height = find(out, noise(8, 2.0)[round(1.2 * RATE):round(1.9 * RATE)])  # after the slot end
    assert height > 0.999 and lag > 3 * RATE
    em = next(e for e in result.entries if e.level == "emergency")
    assert em.status == "aired" and em.reason == "đê vỡ"


def test_stop_while_waiting_for_a_run_returns_at_once(tmp_path, audio):
    import threading
    import time

    from broadcaster.playout.clock import WallClock

    clock = WallClock(ZONE)
    items = chain([("n1.wav", 3.0)], t0=clock.now() + timedelta(hours=1))
    engine = Engine(audio, SETTINGS, lambda d, frames: NullSink(), clock, AsRunLog(tmp_path / "a.sqlite"), ZONE)
    threading.Timer(0.3, engine.stop).start()
    began = time.monotonic()
    result = engine.play_run(items, items[-1].end)
    assert time.monotonic() - began < 2 and not result.entries


def test_a_stop_that_lands_just_before_a_run_starts_is_not_lost(tmp_path, audio):
    """The daemon's shutdown can call stop() between its last check and play_run: the run must not play on."""
    items = chain([("n1.wav", 3.0), ("n2.wav", 3.0)])
    log = AsRunLog(tmp_path / "asrun.sqlite")
    engine = Engine(audio, SETTINGS, lambda device, frames: WavFileSink(tmp_path / "out.wav", RATE, 2),
                    SimClock(ZONE, items[0].start - timedelta(seconds=5)), log, ZONE)
    engine.stop()
    result = engine.play_run(items, T0 + timedelta(seconds=10))
    assert not [e for e in result.entries if e.status in ("aired", "partial")]
    # the stop was used up by that run: the next one plays
    result = engine.play_run(items, T0 + timedelta(seconds=10))
    assert [e.status for e in result.entries] == ["aired", "aired"]
