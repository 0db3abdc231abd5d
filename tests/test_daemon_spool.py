"""The emergency spool with the daemon running (issue 11 items 4-8): `python main.py run` as a real process on a
real PulseAudio null sink; requests written into its spool as play-now (or an attacker) would; the daemon run as
another user with setpriv where ownership matters; SIGTERM sent for real, 20 times."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from broadcaster.playout.breakin import BreakInRequest, BreakInSpool
from tests.support.daemon import (
    NEEDS_PULSEAUDIO,
    ROOT,
    DaemonProcess,
    Recorder,
    log_rows,
    now_in_zone,
    station_dir,
    tone,
)
from tests.support.faults import dead_air, slot_soon

pytestmark = NEEDS_PULSEAUDIO


def emergency(file: Path, reason: str = "bão số 5") -> BreakInRequest:
    return BreakInRequest.new(file, "emergency", reason, False, now_in_zone())


def test_a_malformed_request_in_the_same_tick_does_not_drop_a_genuine_emergency(tmp_path, daemon_pulse):
    env, _ = daemon_pulse
    config, start = station_dir(tmp_path, 600, 16, item_seconds=8)
    siren = tone(tmp_path / "bao-so-5.wav", 1000, 3.0)
    canary = tmp_path / "canary"
    canary.write_text("alive", encoding="utf-8")
    daemon = DaemonProcess(config, env)
    recorder, recorded_from = Recorder(env, tmp_path / "monitor.raw"), now_in_zone()
    assert daemon.wait_for("daemon ready", 60), daemon.text()
    start = slot_soon(config, start, 16, daemon)
    time.sleep(max(0.0, (start - now_in_zone()).total_seconds() + 3.0))
    spool = BreakInSpool(tmp_path / "data")
    bad = {**emergency(siren).__dict__, "requested_at": "not-a-time"}
    (spool.folder / f"{bad['id']}.json").write_text(json.dumps(bad), encoding="utf-8")
    hostile = {**emergency(siren).__dict__, "id": "../../canary"}  # from data/break-in/: tmp_path/canary
    (spool.folder / "0123456789ab.json").write_text(json.dumps(hostile), encoding="utf-8")
    genuine = emergency(siren)
    spool.submit(genuine)  # all three within one tick (a quarter second)
    answer = spool.wait_answer(genuine.id, 60.0)
    assert answer is not None and answer.accepted, daemon.text()
    time.sleep(max(0.0, (start - now_in_zone()).total_seconds() + 16.5))
    assert daemon.stop() == 0, daemon.text()
    samples = recorder.stop()

    silence = dead_air(samples, recorded_from, start, 16)
    print(f"dead air in the slot with a malformed spool request: {silence:.2f} s")
    assert silence == 0.0, daemon.text()
    rows = log_rows(config, start.date())
    (aired,) = [r for r in rows if r["level"] == "emergency"]
    assert aired["status"] == "aired" and aired["reason"].startswith("bão số 5"), rows
    assert sorted(p.name for p in spool.rejected.glob("*.json") if not p.name.endswith(".why.json")) == sorted(
        [f"{bad['id']}.json", "0123456789ab.json"])
    assert "requested_at" in (spool.rejected / f"{bad['id']}.json.why.json").read_text(encoding="utf-8")
    assert "invalid request id" in (spool.rejected / "0123456789ab.json.why.json").read_text(encoding="utf-8")
    assert canary.read_text(encoding="utf-8") == "alive" and not (tmp_path / "canary.json").exists()


def test_a_long_emergency_file_never_stalls_the_loop_and_one_too_long_is_refused(tmp_path, daemon_pulse):
    env, _ = daemon_pulse
    config, start = station_dir(tmp_path, 900, 60)
    config.write_text(config.read_text(encoding="utf-8").replace(
        "audio:\n", "audio:\n  max_break_in_minutes: 30\n"), encoding="utf-8")
    long = tmp_path / "long.flac"  # 25 min: its loudness analysis decodes it all (seconds)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=44100:duration=1500", "-ac", "1", str(long)], check=True)
    too_long = tmp_path / "too-long.flac"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    "anullsrc=r=8000:cl=mono", "-t", "1860", str(too_long)], check=True)
    short = tone(tmp_path / "short.wav", 1000, 1.0)
    daemon = DaemonProcess(config, env)
    assert daemon.wait_for("daemon ready", 60), daemon.text()
    spool = BreakInSpool(tmp_path / "data")
    alive = tmp_path / "data" / "daemon.alive"

    first, second = emergency(long), emergency(short)
    spool.submit(first)
    time.sleep(0.3)
    asked = time.monotonic()
    spool.submit(second)  # while the long file is being analysed
    oldest, answers = 0.0, {}
    while time.monotonic() - asked < 15 and len(answers) < 2:
        oldest = max(oldest, time.time() - alive.stat().st_mtime)
        for request in (first, second):
            if request.id not in answers:
                path = spool.folder / f"{request.id}.answer.json"
                if path.exists():
                    answers[request.id] = (time.monotonic() - asked, json.loads(path.read_text(encoding="utf-8")))
        time.sleep(0.05)
    print(f"daemon.alive at most {oldest:.2f} s old; answers after {[round(a[0], 2) for a in answers.values()]} s"
          f" (load {Path('/proc/loadavg').read_text().split()[0]})")
    assert answers[first.id][1]["accepted"] and answers[second.id][1]["accepted"], answers
    # the short clip was answered while the long one was still being analysed, and the loop ticked on all along
    # (in the loop, the analysis held daemon.alive for its whole length; play-now calls a daemon dead after 5 s)
    assert answers[second.id][0] < answers[first.id][0], answers
    assert oldest < min(2.0, answers[first.id][0] / 2), daemon.text()

    refused = subprocess.run([sys.executable, "main.py", "play-now", "--config", str(config), str(too_long),
                              "--level", "emergency"], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=60)
    assert daemon.stop() == 0, daemon.text()
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "audio.max_break_in_minutes" in refused.stdout and "31 min" in refused.stdout
    assert "31 phút" in refused.stdout


def test_sigterm_during_an_emergency_stops_cleanly_20_times(tmp_path, daemon_pulse):
    """Each stop lands at another moment of the emergency (just taken, opening the device, playing); none may end
    in a native crash, each must end within systemd's stop timeout (10 s in deploy/broadcaster.service), and each
    emergency that began to air gets its row, `partial` with the reason "stopped"."""
    env, _ = daemon_pulse
    config, _ = station_dir(tmp_path, 900, 60)
    siren = tone(tmp_path / "bao-so-5.wav", 1000, 10.0)
    spool = BreakInSpool(tmp_path / "data")
    took, codes, accepted = [], [], 0
    for n in range(20):
        daemon = DaemonProcess(config, env)
        assert daemon.wait_for("daemon ready", 60), daemon.text()
        request = emergency(siren, f"lần {n}")
        spool.submit(request)
        answer = spool.wait_answer(request.id, 60.0)  # (its loudness analysis: slow on a loaded machine)
        assert answer is not None and answer.accepted, daemon.text()
        accepted += 1
        time.sleep(0.2 + 0.1 * (n % 12))  # 0.2 .. 1.3 s after the answer
        asked = time.monotonic()
        daemon.proc.send_signal(signal.SIGTERM)
        try:
            codes.append(daemon.proc.wait(30))
        except subprocess.TimeoutExpired:
            daemon.proc.kill()
            codes.append("timeout")
        took.append(time.monotonic() - asked)
        daemon._file.close()
        assert codes[-1] == 0, f"stop {n}: {codes[-1]} (SIGSEGV -11, SIGILL -4)\n{daemon.text()}"
    print(f"20 stops: exit codes {set(codes)}, stop took {min(took):.2f}-{max(took):.2f} s")
    assert max(took) < 10  # deploy/broadcaster.service: TimeoutStopSec=10

    rows = [r for r in log_rows(config, now_in_zone().date()) if r["level"] == "emergency"]
    assert len(rows) == accepted, rows
    for row in rows:
        assert "sound card failed" not in row["reason"], row
        if row["status"] == "skipped":  # stopped before its first frame was heard
            assert "stopped" in row["reason"] and row["actual_start"] is None, row
        else:
            assert row["status"] == "partial" and "stopped" in row["reason"] and row["actual_start"], row


def _can_run_as(uid: int) -> bool:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return False
    done = subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", sys.executable, "-c",
                           "import broadcaster, apscheduler"], cwd=ROOT, capture_output=True)
    return done.returncode == 0


def as_user(uid: int, gid: int, groups: str | None = None) -> list[str]:
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}",
            f"--groups={groups}" if groups else "--clear-groups"]


def test_the_daemon_owns_the_break_in_folder_and_play_now_says_why_it_cannot_write(daemon_pulse):
    env, _ = daemon_pulse
    service, outsider = 65534, 1  # nobody:nogroup runs the daemon; daemon(1) is not in its group
    if not _can_run_as(service):
        pytest.skip("needs root and setpriv, and this Python readable by other users, to run as another user")
    folder = Path(tempfile.mkdtemp(prefix="broadcaster-owner."))
    try:
        folder.chmod(0o755)
        config, _ = station_dir(folder, 900, 60)
        clip = tone(folder / "bao.wav", 1000, 1.0)
        spool = BreakInSpool(folder / "data")
        spool.folder.mkdir(mode=0o755)  # root ran play-now first: root-owned 0755
        waiting = emergency(clip, "đã chờ")
        (spool.folder / f"{waiting.id}.json").write_text(json.dumps(waiting.__dict__), encoding="utf-8")
        subprocess.run(["chown", "-R", f"{service}:{service}", str(folder)], check=True)
        spool.folder.chmod(0o755)
        os.chown(spool.folder, 0, 0)
        os.chown(spool.folder / f"{waiting.id}.json", 0, 0)

        output = folder / "daemon.log"
        with open(output, "w") as out:  # noqa: SIM115 - the daemon writes it until it stops
            daemon = subprocess.Popen([*as_user(service, service), sys.executable, "main.py", "run", "--config",
                                       str(config), "--poll", "0.5"], cwd=ROOT, env=env, stdout=out,
                                      stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while "daemon ready" not in output.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert "daemon ready" in output.read_text(), output.read_text()
            for sub in (spool.folder, spool.folder / "held", spool.rejected):
                st = sub.stat()
                assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (service, service, 0o2770), \
                    output.read_text()
            assert list(folder.glob("data/break-in.not-ours-*/*.json"))  # the old folder, kept aside
            carried = spool.folder / f"{waiting.id}.answer.json"
            deadline = time.monotonic() + 60  # (its loudness analysis first: slow on a loaded machine)
            while not carried.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert carried.exists(), output.read_text()  # the request that waited in root's folder: answered

            def play_now(*who: str) -> subprocess.CompletedProcess:
                return subprocess.run([*who, sys.executable, "main.py", "play-now", "--config", str(config),
                                       str(clip), "--level", "emergency"], cwd=ROOT, env=env,
                                      capture_output=True, text=True, timeout=60)

            refused = play_now(*as_user(outsider, outsider))
            member = play_now(*as_user(outsider, outsider, str(service)))
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
        out = output.read_text()
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "cannot write the request into the break-in folder" in refused.stderr
        assert "không ghi được yêu cầu" in refused.stderr and "2770" in refused.stderr
        assert str(spool.folder) in refused.stderr and "Traceback" not in refused.stderr
        # a member of the group hands the request over (on a loaded machine the answer may come after play-now's
        # 10 s: it then says the daemon took it)
        taken = (member.returncode == 0 and "Emergency airs now" in member.stdout) \
            or "it took the request" in member.stderr
        assert taken and "cannot write" not in member.stderr, member.stdout + member.stderr + out
    finally:
        shutil.rmtree(folder, ignore_errors=True)
