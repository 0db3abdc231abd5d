"""A request to re-plan the rest of today, left for the daemon by whoever changed the plan's inputs.

Feed sync writes `<paths.state>/replan-requested` when a priority or emergency clip arrived or a clip was
withdrawn; the daemon polls for it, re-plans, and removes it. A newer request replaces an older one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from broadcaster.files import write_atomic

REPLAN_MARKER = "replan-requested"


def request_replan(state: Path, reason: str, clips: list[str], emergency: list[str] = ()) -> Path:
    """Ask the daemon to re-plan the rest of today. `emergency` lists newly arrived emergency clips (khẩn cấp):
    Circular 39/2020 says they air immediately, so the daemon may break in with them rather than wait."""
    requested = datetime.now(UTC).isoformat(timespec="seconds")
    return write_atomic(Path(state) / REPLAN_MARKER, json.dumps(
        {"requested": requested, "reason": reason, "clips": clips, "emergency": list(emergency)}))


def replan_request(state: Path) -> dict | None:
    """The waiting request, or None."""
    try:
        return json.loads((Path(state) / REPLAN_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def clear_replan_request(state: Path) -> None:
    (Path(state) / REPLAN_MARKER).unlink(missing_ok=True)
