"""Hand-made day plans and small station configs for the daemon tests; `warm_pulse` is a fixture (tests/conftest.py)."""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcaster.model import DayPlan, PlannedItem, Window

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2021, 3, 1)


def at(hms: str, day: date = DAY) -> datetime:
    h, m, s = (int(x) for x in hms.split(":"))
    return datetime(day.year, day.month, day.day, h, m, s, tzinfo=ZONE)


def item(start: datetime, seconds: float, title: str, slot: str = "sang", level: str = "normal") -> PlannedItem:
    return PlannedItem(start=start, end=start + timedelta(seconds=seconds), slot=slot, category="tin-tuc",
                       title=title, file=f"tin-tuc/{title}.wav", sha256=title * 2, gain_db=0.0, duration=seconds,
                       level=level)


def plan(day: date = DAY) -> DayPlan:
    """Morning slot 05:30–06:00 (three 10-minute items), a blackout 07:30–11:30, noon slot 11:30–11:45."""
    morning = Window("sang", "Buổi sáng", at("05:30:00", day), at("06:00:00", day))
    noon = Window("trua", "Buổi trưa", at("11:30:00", day), at("11:45:00", day))
    items = [item(at("05:30:00", day) + timedelta(minutes=10 * i), 600, f"sang-{i}") for i in range(3)]
    items += [item(at("11:30:00", day), 300, "trua-0", "trua"), item(at("11:35:00", day), 300, "trua-1", "trua")]
    return DayPlan(date=day, timezone="Asia/Ho_Chi_Minh", slots=[morning, noon],
                   blackouts=[Window("hoc", "Học trực tuyến", at("07:30:00", day), at("11:30:00", day))],
                   items=items)


# ---- a real tiny station on disk, and a real sound server ------------------------------------------------------


ROOT = Path(__file__).resolve().parents[2]
TONES = (330, 440, 550, 660, 770, 880)  # one frequency per item, so a recording tells them apart


def tone(path: Path, freq: int, seconds: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency={freq}:sample_rate=44100:duration={seconds}", "-ac", "2", str(path)],
                   check=True)
    return path


_CATALOGUED: dict[tuple, Path] = {}  # key → a folder with src/, audio/ and data/library.sqlite, made once


def catalogued_once(tmp: Path, key: tuple, make: Callable[[Path], None]) -> None:
    """`make(folder)` ingests a test library into folder/audio and folder/data (sources in folder/src); it runs
    once per session for each `key` and each later caller gets a copy (the catalogue stores paths relative to
    audio/). Ingest's real loudness analysis costs seconds per library, and ingest is tested in test_library."""
    if key not in _CATALOGUED:
        folder = Path(tempfile.mkdtemp(prefix="broadcaster-library."))
        atexit.register(shutil.rmtree, folder, True)
        make(folder)
        _CATALOGUED[key] = folder
    for part in ("src", "audio", "data"):
        if (_CATALOGUED[key] / part).exists():
            shutil.copytree(_CATALOGUED[key] / part, tmp / part, symlinks=True, dirs_exist_ok=True)


def station_dir(tmp: Path, lead_seconds: float, slot_seconds: int, *, item_seconds: float = 6.0,
                blackout: tuple[float, float] | None = None, backend: str = "sounddevice",
                devices: str = "[default]", block_frames: int | None = None) -> tuple[Path, datetime]:
    """config.yaml + playlists/ + a catalogued library of tones; one slot starting `lead_seconds` from now
    (whole seconds, station zone), an optional blackout (seconds from now). Returns the config and slot start."""
    from broadcaster.library.catalogue import Library

    def tones(folder: Path) -> None:
        library = Library(folder / "data" / "library.sqlite", folder / "audio")
        for n, freq in enumerate(TONES):
            library.ingest(tone(folder / "src" / f"tone-{n}-{freq}.wav", freq, item_seconds), category="tone",
                           title=f"Tone {n} {freq} Hz")

    (tmp / "playlists").mkdir(parents=True, exist_ok=True)
    catalogued_once(tmp, ("tones", item_seconds), tones)
    base = now_in_zone().replace(microsecond=0) + timedelta(seconds=1)
    slot_start = base + timedelta(seconds=round(lead_seconds))
    end = slot_start + timedelta(seconds=slot_seconds)
    text = f"""station: {{commune: Xã Thử, name: Đài xã Thử, id: thu}}
timezone: Asia/Ho_Chi_Minh
slots:
  - {{id: thu, name: Buổi thử, days: daily, start: "{slot_start:%H:%M:%S}", end: "{end:%H:%M:%S}", playlist: tones}}
"""
    if blackout:
        b0, b1 = (base + timedelta(seconds=round(x)) for x in blackout)
        text += f"""blackouts:
  - {{id: hoc, name: Học trực tuyến, days: daily, start: "{b0:%H:%M:%S}", end: "{b1:%H:%M:%S}"}}
"""
    text += f"""audio:
  backend: {backend}
  output_devices: {devices}
  crossfade_categories: []
  fade_seconds: 0.01
"""
    if block_frames:
        text += f"  block_frames: {block_frames}\n"
    (tmp / "config.yaml").write_text(text, encoding="utf-8")
    (tmp / "playlists" / "tones.yaml").write_text(
        "name: Tones\norder: sequential\nsequence:\n  - category: tone\nfill: tone\n", encoding="utf-8")
    return tmp / "config.yaml", slot_start


