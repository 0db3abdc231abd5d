"""Play one clip on its own (play-now without a daemon, or an emergency between runs), logged like any item.

The clip gets the library's gain when the library can analyse it (loudness to the station target); otherwise it
plays at unity gain and says so. It is a one-item run for the engine, so the row in the as-run log has the same
shape as every other: planned start, actual start and end, level, and the operator's reason.
"""

from __future__ import annotations

import json
import logging
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

from broadcaster.model import PlannedItem
from broadcaster.playback import NotedLog, make_engine
from broadcaster.playout_setup import PlayoutSetup

log = logging.getLogger("broadcaster.play-now")

LEAD_SECONDS = 0.5  # time for the engine to open the device before the first sample


def clip_item(setup: PlayoutSetup, file: Path, level: str, start: datetime) -> tuple[PlannedItem, str | None]:
    """The clip as a planned item starting at `start`, and a warning if it could not be analysed."""
    warning = None
    try:
        from broadcaster.analysis import analyse
        from broadcaster.library import Library, gain_for

        found = analyse(file)  # also refuses a file that cannot air (corrupt, silent, truncated)
        known = Library(setup.catalogue, setup.audio_dir).get(found.sha256) if setup.catalogue.exists() else None
        duration, sha = found.duration, found.sha256
        gain = known.gain_db if known else gain_for(found.loudness_lufs, found.peak_dbfs, setup.audio.target_lufs)
    except ImportError:
        duration, sha, gain = probe_duration(file), "", 0.0
        warning = ("không phân tích được âm lượng: phát ở mức gốc / "
                   "loudness analysis not available: playing at unity gain")
    category = "khan-cap" if level == "emergency" else "uu-tien" if level == "priority" else "break-in"
    item = PlannedItem(start=start, end=start + timedelta(seconds=duration), slot="", category=category,
                       title=file.stem, file=str(file.resolve()), sha256=sha, gain_db=round(gain, 2),
                       duration=duration, level=level)
    return item, warning


def probe_duration(file: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(file)],
                         capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
    return float(json.loads(out.stdout)["format"]["duration"])


def play_file(setup: PlayoutSetup, file: Path, level: str, reason: str, *, start: datetime | None = None,
              engine_factory=make_engine) -> None:
    """Play `file` now (or at `start`) to its end on the configured device; blocks until it has aired."""
    start = start or datetime.now(setup.zone) + timedelta(seconds=LEAD_SECONDS)
    item, warning = clip_item(setup, file, level, start)
    if warning:
        log.warning("%s: %s", file, warning)
    asrun = NotedLog(setup.asrun_log)
    note = f"{level}: {reason}" if reason else level
    asrun.note(item.start, note + (f" ({warning})" if warning else ""))
    try:
        engine = engine_factory(setup, asrun)
        engine.play_run([item], item.end + timedelta(seconds=0.5))
    finally:
        asrun.close()
