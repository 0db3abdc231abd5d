"""Benchmark: one district feed on one static server on loopback, N communes syncing at once.

    .venv/bin/python bench/bench_feed.py [--communes 300] [--procs 4] [--seconds 90] [--ingest]

Rounds, all communes starting together:
  1. new clip   — every commune fetches the manifest and downloads the clip (first sync);
  2. repeat     — nothing new, conditional requests (If-None-Match) → 304s;
  3. repeat     — nothing new, validators forgotten (unconditional) → the full manifest again;
  4. next clip  — a second clip is published; conditional request sees the change, downloads it;
  5. receipts   — every commune posts its 4 queued receipts to one collector (`district collector`) at once.
Per round: wall time until every commune has the clip, errors, the server process's CPU time while serving
(user+sys, getrusage, start-up excluded) and body bytes the server sent. The server is `FeedFileServer`
(ThreadingHTTPServer) in its own process; communes are threads in --procs worker processes, each with its own
station folder and state.

By default the library step copies the verified file (no decode), since 300 decodes on one small machine would
measure ffmpeg, not the feed; --ingest runs the real ingest (the library's full decode) for every commune.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from broadcaster.feed import publish, signing  # noqa: E402
from broadcaster.feed.sync import sync_once  # noqa: E402
from broadcaster.model import LibraryItem  # noqa: E402
from broadcaster.station.config import load_station  # noqa: E402


@dataclass(frozen=True)
class Copied:
    item: LibraryItem
    added: bool


class CopyLibrary:
    """Stands in for the library in the default bench: atomic copy into audio/, no decode."""

    def __init__(self, audio: Path):
        self.audio = audio
        self.known: dict[str, LibraryItem] = {}

    def ingest(self, src, *, category, title=None, valid_from=None, valid_until=None, priority="normal",
               source="local", target_lufs=-16.0):
        src = Path(src)
        dest = self.audio / category / src.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest.with_suffix(".tmp"))
        os.replace(dest.with_suffix(".tmp"), dest)
        item = LibraryItem(src.stem, f"{category}/{src.name}", title or src.stem, category, 0, 0, 0, 0, 0, source,
                           valid_from, valid_until, priority)
        self.known[src.stem] = item
        return Copied(item, True)

    def get(self, sha256):
        return self.known.get(sha256)

    def set_validity(self, sha256, valid_from, valid_until):
        return self.known[sha256]

    def remove(self, sha256):
        return self.audio / self.known.pop(sha256).file


def make_audio(path: Path, seconds: float) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                    "-ac", "1", "-ar", "44100", "-b:a", "64k", str(path)], check=True)
    return path


def worker(stations: list[str], start_at: float, want: str, ingest: bool, forget: bool, out,
           flush: bool = False) -> None:
    """Sync each station in its own thread, all starting at start_at; report (seconds, ok, detail) each."""
    results = []
    lock = threading.Lock()

    def one(config: str) -> None:
        station = load_station(config)
        if forget:
            import sqlite3

            db = sqlite3.connect(station.paths.state / "feed.sqlite")
            db.execute("DELETE FROM http_cache")
            db.commit()
            db.close()
        library = None if ingest else CopyLibrary(station.paths.audio)
        if library is not None:
            for sha in (json.loads(p.read_text()) if (p := station.paths.state / "bench-have.json").exists() else []):
                library.known[sha] = LibraryItem(sha, "", "", "", 0, 0, 0, 0, 0)
        time.sleep(max(0.0, start_at - time.time()))
        try:
            result = sync_once(station, library=library, flush=flush, inbox=False)
            source = result.sources[0]
            has = want in source.added or (library.get(want) if library else None) is not None or (
                not source.added and source.status != "rejected" and not source.pending and not source.rejected)
            ok = source.status != "rejected" and not source.pending and not source.rejected and has and not (
                flush and (result.queued or result.outbox_error))
            detail = source.code or ",".join(source.pending.values()) or ",".join(source.rejected.values()) or (
                result.outbox_error if flush else "")
            if library is not None:
                (station.paths.state / "bench-have.json").write_text(json.dumps(sorted(library.known)))
        except Exception as err:  # noqa: BLE001 - a bench counts every failure
            ok, detail = False, repr(err)
        with lock:
            results.append((time.time() - start_at, ok, detail))

    threads = [threading.Thread(target=one, args=(c,)) for c in stations]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(results)


def run_round(name: str, configs: list[str], procs: int, want: str, ingest: bool, feed: Path, port: int,
              forget: bool = False, flush: bool = False) -> dict:
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(feed), "--port", str(port)],
                              stdout=subprocess.PIPE, text=True)
    assert server.stdout.readline().startswith("serving")
    queue: mp.Queue = mp.Queue()
    start_at = time.time() + 2.0
    chunks = [configs[i::procs] for i in range(procs)]
    workers = [mp.Process(target=worker, args=(chunk, start_at, want, ingest, forget, queue, flush))
               for chunk in chunks]
    for w in workers:
        w.start()
    results = [r for _ in workers for r in queue.get()]
    for w in workers:
        w.join()
    server.send_signal(signal.SIGTERM)
    stats = json.loads(server.stdout.readline())
    server.wait()
    ok = [r for r in results if r[1]]
    errors = [r[2] for r in results if not r[1]]
    return {"round": name, "communes": len(results), "ok": len(ok), "errors": len(errors),
            "error_kinds": sorted(set(errors))[:5], "all_done_s": round(max(r[0] for r in results), 2),
            "median_s": round(sorted(r[0] for r in results)[len(results) // 2], 2),
            "server_cpu_s": round(stats["cpu_s"], 2), "server_body_bytes": stats["bytes_sent"],
            "server_statuses": stats["statuses"]}


def collector_round(configs: list[str], args, want: str, feed: Path, work: Path) -> dict:
    """Every commune posts its queued receipts (4 each, from rounds 1 and 4) to one collector at once."""
    db = work / "collector.sqlite"
    service = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "district", "collector", "--port",
                                str(args.port + 1), "--db", str(db), "--tokens", str(work / "tokens.yaml"),
                                "--config", str(work / "none.yaml")], stdout=subprocess.PIPE, text=True)
    assert "collector" in service.stdout.readline()
    before = _cpu_seconds(service.pid)
    result = run_round("5 receipts to the collector (4 per commune)", configs, args.procs, want, args.ingest,
                       feed, args.port, flush=True)
    result["collector_cpu_s"] = round(_cpu_seconds(service.pid) - before, 2)
    service.terminate()
    service.wait()
    import sqlite3

    result["collector_messages_stored"] = sqlite3.connect(db).execute("SELECT count(*) FROM messages").fetchone()[0]
    return result


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def serve(feed: Path, port: int) -> int:
    """The server process: serve until SIGTERM, then print what was sent."""
    from broadcaster.feed.static import FeedFileServer

    server = FeedFileServer(("127.0.0.1", port), feed)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    before = resource.getrusage(resource.RUSAGE_SELF)  # CPU of serving only, not of Python's start-up
    print("serving", flush=True)
    server.serve_forever()
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(json.dumps({"bytes_sent": server.bytes_sent, "statuses": server.statuses, "cpu_s": cpu}), flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--communes", type=int, default=300)
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=90.0, help="clip length (64 kb/s MP3)")
    parser.add_argument("--port", type=int, default=18931)
    parser.add_argument("--ingest", action="store_true", help="real library ingest (full decode) per commune")
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(Path(args.serve), args.port)
    work = Path(tempfile.mkdtemp(prefix="bench-feed-"))
    try:
        private, public = signing.generate(work / "keys")
        feed = work / "feed"
        first = make_audio(work / "spot-1.mp3", args.seconds)
        _, clip1 = publish.publish(feed, private, first, category="bluezone", title="Bluezone", district="bench")
        configs, tokens = [], {f"xa-{i:03d}": secrets.token_urlsafe(24) for i in range(args.communes)}
        (work / "tokens.yaml").write_text(yaml.safe_dump(tokens), encoding="utf-8")
        for commune, token in tokens.items():
            folder = work / "communes" / commune
            folder.mkdir(parents=True)
            (folder / "config.yaml").write_text(
                f"station: {{commune: Xã {commune}, name: Đài {commune}, id: {commune}}}\n"
                "slots:\n  - {id: sang, start: 05:30, end: 06:30, playlist: p}\n"
                f"feed: {{url: 'http://127.0.0.1:{args.port}/', public_key: '{public}', district: bench, "
                "timeout_seconds: 120,\n"
                f"       collector_url: 'http://127.0.0.1:{args.port + 1}/', collector_token: '{token}'}}\n",
                encoding="utf-8")
            configs.append(str(folder / "config.yaml"))
        rounds = [run_round("1 new clip (first sync)", configs, args.procs, clip1.sha256, args.ingest, feed,
                            args.port),
                  run_round("2 nothing new, conditional GET", configs, args.procs, clip1.sha256, args.ingest, feed,
                            args.port),
                  run_round("3 nothing new, unconditional GET", configs, args.procs, clip1.sha256, args.ingest,
                            feed, args.port, forget=True)]
        second = make_audio(work / "spot-2.mp3", args.seconds + 1)
        _, clip2 = publish.publish(feed, private, second, category="bluezone", title="Bluezone 2")
        rounds.append(run_round("4 next clip, conditional GET", configs, args.procs, clip2.sha256, args.ingest,
                                feed, args.port))
        rounds.append(collector_round(configs, args, clip2.sha256, feed, work))
        info = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
                           f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
                "communes": args.communes, "worker_processes": args.procs, "clip_bytes": clip1.size,
                "manifest_bytes": (feed / "manifest.json").stat().st_size, "ingest": args.ingest, "rounds": rounds}
        print(json.dumps(info, indent=1, ensure_ascii=False))
        return 0 if all(r["errors"] == 0 for r in rounds) else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
