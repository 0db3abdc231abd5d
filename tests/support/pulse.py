"""A real sound server for tests: headless PulseAudio with a null sink, and a recorder of what it played.

The `pulse` fixture (registered in tests/conftest.py) uses the server
named by PULSE_SERVER when it answers (scripts/test.sh starts one), else starts its own with
scripts/pulse-null-sink.sh and stops it afterwards. Nothing here is mocked: audio goes PortAudio → ALSA →
PulseAudio → null sink, and `Recorder` reads the sink's monitor back with `parec`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
RATE = 44100


def _answers(env: dict) -> bool:
    return subprocess.run(["pactl", "info"], env=env, capture_output=True, timeout=10).returncode == 0


@dataclass
class PulseServer:
    env: dict  # PULSE_SERVER etc.
    own: bool
    runtime: str

    def pactl(self, *args: str) -> str:
        return subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True, timeout=10).stdout

    def kill(self) -> None:
        """Stop the server dead (the device vanishes under a playing stream)."""
        pid = Path(self.runtime, "pid").read_text().split()[0]
        os.kill(int(pid), 9)
        for _ in range(50):
            if not _answers(self.env):
                break
            time.sleep(0.05)

    def restart(self) -> None:
        """Start a server again on the same socket (the device comes back)."""
        Path(self.runtime, "pid").unlink(missing_ok=True)
        subprocess.run(_daemon_command(self.runtime), env=self.env, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=30, check=True)
        for _ in range(50):
            if _answers(self.env):
                break
            time.sleep(0.1)
        self.pactl("set-default-sink", "vsink")
        self.pactl("set-default-source", "vsink.monitor")


def _daemon_command(runtime: str) -> list[str]:
    # Same recipe as scripts/pulse-null-sink.sh (see docs/audio-ci.md for why the silent loopback is there).
    return ["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "--disallow-exit", "--disable-shm=yes", "-n",
            f"--log-target=file:{runtime}/pulse.log",
            f"--load=module-native-protocol-unix socket={runtime}/native auth-anonymous=1",
            "--load=module-null-sink sink_name=vsink rate=44100 channels=2",
            "--load=module-null-source source_name=silence rate=44100 channels=2",
            "--load=module-loopback source=silence sink=vsink latency_msec=20"]


def start_server() -> PulseServer:
    """A private server (scripts/pulse-null-sink.sh); stop it with `.kill()` and remove `.runtime`."""
    out = subprocess.run(["bash", str(ROOT / "scripts" / "pulse-null-sink.sh")], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    env = dict(os.environ)
    for part in out.replace("export ", "").split():
        key, _, value = part.partition("=")
        env[key] = value
    return PulseServer(env, True, env["PULSE_RUNTIME_PATH"])


def stop_server(server: PulseServer) -> None:
    try:
        server.kill()
    except (OSError, ValueError):
        pass
    shutil.rmtree(server.runtime, ignore_errors=True)


def server_or_skip() -> PulseServer:
    """A private server (`start_server`), or the test is skipped saying why: without its sound server a live
    sound test can prove nothing, and an error would say the code is broken."""
    if not shutil.which("pulseaudio") or not shutil.which("parec"):
        pytest.skip("pulseaudio / pulseaudio-utils not installed (scripts/setup.sh installs them)")
    try:
        server = start_server()
    except (OSError, subprocess.SubprocessError, KeyError) as err:
        pytest.skip(f"no PulseAudio server could be started here ({err}); run scripts/pulse-null-sink.sh to see why")
    if not _answers(server.env):
        stop_server(server)
        pytest.skip("the PulseAudio server started for this test does not answer `pactl info`")
    return server


@pytest.fixture(scope="session")
def pulse():
    env = dict(os.environ)
    if env.get("PULSE_SERVER") and shutil.which("pactl") and _answers(env):
        server = PulseServer(env, False, env.get("PULSE_RUNTIME_PATH", ""))
    else:
        server = server_or_skip()
    saved = {k: os.environ.get(k) for k in ("PULSE_SERVER", "PULSE_RUNTIME_PATH", "PULSE_STATE_PATH")}
    os.environ.update({k: server.env[k] for k in saved if k in server.env})  # PortAudio/ALSA read these
    yield server
    if server.own:
        stop_server(server)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def own_server(monkeypatch):
    """A private server for a test that kills it; PortAudio in this process is pointed at it."""
    server = server_or_skip()
    for key in ("PULSE_SERVER", "PULSE_RUNTIME_PATH", "PULSE_STATE_PATH"):
        monkeypatch.setenv(key, server.env[key])
    yield server
    stop_server(server)


class Recorder:
    """Records the null sink's monitor with parec. Each chunk's arrival is timed on time.monotonic(), so
    frame k of the recording was played at about `t0 + k / RATE` where t0 is the earliest (least delayed)
    estimate over all chunks: an independent clock for start-time checks.

    The null sink does not play at exactly RATE by time.monotonic() (about 190 ppm fast here: 0.19 ms per
    second). Over a long recording that matters, and a single earliest t0 is then the one from the end of
    the recording: `time_of(k)` fits a line to the least delayed arrivals instead (per 1 s window), once the
    recording is long enough (`rate_span` s) to see the rate."""

    rate_span = 20.0

    def __init__(self, server: PulseServer, channels: int = 2):
        self.channels = channels
        self._proc = subprocess.Popen(
            ["parec", "-d", "vsink.monitor", "--format=float32le", f"--rate={RATE}", f"--channels={channels}",
             "--latency-msec=5", "--raw"], env=server.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._chunks: list[bytes] = []
        self._arrivals: list[tuple[float, int]] = []  # (monotonic time, frames received by then)
        self._fit: tuple[float, float] | None = None  # (time of frame 0, seconds per frame)
        self._t0 = float("inf")
        self._frames = 0
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 5
        while self._frames < RATE // 10 and time.monotonic() < deadline:  # monitor is delivering
            time.sleep(0.01)

    def _read(self) -> None:
        fd = self._proc.stdout.fileno()
        frame_bytes = 4 * self.channels
        pending = b""
        while True:
            data = os.read(fd, 1 << 14)
            now = time.monotonic()
            if not data:
                return
            pending += data
            whole = len(pending) // frame_bytes * frame_bytes
            self._chunks.append(pending[:whole])
            pending = pending[whole:]
            self._frames += whole // frame_bytes
            self._t0 = min(self._t0, now - self._frames / RATE)
            self._arrivals.append((now, self._frames))

    def stop(self) -> tuple[np.ndarray, float]:
        """The recording (frames × channels) and the monotonic time of its frame 0."""
        self._proc.terminate()
        self._proc.wait(5)
        self._thread.join(5)
        audio = np.frombuffer(b"".join(self._chunks), "<f4").reshape(-1, self.channels)
        self._fit = (self._t0, 1.0 / RATE)
        if self._frames >= self.rate_span * RATE:
            arr = np.array(self._arrivals, np.float64)
            delay = arr[:, 0] - arr[:, 1] / RATE
            window = (arr[:, 1] // RATE).astype(np.int64)
            frames, least = [], []
            for w in np.unique(window):
                k = np.flatnonzero(window == w)
                j = k[np.argmin(delay[k])]
                frames.append(arr[j, 1])
                least.append(delay[j])
            slope, intercept = np.polyfit(np.array(frames), np.array(least), 1)
            # a line through the least delayed points: shift it down to the lower envelope
            intercept += min(0.0, float(np.min(np.array(least) - (slope * np.array(frames) + intercept))))
            self._fit = (float(intercept), 1.0 / RATE + float(slope))
        return audio, self._t0

    def time_of(self, frame: float) -> float:
        """time.monotonic() at which recording frame `frame` was played (after stop())."""
        t0, per_frame = self._fit
        return t0 + frame * per_frame

    def frame_at(self, mono: float) -> float:
        """Recording frame played at monotonic time `mono` (after stop())."""
        t0, per_frame = self._fit
        return (mono - t0) / per_frame
