"""Put a bulletin's clip together with pydub: opening chime, the spoken paragraphs with a pause between them,
closing chime. Everything is brought to the speech's own format (espeak-ng: 22.05 kHz mono), which is all a
loudspeaker line needs; loudness is set afterwards by the normal ingest, like any other clip.
"""

from __future__ import annotations

from pathlib import Path

from pydub import AudioSegment

from broadcaster.problems import BroadcasterError, Problem

LEAD_SECONDS = 0.3  # silence before the first sound, so the amplifier's relay and the first syllable do not meet


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
        pieces.append(same_format(spoken).fade_in(edge_ms).fade_out(edge_ms))
    if closing is not None:
        pieces += [pause, same_format(closing).fade_in(fade_ms).fade_out(fade_ms)]
    pieces.append(AudioSegment.silent(duration=round(LEAD_SECONDS * 1000), frame_rate=rate).set_channels(channels))
    # One join: AudioSegment + AudioSegment copies the whole clip each time.
    return pieces[0]._spawn(b"".join(p.raw_data for p in pieces))
