"""Web console speed and weight: server time (p50/p95) of the dashboard and the week plan on the demo station with
a year of as-run log (goal: p95 ≤ 100 ms), the console's memory (goal: ≤ 120 MB), and what an open dashboard
polling every few seconds costs the playout daemon (goal: nothing measurable).

Run: .venv/bin/python bench/bench_web.py [--requests 60] [--idle 40]
The station is the demo's config.yaml and playlist with a synthetic library of tones (tests/support/web.py);
its as-run log gets one `aired` row per planned item for the 365 days before today (written without fsync, as
simulate writes). The console is `python main.py web` on a loopback port; times are measured by the client
(request sent to last byte read), so they include loopback HTTP. The daemon is `python main.py run` on a
private PulseAudio null sink, idle between slots; its CPU time is read from /proc for --idle seconds without
and then with a dashboard poll every second (5x what the page does).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from tests.support.web import PASSWORD, add_users, demo_station, start_console, stop_console  # noqa: E402


def year_of_asrun(config: Path) -> int:
    from broadcaster.asrun.log import AsRunLog
    from broadcaster.planning.inputs import planner_inputs
    from broadcaster.planning.planner import plan_days
    from broadcaster.station.config import load_station

    station = load_station(config)
    playlists, items = planner_inputs(station)
    today = datetime.now(station.zone).date()
    plans = plan_days(station, playlists, items, today - timedelta(days=365), 365)
    rows = 0
    with AsRunLog(station.paths.asrun_log, durable=False) as log:
        for plan in plans:
            for i in plan.items:
                log.append(planned_start=i.start, actual_start=i.start, actual_end=i.end, status="aired",
                           slot=i.slot, category=i.category, title=i.title, file=i.file, sha256=i.sha256)
                rows += 1
    return rows


class Client:
    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> tuple[float, int]:
        started = time.perf_counter()
        with self.opener.open(self.base + path, timeout=30) as response:
            body = response.read()
        return time.perf_counter() - started, len(body)

    def login(self, user: str) -> None:
        self.get("/login/")
        token = next(c.value for c in self.jar if c.name == "csrftoken")
        data = urllib.parse.urlencode({"username": user, "password": PASSWORD, "csrfmiddlewaretoken": token})
        with self.opener.open(self.base + "/login/", data.encode(), timeout=30) as response:
            assert response.url.endswith("/"), response.url


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def rss_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--idle", type=float, default=40.0, help="seconds per daemon CPU window")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-web-"))
    config = demo_station(folder / "station")
    add_users(config)
    started = time.perf_counter()
    rows = year_of_asrun(config)
    print(f"station: demo config.yaml + playlist, synthetic tone library; as-run log: {rows} rows over 365 days "
          f"(written in {time.perf_counter() - started:.0f} s)")
    console = start_console(config)
    try:
        client = Client(console.url)
        client.login("viewer")
        monday = date.today() - timedelta(days=date.today().weekday())
        pages = {"dashboard": "/", "dashboard panel (htmx poll)": "/dashboard/panel/",
                 "week plan": f"/plan/?date={monday}&days=7"}
        for name, path in pages.items():
            client.get(path)  # first request plans and warms caches: reported apart
            size = client.get(path)[1]
            times = [client.get(path)[0] for _ in range(args.requests)]
            print(f"{name:28} p50 {percentile(times, 0.5) * 1000:6.1f} ms  p95 {percentile(times, 0.95) * 1000:6.1f}"
                  f" ms  max {max(times) * 1000:6.1f} ms  ({size // 1024} KB, {args.requests} requests)")
        # A new week (nothing planned yet in this process): what the first look at another week costs.
        cold = client.get(f"/plan/?date={monday + timedelta(days=70)}&days=7")[0]
        print(f"{'week plan, not yet planned':28} {cold * 1000:6.1f} ms (one request: plans 7 days)")
        rss, peak = rss_mb(console.proc.pid)
        print(f"console RSS {rss:.0f} MB (peak {peak:.0f} MB)")
        idle_cost(config, client, args.idle)
    finally:
        stop_console(console)
    print(f"load average: {Path('/proc/loadavg').read_text().split()[:3]}")


def idle_cost(config: Path, client: Client, seconds: float) -> None:
    from tests.support.daemon import DaemonProcess
    from tests.support.pulse import start_server, stop_server

    server = start_server()
    daemon = DaemonProcess(config, server.env)
    try:
        assert daemon.wait_for("daemon ready", 30), daemon.text()
        time.sleep(3)
        results = {}
        for label in ("no console open", "dashboard polled every 1 s"):
            before, t0 = cpu_seconds(daemon.proc.pid), time.monotonic()
            while time.monotonic() - t0 < seconds:
                if label.startswith("dashboard"):
                    client.get("/dashboard/panel/")
                time.sleep(1.0)
            results[label] = (cpu_seconds(daemon.proc.pid) - before) / (time.monotonic() - t0)
        for label, share in results.items():
            print(f"playout daemon CPU, {label:27} {share * 100:5.2f} % of a core")
    finally:
        daemon.stop()
        stop_server(server)


if __name__ == "__main__":
    main()
