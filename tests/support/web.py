"""The console as a station runs it, for the browser tests: `python main.py web` as a real process on a loopback
port, a station on disk (the demo's config.yaml with its comments, its playlist, a small library of tones),
users made with `python main.py web adduser`, and Debian's chromium driven by Playwright (one per session)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PASSWORD = "mat-khau-thu-1"
ROLES = ("viewer", "operator", "approver", "admin")
# Screenshots of the main pages go here when set (docs/web.md is made from them): BROADCASTER_WEB_SCREENSHOTS=docs/web
SHOTS = os.environ.get("BROADCASTER_WEB_SCREENSHOTS")
TIMEOUT_MS = 90_000  # Playwright's 30 s is too short for a report download on a 2-core machine shared by others

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs chromium (scripts/setup.sh)")

# (category, seconds, frequency) of the demo-like library: idents, Bluezone and health-declaration calls, songs.
# Short, so that making the station takes seconds: the planner fills a slot with more of them.
CLIPS = [("ident", 3, 300), ("ident", 3, 320), ("bluezone", 8, 440), ("bluezone", 7, 460),
         ("khai-bao-y-te", 8, 520), ("covid-song", 20, 600), ("covid-song", 22, 620), ("covid-song", 21, 640),
         ("covid-song", 19, 660), ("news", 12, 700)]
TITLES = {"ident": "Nhạc hiệu đài", "bluezone": "Lời kêu gọi cài đặt Bluezone",
          "khai-bao-y-te": "Hướng dẫn khai báo y tế", "covid-song": "Bài hát phòng chống Covid",
          "news": "Bản tin thời sự"}


def mp3(path: Path, freq: int, seconds: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency={freq}:sample_rate=44100:duration={seconds}", "-ac", "1", "-b:a", "32k",
                    str(path)], check=True)
    return path


def demo_station(folder: Path) -> Path:
    """The repository's config.yaml (comments and all) and playlist, with a small library of tones."""
    from broadcaster.library.catalogue import Library

    folder.mkdir(parents=True, exist_ok=True)
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("# station_copies: true", "station_copies: false")  # keep the test library small
    (folder / "config.yaml").write_text(text, encoding="utf-8")
    shutil.copytree(ROOT / "playlists", folder / "playlists")
    library = Library(folder / "data" / "library.sqlite", folder / "audio")
    for n, (category, seconds, freq) in enumerate(CLIPS):
        title = f"{TITLES[category]} {n + 1}"
        if category == "ident":
            title = "Mở đầu chương trình" if n == 0 else "Kết thúc chương trình"
        library.ingest(mp3(folder / "src" / f"clip-{n}.mp3", freq, seconds), category=category, title=title)
    return folder / "config.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main_py(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT, input=stdin, text=True,
                          capture_output=True, timeout=600, env=env)


def add_users(config: Path) -> None:
    """A user per role, named after it, through the functions `web adduser` calls (one process for all four:
    each start of Django costs seconds; tests/test_web_accounts.py runs the command itself)."""
    script = ("import sys\nfrom broadcaster.commands.web import start_django\nstart_django(sys.argv[1])\n"
              "from broadcaster.web.accounts import add_user\n"
              f"for role in {ROLES!r}:\n    add_user(role, role, {PASSWORD!r})\n")
    done = subprocess.run([sys.executable, "-c", script, str(config)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)  # minutes, not seconds, on a 2-core machine shared with other test runs
    assert done.returncode == 0, done.stderr


@dataclass
class Console:
    url: str
    config: Path
    proc: subprocess.Popen
    log: Path

    def text(self) -> str:
        return self.log.read_text(errors="replace")


def start_console(config: Path, env: dict | None = None) -> Console:
    port = free_port()
    log = config.parent / f"console-{port}.log"
    out = open(log, "w")  # noqa: SIM115 - the process writes it until stop_console
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "web", "--config", str(config), "--listen",
                             f"127.0.0.1:{port}"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/login/", timeout=10)
            return Console(url, config, proc, log)
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"console did not start: {log.read_text(errors='replace')}")


def stop_console(console: Console) -> None:
    console.proc.terminate()
    try:
        console.proc.wait(10)
    except subprocess.TimeoutExpired:
        console.proc.kill()
        console.proc.wait(5)


_CHROMIUM: list = []  # (playwright, browser): one browser for the whole session, whichever modules use it


def _shared_browser():
    if not _CHROMIUM:
        import atexit

        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        _CHROMIUM.append((playwright, playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)))

        def close() -> None:
            playwright_, browser_ = _CHROMIUM.pop()
            browser_.close()
            playwright_.stop()

        atexit.register(close)
    return _CHROMIUM[0][1]


@pytest.fixture
def browser():
    """Debian's chromium, started once per session (a fixture imported into several modules would otherwise
    be several session fixtures, each starting Playwright)."""
    return _shared_browser()


@pytest.fixture(scope="session")
def station_template(tmp_path_factory) -> Path:
    """Made once per session (ingest takes seconds); modules work on copies."""
    config = demo_station(tmp_path_factory.mktemp("template") / "station")
    add_users(config)
    return config.parent


def station_copy(template: Path, folder: Path) -> Path:
    shutil.copytree(template, folder)
    return folder / "config.yaml"


@pytest.fixture(scope="module")
def console(tmp_path_factory, station_template):
    """One station and one console for a test module; each test gets its own browser context."""
    config = station_copy(station_template, tmp_path_factory.mktemp("station") / "station")
    running = start_console(config)
    yield running
    stop_console(running)


def login(browser, console: Console, role: str, **context_args):
    context = browser.new_context(base_url=console.url, **context_args)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/login/")
    page.fill("input[name=username]", role)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(console.url + "/")
    return page


def screenshot(page, name: str, tmp_path: Path, full_page: bool = True) -> Path:
    """A picture of the page: into docs/web/ when BROADCASTER_WEB_SCREENSHOTS says so, else the test's folder."""
    folder = (ROOT / SHOTS) if SHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def csrf(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
