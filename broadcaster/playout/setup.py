"""What the daemon needs from config.yaml to play (zone, folders, audio settings), kept as the last good copy.

If config.yaml is broken when the daemon starts, this snapshot from the last good load (in the state folder)
still says where the audio, the log and the cached plans are, so the station keeps playing its cached plan.

Also the daemon's side of the engine: build the engine for the station's configured devices.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from zoneinfo import ZoneInfo

from broadcaster.asrun.log import AsRunLog
from broadcaster.files import write_atomic
from broadcaster.model import Window
from broadcaster.station.config import AudioSettings, Station

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
        data = {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}
        write_atomic(self.state / SNAPSHOT, json.dumps(data, ensure_ascii=False, indent=1))

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



def sink_factory_for(setup: PlayoutSetup):
    """`(device name, block frames) -> Sink` for the configured backend (sounddevice by default); the engine
    gives the block size it mixes in."""
    from broadcaster.sound.sinks import sound_card_sink

    audio = setup.audio

    def make(device: str, block_frames: int):
        return sound_card_sink(audio.backend, device, audio.sample_rate, audio.channels, block_frames)

    return make


START_MARGIN = 1.0  # s the daemon calls the engine before its preroll: building the engine, imports, a busy PC


def engine_preroll(audio: AudioSettings) -> float:
    """Seconds before a run's first frame the engine opens the device (the one figure the daemon's lead follows).

    It needs a moment to open, then a few blocks before the sink can time a frame, and the frame written then is
    heard a few blocks later: at least 2 s, and 1 s + 4 blocks with big blocks (docs/benchmarks.md, "preroll")."""
    return max(2.0, 1.0 + 4 * audio.block_frames / audio.sample_rate)


def make_engine(setup: PlayoutSetup, log: AsRunLog, blackouts: Sequence[Window] = (), **tuning):
    """A real engine on the station's configured device(s) and the wall clock."""
    from broadcaster.playout.clock import WallClock
    from broadcaster.playout.engine import Engine

    # Re-alignment keeps the engine's 50 ms: the sink keeps the device on its nominal rate itself
    # (SoundDeviceSink), so a re-alignment is for a real clock step or an underrun; below 50 ms every small
    # underrun on a busy PC would skip and mark the item `partial`.
    return Engine(setup.audio_dir, setup.audio, sink_factory_for(setup),
                  WallClock(setup.zone), log, setup.zone,
                  blackouts=blackouts, **({"preroll": engine_preroll(setup.audio)} | tuning))
