"""Progress bars for long commands: on a terminal they appear; into a pipe or a log the output is the plain
text it always was. Each command runs as a real process, its standard error on a pseudo-terminal (pty) or on a
pipe, its standard output on a pipe either way, so the two runs' outputs can be compared."""

from __future__ import annotations

import fcntl
import os
import pty
import shutil
import struct
import subprocess
import sys
import termios
import threading
from pathlib import Path

import pytest

from broadcaster.station.config import load_station
from tests.support.audio_files import make_audio
from tests.support.feed import make_audio as make_feed_audio
from tests.support.feed import make_station
from tests.support.reports import write_log

ROOT = Path(__file__).resolve().parent.parent
APPROVER = load_station(ROOT / "config.yaml").extra["approval"]["approvers"][0]  # local clips air once approved
CLIPS = 4  # songs of 30 s: enough for the demo playlist's fill to make slot runs to simulate


def run(argv: list[str], cwd: Path, terminal: bool, columns: int = 100) -> tuple[str, str, int]:
    """(stdout, stderr, exit code) of `python main.py ARGV`; stderr is a pty `columns` wide if `terminal`."""
    command = [sys.executable, str(ROOT / "main.py"), *argv]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if not terminal:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=180, env=env,
                              stdin=subprocess.DEVNULL)
        return done.stdout, done.stderr, done.returncode
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30 if columns else 0, columns, 0, 0))
    chunks: list[bytes] = []

    def drain() -> None:  # a full pty would block the command: read it while it runs
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the command closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    with subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL,
                          env=env) as proc:
        os.close(slave)
        out, _ = proc.communicate(timeout=180)
    reader.join(timeout=10)
    os.close(master)
    return out.decode("utf-8"), b"".join(chunks).decode("utf-8", "replace"), proc.returncode


def plain(text: str) -> bool:
    """No carriage returns or escape sequences: what a log file or a pipe should get."""
    return "\r" not in text and "\x1b" not in text


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("clips")
    return [make_audio(folder / f"song-{k}.wav", 30, 8000, 1,  # different tones: no clip duplicates another
                       source=f"sine=frequency={300 + 40 * k}:sample_rate={{rate}}") for k in range(CLIPS)]


def new_station(folder: Path) -> Path:
    folder.mkdir()
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert "  # station_copies: true" in text
    (folder / "config.yaml").write_text(text.replace("  # station_copies: true", "  station_copies: false", 1),
                                        encoding="utf-8")
    shutil.copytree(ROOT / "playlists", folder / "playlists")
    return folder




@pytest.fixture(scope="module")
def stations(tmp_path_factory, sources) -> dict:
    """The same clips ingested into two new stations, once with a terminal and once into pipes."""
    base = tmp_path_factory.mktemp("stations")
    return {terminal: (station := new_station(base / ("tty" if terminal else "pipe")),
                       run(["ingest", *map(str, sources), "--category", "covid-song", "--by", APPROVER], station,
                           terminal))
            for terminal in (True, False)}


def test_ingest_of_many_files_shows_progress_on_a_terminal_only(stations):
    (tty_out, tty_err, tty_code), (pipe_out, pipe_err, pipe_code) = stations[True][1], stations[False][1]
    assert tty_code == pipe_code == 0
    assert "Nhập tệp / ingesting" in tty_err and f"/{CLIPS}" in tty_err
    assert pipe_err == ""  # nothing on a piped standard error
    assert tty_out == pipe_out and plain(pipe_out)  # the result lines are the same plain text
    assert pipe_out.count("ĐÃ THÊM/ADDED") == CLIPS


def test_library_rebuild_shows_progress_on_a_terminal_only(stations):
    out, err, code = run(["library", "rebuild"], stations[True][0], terminal=True)
    assert code == 0 and "Phân tích / analysing" in err and f"/{CLIPS}" in err
    pipe_out, pipe_err, pipe_code = run(["library", "rebuild"], stations[False][0], terminal=False)
    assert pipe_code == 0 and pipe_err == "" and plain(pipe_out)
    assert out == pipe_out and f"{CLIPS} items" in out


def test_simulate_days_shows_progress_on_a_terminal_only(stations):
    argv = ["simulate", "--date", "2021-02-22", "--days", "2", "--no-audio", "--out", "sim"]
    out, err, code = run(argv, stations[True][0], terminal=True)
    assert code == 0 and "Mô phỏng / simulating" in err and "/6" in err  # 3 slots a day
    pipe_out, pipe_err, pipe_code = run(argv, stations[False][0], terminal=False)
    assert pipe_code == 0 and pipe_err == "" and plain(pipe_out)
    assert out.splitlines()[1:] == [line.replace("/pipe/", "/tty/") for line in pipe_out.splitlines()[1:]]


def test_report_over_a_year_shows_progress_on_a_terminal_only(tmp_path):
    log = write_log(tmp_path / "asrun.sqlite")
    argv = ["report", "--from", "2021-01-01", "--to", "2021-12-31", "--format", "csv", "--log", str(log),
            "--config", str(ROOT / "config.yaml")]
    # A terminal that reports no size (a serial console, `script` run from a pipe) still gets its bar.
    out, err, code = run([*argv, "--out", "tty.csv"], tmp_path, terminal=True, columns=0)
    assert code == 0 and "Đọc nhật ký / reading the log" in err and "Ghi từng lượt phát / writing rows" in err
    pipe_out, pipe_err, pipe_code = run([*argv, "--out", "pipe.csv"], tmp_path, terminal=False)
    assert pipe_code == 0 and pipe_out == "" and pipe_err == "OK: pipe.csv\n"
    assert (tmp_path / "tty.csv").read_bytes() == (tmp_path / "pipe.csv").read_bytes()


def test_sync_shows_clips_fetched_on_a_terminal_only(tmp_path, district, feed_server):
    for k in range(2):
        district.publish(make_feed_audio(tmp_path / "src" / f"spot-{k}.mp3", seconds=1, freq=500 + 60 * k))
    feed = {"url": feed_server.url, "public_key": str(district.pub)}
    tty_station = make_station(tmp_path / "tty" / "xa-a", feed=feed)  # two new communes, the same feed
    pipe_station = make_station(tmp_path / "pipe" / "xa-a", feed=feed)
    out, err, code = run(["sync", "--once", "--config", str(tty_station.file)], tmp_path, terminal=True)
    assert code == 0 and "Tải tin bài / fetching clips" in err and "/2" in err
    pipe_out, pipe_err, pipe_code = run(["sync", "--once", "--config", str(pipe_station.file)], tmp_path,
                                        terminal=False)
    assert pipe_code == 0 and pipe_err == "" and plain(pipe_out)
    assert out == pipe_out and pipe_out.count("đã vào thư viện / in the library") == 2
