"""Put a bulletin's clip together with pydub: opening chime, the spoken paragraphs with a pause between them,
closing chime. Everything is brought to the speech's own format (espeak-ng: 22.05 kHz mono), which is all a
loudspeaker line needs; loudness is set afterwards by the normal ingest, like any other clip.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydub import AudioSegment
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from broadcaster.problems import BroadcasterError, Problem

LEAD_SECONDS = 0.3  # silence before the first sound, so the amplifier's relay and the first syllable do not meet
# Synthetic speech peaks at full scale with ~19 dB between its peaks and its loudness; the library's gain stops
# at a -1 dBFS peak, which would leave bulletins ~4 LU under the station target. Driving the voice 6 dB into a
# -1.5 dBFS look-ahead limiter brings the crest to ~14 dB, so ingest can set bulletins to the target like songs.
DRIVE_DB = 6.0
CEILING_DBFS = -1.5
LIMITER_WINDOW = 0.005  # seconds of look-ahead and of gain smoothing


def load_chime(path: Path) -> AudioSegment:
    try:
        return AudioSegment.from_file(path)
    except (OSError, IndexError) as err:
        raise BroadcasterError([Problem(str(path), f"không đọc được tiếng chuông ({err})",
                                        f"cannot read the chime ({err})",
                                        "kiểm tra bulletins.opening_chime / closing_chime (tệp trong audio/)",
                                        "check bulletins.opening_chime / closing_chime (a file in audio/)")]) from err
    except Exception as err:  # pydub raises CouldntDecodeError for a file ffmpeg cannot read
        raise BroadcasterError([Problem(str(path), f"tệp chuông hỏng ({err})", f"the chime file is damaged ({err})",
                                        "chọn tệp chuông khác", "choose another chime file")]) from err


def limit_peaks(segment: AudioSegment, drive_db: float = DRIVE_DB, ceiling_dbfs: float = CEILING_DBFS
                ) -> AudioSegment:
    """Raise the voice by `drive_db` and hold its peaks under `ceiling_dbfs` with a smooth gain (no clipping)."""
    width = segment.sample_width
    scale = float(1 << (8 * width - 1))
    samples = np.frombuffer(segment.raw_data, dtype={1: np.int8, 2: np.int16, 4: np.int32}[width])
    frames = samples.reshape(-1, segment.channels).astype(np.float64) / scale * 10 ** (drive_db / 20)
    ceiling = 10 ** (ceiling_dbfs / 20)
    window = max(1, round(LIMITER_WINDOW * segment.frame_rate))
    peak = maximum_filter1d(np.abs(frames).max(axis=1), size=2 * window + 1)
    gain = np.minimum(1.0, ceiling / np.maximum(peak, 1e-9))
    # smoothing a gain never raises it above the window's minimum at a peak: take the minimum again first
    gain = np.minimum(gain, uniform_filter1d(-maximum_filter1d(-gain, size=2 * window + 1), size=window))
    out = np.clip(frames * gain[:, None], -ceiling, ceiling) * scale
    return segment._spawn(np.round(out).astype(samples.dtype).tobytes())


def compose(paragraphs: list[AudioSegment], *, pause_seconds: float, fade_seconds: float,
            opening: AudioSegment | None = None, closing: AudioSegment | None = None) -> AudioSegment:
    """One clip: [chime] pause paragraph pause paragraph … [chime]."""
    if not paragraphs:
        raise ValueError("nothing to compose")
    rate, channels, width = paragraphs[0].frame_rate, paragraphs[0].channels, paragraphs[0].sample_width

    def same_format(segment: AudioSegment) -> AudioSegment:
        return segment.set_frame_rate(rate).set_channels(channels).set_sample_width(width)

    pause = AudioSegment.silent(duration=round(pause_seconds * 1000), frame_rate=rate).set_channels(channels)
    fade_ms = round(fade_seconds * 1000)
    # Short fades on each paragraph: the engine's first and last samples are not always at zero (clicks).
    edge_ms = min(20, fade_ms) if fade_ms else 0
    pieces = [AudioSegment.silent(duration=round(LEAD_SECONDS * 1000), frame_rate=rate).set_channels(channels)]
    if opening is not None:
        pieces += [same_format(opening).fade_in(fade_ms).fade_out(fade_ms), pause]
    for index, spoken in enumerate(paragraphs):
        if index:
            pieces.append(pause)
        pieces.append(limit_peaks(same_format(spoken)).fade_in(edge_ms).fade_out(edge_ms))
    if closing is not None:
        pieces += [pause, same_format(closing).fade_in(fade_ms).fade_out(fade_ms)]
    pieces.append(AudioSegment.silent(duration=round(LEAD_SECONDS * 1000), frame_rate=rate).set_channels(channels))
    # One join: AudioSegment + AudioSegment copies the whole clip each time.
    return pieces[0]._spawn(b"".join(p.raw_data for p in pieces))
