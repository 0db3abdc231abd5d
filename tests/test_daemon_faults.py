"""The slot airs through faults of the disk and of the as-run log (issue 11 items 1-3): `python main.py run` as a
real process on a real PulseAudio null sink, recorded back; the faults made for real (a tmpfs filled to its last
page, a read-only bind mount, a log file cut mid-page). Each test measures the dead air in the slot."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from broadcaster.asrun.log import AsRunLog
from broadcaster.files import file_sha256
from tests.support.asrun import fill
from tests.support.daemon import (
    NEEDS_PULSEAUDIO,
    ROOT,
    DaemonProcess,
    Recorder,
    log_rows,
    log_verify,
    now_in_zone,
    station_dir,
)
from tests.support.faults import alarms, bind_read_only, dead_air, fill_disk, mount_tmpfs, slot_soon, unmount

pytestmark = NEEDS_PULSEAUDIO

TONES = ["Tone 0 330 Hz", "Tone 1 440 Hz", "Tone 2 550 Hz"]


def state_on(config: Path, state: Path) -> None:
    """The state folder and the as-run log on `state` (the volume under test)."""
    config.write_text(config.read_text(encoding="utf-8") + f"paths:\n  state: {state}\n"
                      f"  asrun_log: {state / 'asrun.sqlite'}\n", encoding="utf-8")


def sleep_until(moment, plus: float = 0.0) -> None:
    time.sleep(max(0.0, (moment - now_in_zone()).total_seconds() + plus))


def show_json(config: Path, day, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "log", "show", "--config", str(config), "--date",
                           day.isoformat(), "--json"], cwd=ROOT, env=env, capture_output=True, text=True)


def test_a_full_disk_keeps_the_slot_on_air_and_loses_no_row(tmp_path, daemon_pulse):
    env, _ = daemon_pulse
    disk = mount_tmpfs(tmp_path / "disk", "4m")
    try:
        config, start = station_dir(tmp_path, 600, 18, item_seconds=6)
        state_on(config, disk)
        daemon = DaemonProcess(config, env)
        recorder, recorded_from = Recorder(env, tmp_path / "monitor.raw"), now_in_zone()
        assert daemon.wait_for("daemon ready", 60), daemon.text()
        filler = fill_disk(disk)  # before the slot: its on-air marker and every row meet a full disk
        start = slot_soon(config, start, 18, daemon)
        sleep_until(start, 8.0)
        during = alarms(disk)
        shown = show_json(config, start.date(), env)
        filler.unlink()  # space comes back two items in
        sleep_until(start, 19.5)
        assert daemon.stop() == 0, daemon.text()
        samples = recorder.stop()
        rows = log_rows(config, start.date())
        verified = log_verify(config)
        after = alarms(disk)
    finally:
        unmount(disk)
    silence = dead_air(samples, recorded_from, start, 18)
    print(f"dead air in the slot under a full disk: {silence:.2f} s")
    assert silence == 0.0, daemon.text()

    alarm = next((a for a in during if a["kind"] == "asrun-unwritable"), None)
    assert alarm is not None, during
    assert alarm["path"] == str(disk / "asrun.sqlite") and "kept in memory" in alarm["message_en"]
    assert alarm["message_vi"] and alarm["since"]
    assert "ALARM asrun-unwritable" in shown.stderr and shown.returncode == 0, shown.stderr + daemon.text()
    assert "ALARM asrun-unwritable" in daemon.text() and "as-run log writable again" in daemon.text()
    # nothing lost: every item's row, written once space came back, the chain whole, the alarm gone
    assert [r["title"] for r in rows] == TONES and {r["status"] for r in rows} <= {"aired", "partial"}, rows
    assert verified.returncode == 0, verified.stdout
    assert after == [], after


def test_an_unwritable_as_run_log_keeps_the_slot_on_air_and_loses_no_row(tmp_path, daemon_pulse):
    env, _ = daemon_pulse
    config, start = station_dir(tmp_path, 600, 18, item_seconds=6)
    log_path = tmp_path / "data" / "asrun.sqlite"
    fill(log_path, rows=3).close()  # last week's rows
    bind_read_only(log_path)  # EROFS for the daemon, root or not
    try:
        daemon = DaemonProcess(config, env)
        recorder, recorded_from = Recorder(env, tmp_path / "monitor.raw"), now_in_zone()
        assert daemon.wait_for("daemon ready", 60), daemon.text()
        start = slot_soon(config, start, 18, daemon)
        sleep_until(start, 8.0)
        during = alarms(tmp_path / "data")
        shown = show_json(config, start.date(), env)
    finally:
        unmount(log_path)  # writable again, two items in
    sleep_until(start, 19.5)
    assert daemon.stop() == 0, daemon.text()
    samples = recorder.stop()
    silence = dead_air(samples, recorded_from, start, 18)
    print(f"dead air in the slot with a read-only as-run log: {silence:.2f} s")
    assert silence == 0.0, daemon.text()

    alarm = next((a for a in during if a["kind"] == "asrun-unwritable"), None)
    assert alarm is not None and "readonly" in alarm["message_en"], during
    assert "ALARM asrun-unwritable" in shown.stderr
    rows = log_rows(config, start.date())
    assert [r["title"] for r in rows] == TONES and {r["status"] for r in rows} <= {"aired", "partial"}, rows
    assert log_verify(config).returncode == 0
    assert "as-run log writable again: every row kept in memory is written" in daemon.text(), daemon.text()


def test_a_damaged_as_run_log_is_set_aside_and_the_slot_airs(tmp_path, daemon_pulse):
    env, _ = daemon_pulse
    config, start = station_dir(tmp_path, 600, 18, item_seconds=6)
    log_path = tmp_path / "data" / "asrun.sqlite"
    fill(log_path, rows=400).close()
    with open(log_path, "r+b") as handle:  # a power cut on an SD card: cut mid-page
        handle.truncate(log_path.stat().st_size // 2 + 1000)
    damaged_sha = file_sha256(log_path)
    daemon = DaemonProcess(config, env)
    recorder, recorded_from = Recorder(env, tmp_path / "monitor.raw"), now_in_zone()
    assert daemon.wait_for("daemon ready", 60), daemon.text()
    start = slot_soon(config, start, 18, daemon)
    sleep_until(start, 18.5)
    assert daemon.stop() == 0, daemon.text()
    samples = recorder.stop()
    silence = dead_air(samples, recorded_from, start, 18)
    print(f"dead air in the slot after a damaged as-run log: {silence:.2f} s")
    assert silence == 0.0, daemon.text()

    (aside,) = (tmp_path / "data").glob("asrun.damaged-*.sqlite")
    assert aside.name.startswith(f"asrun.damaged-{now_in_zone():%Y-%m-%d}T")  # named by date (and time)
    assert file_sha256(aside) == damaged_sha
    with AsRunLog(log_path) as log:
        first = log.first_entry()
    assert first.category == "nhat-ky-dut" and first.file == aside.name and first.sha256 == damaged_sha
    assert aside.name in first.reason and damaged_sha in first.reason
    rows = [r for r in log_rows(config, start.date()) if r["category"] != "nhat-ky-dut"]
    assert [r["title"] for r in rows] == TONES and {r["status"] for r in rows} <= {"aired", "partial"}, rows
    verified = log_verify(config)
    assert verified.returncode == 1 and "BREAK" in verified.stdout and aside.name in verified.stdout
    assert "sha256 matches" in verified.stdout and "OK" not in verified.stdout
    assert any(a["kind"] == "asrun-damaged" for a in alarms(tmp_path / "data"))
    assert "as-run log damaged" in daemon.text()
