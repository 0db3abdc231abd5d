"""What the daemon needs from config.yaml to play (zone, folders, audio settings), kept as the last good copy.

If config.yaml is broken when the daemon starts, this snapshot from the last good load (in the state folder)
still says where the audio, the log and the cached plans are, so the station keeps playing its cached plan.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from zoneinfo import ZoneInfo

from broadcaster.config import AudioSettings, Station

SNAPSHOT = "playout-setup.json"


@dataclass(frozen=True)
class PlayoutSetup:
    timezone: str
    audio_dir: Path
    asrun_log: Path
    state: Path
    catalogue: Path
    audio: AudioSettings

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @staticmethod
    def of(station: Station) -> PlayoutSetup:
        return PlayoutSetup(station.timezone, station.paths.audio, station.paths.asrun_log, station.paths.state,
                            station.paths.catalogue, station.audio)

    def save(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        data = {k: (str(v) if isinstance(v, Path) else v) for k, v in data.items()}
        tmp = self.state / (SNAPSHOT + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.state / SNAPSHOT)

    @staticmethod
    def load(state: Path) -> PlayoutSetup | None:
        try:
            data = json.loads((Path(state) / SNAPSHOT).read_text(encoding="utf-8"))
            known = {f.name for f in fields(AudioSettings)}
            audio = AudioSettings(**{k: tuple(v) if isinstance(v, list) else v
                                     for k, v in data["audio"].items() if k in known})
            return PlayoutSetup(data["timezone"], Path(data["audio_dir"]), Path(data["asrun_log"]),
                                Path(data["state"]), Path(data["catalogue"]), audio)
        except (OSError, ValueError, KeyError, TypeError):
            return None
