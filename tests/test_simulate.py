"""`simulate`: the real engine with a simulated clock writes one WAV per slot run and the as-run log."""

from __future__ import annotations

from datetime import date, timedelta
from math import ceil

import pytest

from broadcaster.asrun.log import AsRunLog
from broadcaster.commands.simulate import simulate_plans
from broadcaster.model import DayPlan, Window
from broadcaster.station.config import load_station
from tests.support.audio import RATE, T0, chain, find, noise, read_wav, write_wav

CONFIG = """station: {commune: Xã Thử, name: Đài xã Thử}
approval: {approvers: [Lê Duyệt]}  # local clips air once an approver adds them (TT 39/2020)
slots:
  - {id: sang, start: "05:30", end: "05:31", playlist: p}
audio: {sample_rate: 44100, channels: 2, fade_seconds: 0.05}
paths: {audio: audio}
"""


def make_station(tmp_path, audio_keys: str = ""):
    (tmp_path / "config.yaml").write_text(CONFIG.replace("fade_seconds: 0.05", "fade_seconds: 0.05" + audio_keys),
                                          encoding="utf-8")
    for seed in (1, 2, 3):
        write_wav(tmp_path / "audio" / f"n{seed}.wav", noise(seed, 2.0))
    return load_station(tmp_path / "config.yaml")


def day_plan() -> DayPlan:
    """A morning slot split by a blackout into two runs: 05:30:00–05:30:05 and 05:30:10–05:30:15."""
    first = Window("sang", "Buổi sáng", T0, T0 + timedelta(seconds=5))
    second = Window("sang", "Buổi sáng", T0 + timedelta(seconds=10), T0 + timedelta(seconds=15))
    blackout = Window("hoc", "Học trực tuyến", first.end, second.start)
    items = chain([("n1.wav", 2.0), ("n2.wav", 2.0), ("n3.wav", 2.0)])  # n3 runs 1 s into the blackout
    items += chain([("n2.wav", 2.0), ("n1.wav", 2.0)], t0=second.start)
    return DayPlan(date=date(2021, 2, 22), timezone="Asia/Ho_Chi_Minh", slots=[first, second], blackouts=[blackout],
                   items=items)


def test_simulate_writes_one_wav_per_run_and_the_as_run_log(tmp_path):
    station = make_station(tmp_path)
    out = tmp_path / "sim"
    stats = simulate_plans(station, [day_plan()], out)
    names = sorted(p.name for p in out.glob("*.wav"))
    assert names == ["2021-02-22_sang_053000.wav", "2021-02-22_sang_053010.wav"]
    first = read_wav(out / names[0])
    assert len(first) <= 5 * RATE  # the late item was faded out before the blackout
    assert find(first, noise(2, 2.0)[RATE // 2:RATE])[0] == 2 * RATE + RATE // 2
    second = read_wav(out / names[1])
    assert len(second) == 4 * RATE
    assert find(second, noise(1, 2.0)[RATE // 2:RATE])[0] == 2 * RATE + RATE // 2
    with AsRunLog(out / "asrun.sqlite") as log:
        rows = log.entries()
        assert log.verify().ok
    assert [(r.title, r.status) for r in rows] == [
        ("n1", "aired"), ("n2", "aired"), ("n3", "partial"), ("n2", "aired"), ("n1", "aired")]
    assert rows[3].actual_start == "2021-02-22T05:30:10.000+07:00"
    assert stats["runs"] == 2 and stats["rows"] == 5


@pytest.mark.parametrize("block_frames", [4096, 16384])
def test_simulate_mixes_in_the_block_size_config_yaml_gives(tmp_path, block_frames):
    station = make_station(tmp_path, f", block_frames: {block_frames}")
    out = tmp_path / "sim"
    stats = simulate_plans(station, [day_plan()], out)
    run_frames = [len(read_wav(path)) for path in sorted(out.glob("*.wav"))]
    assert len(run_frames) == 2
    assert stats["blocks"] == sum(ceil(frames / block_frames) for frames in run_frames)  # only a run's last is short


def test_simulate_without_audio_still_logs_every_item(tmp_path):
    station = make_station(tmp_path)
    out = tmp_path / "sim"
    simulate_plans(station, [day_plan()] * 3, out, audio=False)
    assert not list(out.glob("*.wav"))
    with AsRunLog(out / "asrun.sqlite") as log:
        assert len(log.entries()) == 15 and log.verify().ok


def test_simulate_command_plans_and_plays_a_day_from_the_station_files(tmp_path, capsys):
    from broadcaster.cli import main

    (tmp_path / "config.yaml").write_text(CONFIG.replace("paths: {audio: audio}\n", ""), encoding="utf-8")
    (tmp_path / "playlists").mkdir()
    (tmp_path / "playlists" / "p.yaml").write_text("name: p\nsequence:\n  - category: spot\nfill: spot\n",
                                                   encoding="utf-8")
    files = [write_wav(tmp_path / "in" / f"spot{seed}.wav", noise(seed, 20.0)) for seed in (1, 2, 3)]
    config = str(tmp_path / "config.yaml")
    assert main(["ingest", *map(str, files), "--category", "spot", "--by", "Lê Duyệt", "--config", config]) == 0
    out = tmp_path / "sim"
    assert main(["simulate", "--date", "2021-02-22", "--out", str(out), "--config", config]) == 0
    wavs = list(out.glob("*.wav"))
    assert [w.name for w in wavs] == ["2021-02-22_sang_053000.wav"]
    assert 55 * RATE <= len(read_wav(wavs[0])) <= 60 * RATE  # 3 × 20 s spots rotated into a 60 s slot
    with AsRunLog(out / "asrun.sqlite") as log:
        rows = log.entries()
    assert rows and all(r.status == "aired" and r.category == "spot" for r in rows)
    assert "1 buổi phát / slot runs" in capsys.readouterr().out