def now_in_zone() -> datetime:
    return datetime.now(ZONE)


class DaemonProcess:
    """`python main.py run` as a real subprocess, its stdout collected in a file. One still running when its
    test ends (a failed assertion before stop()) is stopped by the `no_daemon_left_running` fixture, so that it
    cannot play into the next test's recording."""

    running: list[DaemonProcess] = []

    def __init__(self, config: Path, env: dict, *extra: str):
        self.out = config.parent / f"daemon-{time.monotonic_ns()}.log"
        self._file = open(self.out, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "run", "--config", str(config),
                                      "--poll", "0.5", *extra], cwd=ROOT, env=env, stdout=self._file,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        DaemonProcess.running.append(self)

    def text(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, words: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if words in self.text():
                return True
            if self.proc.poll() is not None:
                return words in self.text()
            time.sleep(0.05)
        return False

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)
        self._file.close()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._file.close()
        return self.proc.returncode


@pytest.fixture(autouse=True)
def no_daemon_left_running():
    yield
    while DaemonProcess.running:
        DaemonProcess.running.pop().stop()


# `pytestmark = NEEDS_PULSEAUDIO` in a module of live daemon tests (with the daemon_pulse fixture)
NEEDS_PULSEAUDIO = pytest.mark.skipif(shutil.which("pulseaudio") is None, reason="needs pulseaudio (scripts/setup.sh)")


@pytest.fixture
def daemon_pulse():
    """A private sound server for one daemon test, warmed up (see warm_up; skipped, saying why, when none can be
    started): (the environment for the daemon and its clients, the `tests.support.pulse.PulseServer`, which a
    test may kill and bring back on the same socket)."""
    from tests.support.pulse import server_or_skip, stop_server

    server = server_or_skip()
    warm_up(server.env, Path(server.runtime))
    yield server.env, server
    stop_server(server)


