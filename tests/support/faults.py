"""Faults made for real for the daemon tests: a small tmpfs filled to the last page, a read-only bind mount, and
the dead air a recording of the null sink's monitor shows in a slot (imported explicitly, not a conftest)."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.support.daemon import loud_seconds


def mount_tmpfs(folder: Path, size: str) -> Path:
    """A tmpfs of `size` at `folder` (root only: skipped with the reason where mounting is not allowed)."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}): these faults need root (mount)")
    return folder


def unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill_disk(folder: Path) -> Path:
    """Write a file until the volume has no page left (ENOSPC); returns it (remove it to free the space)."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for size in (1 << 16, 4096, 512):  # big writes, then the last pages
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def bind_read_only(path: Path) -> None:
    """`path` itself becomes read-only (EROFS) for every user, root too; its folder stays writable."""
    for args in (["mount", "--bind", str(path), str(path)], ["mount", "-o", "remount,ro,bind", str(path)]):
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode:
            unmount(path)
            pytest.skip(f"cannot make a read-only bind mount here ({done.stderr.strip()})")


def slot_soon(config: Path, start: datetime, seconds: int, daemon, lead: float = 5.0) -> datetime:
    """Move the test station's slot (made by station_dir, starting at `start`, `seconds` long) to `lead` s from
    now, once the daemon runs, and wait for its re-plan: the slot's timing then does not depend on how long the
    daemon took to start on a busy machine. A blackout that ends where the slot starts ends at the new start.
    Returns the new start."""
    from tests.support.daemon import now_in_zone

    new = now_in_zone().replace(microsecond=0) + timedelta(seconds=round(lead) + 1)
    text = config.read_text(encoding="utf-8")
    old = f'start: "{start:%H:%M:%S}", end: "{start + timedelta(seconds=seconds):%H:%M:%S}"'
    assert old in text, text
    text = text.replace(old, f'start: "{new:%H:%M:%S}", end: "{new + timedelta(seconds=seconds):%H:%M:%S}"')
    config.write_text(text.replace(f'end: "{start:%H:%M:%S}"', f'end: "{new:%H:%M:%S}"'), encoding="utf-8")
    assert daemon.wait_for("re-planned (inputs changed)", lead), daemon.text()
    return new


def alarms(state: Path) -> list[dict]:
    try:
        return json.loads((state / "alarms.json").read_text(encoding="utf-8"))["alarms"]
    except (OSError, ValueError):
        return []


def dead_air(samples, recorded_from: datetime, start: datetime, seconds: float, edge: float = 0.3) -> float:
    """Longest silence (s, in 50 ms windows) in [start + edge, start + seconds - edge] of a recording begun at
    `recorded_from` (tests.support.daemon.Recorder): silence at either end counts too."""
    rate = 44100
    first = round(((start - recorded_from).total_seconds() + edge) * rate)
    last = round(((start - recorded_from).total_seconds() + seconds - edge) * rate)
    if first < 0 or last > len(samples):
        return float("inf")  # the recording does not cover the slot
    best = run = 0
    for loud in loud_seconds(samples[first:last]):
        run = 0 if loud else run + 1
        best = max(best, run)
    return best * 0.05
