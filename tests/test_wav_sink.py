"""The WAV sink writes 16-bit PCM exactly (rounded to nearest, clipped) while handing the file's pages back as it
goes (broadcaster/sound/writeback.py). A real file on the real file system; no sound server."""

from __future__ import annotations

import sys

import numpy as np

from broadcaster.sound import writeback
from broadcaster.sound.sinks import WavFileSink, _to_int16
from tests.support.audio import RATE, noise, read_wav


def test_wav_written_back_in_small_windows_has_every_sample(tmp_path, monkeypatch):
    monkeypatch.setattr(writeback, "WINDOW_BYTES", 64 << 10)  # 1.7 MB of audio: many windows
    source = noise(3, 10.0, level=0.5)
    source[100:200] = 1.5  # clipped
    source[200:300] = -1.5
    sink = WavFileSink(tmp_path / "out.wav", RATE, 2)
    sink.open()
    for at in range(0, len(source), 4000):  # odd-sized blocks
        sink.write(source[at:at + 4000])
    if sys.platform == "linux":
        assert sink._writeback._dropped > 0  # the pages behind were written back and dropped
    sink.close()
    back = read_wav(tmp_path / "out.wav")
    assert back.shape == source.shape
    expect = np.frombuffer(_to_int16(source), "<i2").reshape(source.shape)  # the plain conversion
    assert np.array_equal(np.rint(back * 32767).astype("<i2"), expect)