class Recorder:
    """`parec` on the null sink's monitor: what the loudspeakers would have played, as 44.1 kHz mono int16."""

    def __init__(self, env: dict, path: Path):
        self.path = path
        self.started = time.monotonic()
        self.proc = subprocess.Popen(["parec", "-d", "vsink.monitor", "--raw", "--format=s16le", "--rate=44100",
                                      "--channels=1", "--latency-msec=20", str(path)], env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        import numpy as np

        self.proc.terminate()
        self.proc.wait(5)
        return np.frombuffer(self.path.read_bytes(), dtype="<i2").astype("float32") / 32768.0


def loud_seconds(samples, rate: int = 44100, window: float = 0.05, threshold: float = 0.01) -> list[bool]:
    """Per 50 ms window of a recording: is there sound?"""
    import numpy as np

    n = int(rate * window)
    frames = samples[: len(samples) // n * n].reshape(-1, n)
    return list(np.sqrt((frames ** 2).mean(axis=1)) > threshold)


# ---- a faked wall clock for the daemon process (libfaketime), the real monotonic clock -------------------------

FAKETIME_LIBS = sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1")) + sorted(
    Path("/usr/lib/faketime").glob("libfaketime.so.1"))

# `pytestmark = LIVE_FAKETIME` in a test module: the live daemon under libfaketime on a private sound server
LIVE_FAKETIME = [
    NEEDS_PULSEAUDIO,
    pytest.mark.skipif(not FAKETIME_LIBS, reason="needs libfaketime (apt package faketime; scripts/setup.sh)"),
]


@pytest.fixture
def warm_pulse(tmp_path):
    """A private sound server, warmed up (see warm_up), as `tests.support.pulse.PulseServer` (skipped, saying
    why, when none can be started)."""
    from tests.support.pulse import server_or_skip, stop_server

    server = server_or_skip()
    warm_up(server.env, tmp_path)
    yield server
    stop_server(server)


def asrun_time(text: str) -> datetime:
    """An as-run row's time (ISO 8601 with its offset, as `log show --json` gives it) as an aware datetime."""
    return datetime.fromisoformat(text)


def log_rows(config: Path, day: date) -> list[dict]:
    """`log show --json` for one day: the as-run log as its documented interface gives it."""
    import json

    out = subprocess.run([sys.executable, "main.py", "log", "show", "--config", str(config), "--date",
                          day.isoformat(), "--json"], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def log_verify(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "log", "verify", "--config", str(config)], cwd=ROOT,
                          capture_output=True, text=True)


class FakeWallClock:
    """The wall clock of processes started with `env()`: real time + `offset` whole seconds, while their
    monotonic clock stays the machine's, as when NTP or an operator steps the system time. libfaketime reads the
    offset from a file, again within ~1.5 s of a change; file times stay real. Whole seconds, so that this
    process knows the faked time exactly."""

    def __init__(self, folder: Path, start: datetime):
        self.file = folder / "faketime.rc"
        self.offset = 0
        self.set(round(start.timestamp() - time.time()))

    def set(self, offset: int) -> None:
        self.file.write_text(f"{offset:+d}\n", encoding="utf-8")
        self.offset = offset

    def step(self, seconds: int) -> None:
        self.set(self.offset + seconds)

    def env(self, base: dict) -> dict:
        return dict(base, LD_PRELOAD=str(FAKETIME_LIBS[0]), FAKETIME_TIMESTAMP_FILE=str(self.file),
                    FAKETIME_CACHE_DURATION="1", FAKETIME_DONT_FAKE_MONOTONIC="1", NO_FAKE_STAT="1",
                    PYTHONPATH=os.pathsep.join([str(ROOT / "tests" / "faketime_site"), str(ROOT)]))

    def now(self) -> datetime:
        return datetime.fromtimestamp(time.time() + self.offset, ZONE)

    def monotonic_of(self, moment: datetime, offset: int | None = None) -> float:
        """time.monotonic() at which the faked clock (with `offset`, default the current one) shows `moment`."""
        real = moment.timestamp() - (self.offset if offset is None else offset)
        return time.monotonic() + real - time.time()

    def sleep_until(self, moment: datetime) -> None:
        time.sleep(max(0.0, (moment - self.now()).total_seconds()))


@dataclass
class FakedRun:
    log: str  # the daemon's output
    recording: object  # the null sink's monitor, (frames, channels)
    recorder: object  # the tests.support.pulse.Recorder that made it (frame_at / time_of)
    clock: FakeWallClock
    offsets: list[int]  # the faked clock's offset before the first step, then after each


def play_faked(tmp: Path, pulse, config: Path, start: datetime, until: datetime, *,
               steps: list[tuple[datetime, int]] = (), ready: str = "daemon ready",
               ready_timeout: float = 8.0) -> FakedRun:
    """`python main.py run` on `config` with its wall clock faked from `start`, stepped by `steps` ((when,
    seconds), on the clock as it reads then) and stopped at `until`; the monitor recorded meanwhile."""
    from tests.support.pulse import Recorder as MonitorRecorder

    clock = FakeWallClock(tmp, start)
    recorder = MonitorRecorder(pulse)
    daemon = DaemonProcess(config, clock.env(pulse.env))
    offsets = [clock.offset]
    try:
        assert daemon.wait_for(ready, ready_timeout), daemon.text()
        for moment, seconds in steps:
            clock.sleep_until(moment)
            clock.step(seconds)
            offsets.append(clock.offset)
        clock.sleep_until(until)
    finally:
        assert daemon.stop() == 0, daemon.text()
    recording, _ = recorder.stop()
    return FakedRun(daemon.text(), recording, recorder, clock, offsets)


def noise_station(tmp: Path, slots: list[tuple[str, str, str]], *, item_seconds: float = 4.0, files: int = 6,
                  backend: str = "sounddevice", block_frames: int | None = None) -> Path:
    """config.yaml + playlists/ + a catalogued library of `files` seeded noise clips ("Noise 1".."Noise N",
    tests.support.audio.noise(seed)) that a recording can be searched for sample-exactly; `slots` as
    (id, "HH:MM:SS" start, end), daily. Returns the config."""
    from broadcaster.library.catalogue import Library
    from tests.support.audio import noise, write_wav

    def noises(folder: Path) -> None:
        library = Library(folder / "data" / "library.sqlite", folder / "audio")
        for seed in range(1, files + 1):
            library.ingest(write_wav(folder / "src" / f"noise-{seed}.wav", noise(seed, item_seconds)),
                           category="tone", title=f"Noise {seed}")

    (tmp / "playlists").mkdir(parents=True, exist_ok=True)
    catalogued_once(tmp, ("noise", item_seconds, files), noises)
    lines = [f'  - {{id: {sid}, name: Buổi {sid}, days: daily, start: "{a}", end: "{b}", playlist: tones}}'
             for sid, a, b in slots]
    (tmp / "config.yaml").write_text(
        "station: {commune: Xã Thử, name: Đài xã Thử, id: thu}\ntimezone: Asia/Ho_Chi_Minh\nslots:\n"
        + "\n".join(lines) + f"\naudio:\n  backend: {backend}\n  output_devices: [default]\n"
        "  crossfade_categories: []\n  fade_seconds: 0.01\n"
        + (f"  block_frames: {block_frames}\n" if block_frames else ""), encoding="utf-8")
    (tmp / "playlists" / "tones.yaml").write_text(
        "name: Tones\norder: sequential\nsequence:\n  - category: tone\nfill: tone\n", encoding="utf-8")
    return tmp / "config.yaml"


def heard_at(recording, recorder, title: str, expected: float, *, item_seconds: float = 4.0,
             search: float = 3.0, piece_at: float | None = None) -> tuple[float, float]:
    """When (time.monotonic()) the start of noise item `title` ("Noise N") was heard, searched within `search`
    seconds of `expected`, from where eight 20 ms pieces from `piece_at` s on (default 1 s in) were heard; and
    the second best correlation height (above 0.9: at least two pieces are there, intact). Short pieces, and
    eight of them, because the sounddevice sink repeats or drops a single sample as often as every 1024 frames
    to keep the null sink's fast clock on the nominal rate (sinks.py), which halves the correlation of a piece
    of noise it falls in: with four, a sink adapting hard left fewer than two clean (seen once in a suite)."""
    import numpy as np

    from tests.support.audio import RATE, find, noise

    source = noise(int(title.split()[-1]), item_seconds)
    first = min(1.0, item_seconds / 2) if piece_at is None else piece_at
    starts, heights = [], []
    for at in [a for a in (first + 0.05 * k for k in range(8)) if a + 0.02 <= item_seconds]:  # inside the item
        piece = source[round(at * RATE):round((at + 0.02) * RATE)]
        centre = recorder.frame_at(expected + at)
        lo = max(0, round(centre - search * RATE))
        hi = min(len(recording), round(centre + search * RATE) + len(piece))
        if hi - lo < len(piece):
            return float("nan"), 0.0
        lag, height = find(recording[lo:hi], piece)
        heights.append(height)
        if height > 0.9:
            starts.append(recorder.time_of(lo + lag) - at)
    return (float(np.median(starts)) if starts else float("nan")), sorted(heights)[-2]


def warm_up(env: dict, folder: Path) -> None:
    """Play half a second of silence through a fresh sound server. The first playback stream on a newly
    started PulseAudio reports DAC times that are off by up to ~0.6 s for its first seconds (measured:
    tests/test_daemon_midnight.py, a slot that opened the server's first stream logged its items 0.6 s before
    the monitor heard them); a station's sound server has been up for long, so tests start from that state."""
    import numpy as np

    from tests.support.audio import write_wav

    silence = write_wav(folder / "warm-up.wav", np.zeros((22050, 2), np.float32))
    subprocess.run(["paplay", str(silence)], env=env, check=True, timeout=30, capture_output=True)
