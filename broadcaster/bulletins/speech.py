"""Speech engines behind one adapter: normalised Vietnamese text in, mono PCM (a pydub AudioSegment) out.

espeak-ng (Debian package) is the default and is what runs on every station: its Vietnamese voices are `vi`
(northern), `vi-vn-x-central` and `vi-vn-x-south`. Piper is the neural alternative for a station that installs
the program and a Vietnamese voice model itself (model hubs are out of reach of these machines); it is chosen
with `bulletins.engine: piper` and `bulletins.piper.models`. Both run as a child process per paragraph, with the
text on stdin, so no text is ever put on a command line.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path
from typing import Protocol

from pydub import AudioSegment

from broadcaster.bulletins.settings import VOICES, BulletinSettings
from broadcaster.problems import BroadcasterError, Problem

ESPEAK_VOICES = {"north": "vi", "central": "vi-vn-x-central", "south": "vi-vn-x-south"}
VOICE_VI = {"north": "giọng Bắc", "central": "giọng Trung", "south": "giọng Nam"}


class SpeechEngine(Protocol):
    name: str

    def voices(self) -> tuple[str, ...]: ...

    def speak(self, text: str, voice: str, rate: int) -> AudioSegment: ...


def _engine_error(what_vi: str, what_en: str, hint_vi: str, hint_en: str) -> BroadcasterError:
    return BroadcasterError([Problem("bulletins.engine", what_vi, what_en, hint_vi, hint_en)])


def unknown_voice(voice: str, known: tuple[str, ...]) -> BroadcasterError:
    return BroadcasterError([Problem("--voice", f"giọng đọc không biết: {voice!r}", f"unknown voice {voice!r}",
                                     f"dùng {', '.join(known)}", f"use {', '.join(known)}")])


def wav_to_segment(data: bytes, source: str) -> AudioSegment:
    """A WAV stream (its sizes may be left unset, as espeak-ng writes to a pipe) → AudioSegment."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise _engine_error(f"{source} không trả về âm thanh WAV", f"{source} did not return WAV audio",
                            "kiểm tra cài đặt bộ đọc", "check the speech engine's installation")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if chunk == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[pos + 8:pos + 24])
        elif chunk == b"data":
            if fmt is None:
                break
            _, channels, rate, _, _, bits = fmt
            pcm = data[pos + 8:]
            usable = len(pcm) - len(pcm) % (channels * bits // 8)
            return AudioSegment(data=pcm[:usable], sample_width=bits // 8, frame_rate=rate, channels=channels)
        pos += 8 + size + (size & 1)
    raise _engine_error(f"{source}: tệp WAV không có dữ liệu", f"{source}: WAV stream without data",
                        "kiểm tra cài đặt bộ đọc", "check the speech engine's installation")


class EspeakEngine:
    name = "espeak-ng"

    def __init__(self, binary: str = "espeak-ng"):
        self.binary = shutil.which(binary)
        if self.binary is None:
            raise _engine_error("không tìm thấy chương trình espeak-ng", "espeak-ng is not installed",
                                "cài: apt-get install espeak-ng (scripts/setup.sh làm việc này)",
                                "install it: apt-get install espeak-ng (scripts/setup.sh does)")

    def voices(self) -> tuple[str, ...]:
        return VOICES

    def speak(self, text: str, voice: str, rate: int) -> AudioSegment:
        if voice not in ESPEAK_VOICES:
            raise unknown_voice(voice, self.voices())
        done = subprocess.run([self.binary, "-v", ESPEAK_VOICES[voice], "-s", str(rate), "--stdout", "-b", "1"],
                              input=text.encode("utf-8"), capture_output=True, timeout=120, check=False)
        if done.returncode != 0:
            raise _engine_error(f"espeak-ng lỗi ({done.stderr.decode(errors='replace').strip()})",
                                f"espeak-ng failed ({done.stderr.decode(errors='replace').strip()})",
                                "kiểm tra gói espeak-ng-data", "check the espeak-ng-data package")
        return wav_to_segment(done.stdout, "espeak-ng")


class PiperEngine:
    """Piper (github.com/rhasspy/piper): one .onnx voice model per accent, named in config."""

    name = "piper"

    def __init__(self, binary: str, models: dict[str, Path]):
        self.binary = shutil.which(binary)
        self.models = models
        if self.binary is None:
            raise _engine_error(f"không tìm thấy chương trình piper ({binary!r})",
                                f"piper is not installed ({binary!r})",
                                "cài piper và ghi đường dẫn vào bulletins.piper.binary, hoặc dùng engine: espeak-ng",
                                "install piper and set bulletins.piper.binary, or use engine: espeak-ng")
        missing = [str(p) for p in models.values() if not p.is_file()]
        if not models or missing:
            raise _engine_error(f"thiếu mô hình giọng đọc piper: {', '.join(missing) or 'chưa khai báo'}",
                                f"piper voice model missing: {', '.join(missing) or 'none configured'}",
                                "ghi tệp .onnx vào bulletins.piper.models",
                                "set the .onnx files in bulletins.piper.models")

    def voices(self) -> tuple[str, ...]:
        return tuple(v for v in VOICES if v in self.models)

    def speak(self, text: str, voice: str, rate: int) -> AudioSegment:
        if voice not in self.models:
            raise unknown_voice(voice, self.voices())
        length_scale = 145 / rate  # piper speaks at about espeak's 145 words a minute at scale 1
        done = subprocess.run([self.binary, "--model", str(self.models[voice]), "--length_scale", f"{length_scale:.3f}",
                               "--output_file", "-"], input=text.encode("utf-8"), capture_output=True, timeout=300,
                              check=False)
        if done.returncode != 0:
            raise _engine_error(f"piper lỗi ({done.stderr.decode(errors='replace').strip()[-300:]})",
                                f"piper failed ({done.stderr.decode(errors='replace').strip()[-300:]})",
                                "kiểm tra mô hình giọng đọc", "check the voice model")
        return wav_to_segment(done.stdout, "piper")


def speech_engine(settings: BulletinSettings) -> SpeechEngine:
    if settings.engine == "piper":
        return PiperEngine(settings.piper_binary, settings.piper_models)
    return EspeakEngine()
