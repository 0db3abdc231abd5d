"""The mixer's fast paths give the samples of the plain ones: decoding in worker processes (simulate), decoding
straight into the block, envelopes in reused buffers. Real MP3/WAV files made on the spot, no sound server."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np

from broadcaster.sound import decode_workers
from broadcaster.sound.decode import AvDecoder
from broadcaster.sound.mixer import Mixer, ReadAhead, _equal_power, _raised_cosine
from tests.support.audio import RATE, T0, chain, noise, write_mp3, write_wav


def render_all(mixer: Mixer, block: int) -> np.ndarray:
    out = []
    while not mixer.done and mixer.pos < mixer.end_frame:
        buf = np.full((block, 2), 7.0, np.float32)  # stale data: every frame must be overwritten
        mixer.render(buf)
        out.append(buf)
    mixer.close()
    return np.concatenate(out)


def make_mixer(audio, items, *, ahead: bool) -> Mixer:
    mixer = Mixer(audio, sample_rate=RATE, channels=2, fade_seconds=0.05)
    mixer.decode_ahead = ahead
    mixer.load(items, T0, items[-1].end + timedelta(seconds=1))
    return mixer


def test_decoding_in_worker_processes_mixes_the_same_samples(tmp_path):
    for i in range(5):
        write_mp3(tmp_path / f"m{i}.mp3", noise(20 + i, 4.0))
    items = chain([(f"m{i}.mp3", 4.0) for i in range(5)], xf=1.0)
    items = [replace(item, gain_db=(i - 2) * 1.5) for i, item in enumerate(items)]
    here = render_all(make_mixer(tmp_path, items, ahead=False), 4096)
    workers = make_mixer(tmp_path, items, ahead=True)
    workers.render(np.zeros((4096, 2), np.float32))
    assert any(isinstance(v.decoder, decode_workers.SegmentedDecoder) for v in workers.voices)
    workers.close()
    there = render_all(make_mixer(tmp_path, items, ahead=True), 4096)
    assert there.shape == here.shape and np.array_equal(there, here)


def test_an_item_alone_at_unity_gain_is_its_file_sample_for_sample_between_its_fades(tmp_path):
    source = noise(31, 3.0)
    write_wav(tmp_path / "a.wav", source)
    items = chain([("a.wav", 3.0)])
    mixed = render_all(make_mixer(tmp_path, items, ahead=False), 8192)  # whole blocks go straight into `out`
    expect = np.zeros_like(source)
    decoder = AvDecoder(tmp_path / "a.wav", RATE, 2)
    decoder.read_into(expect)
    decoder.close()
    fade = round(0.05 * RATE)
    assert np.array_equal(mixed[fade:len(source) - fade], expect[fade:len(source) - fade])
    assert not mixed[len(source):].any()  # after the item: silence, not the stale block


def test_envelopes_from_reused_buffers_are_the_curves(tmp_path):
    write_wav(tmp_path / "one.wav", np.full((RATE * 3, 2), 0.5, np.float32))
    items = chain([("one.wav", 3.0), ("one.wav", 3.0)], xf=1.0)
    mixed = render_all(make_mixer(tmp_path, items, ahead=False), 3000)  # blocks cut the fades anywhere
    one = 16384 / 32768  # the WAV holds round(0.5 × 32767); FFmpeg reads 16-bit samples as n / 32768
    k = np.arange(RATE, dtype=np.float64)
    x = np.clip((k + 0.5) / RATE, 0.0, 1.0).astype(np.float32)
    fade_in = np.float32(one) * _equal_power(x)
    fade_out = np.float32(one) * _equal_power(x[::-1])
    cross = mixed[2 * RATE:3 * RATE, 0]
    assert np.allclose(cross, fade_out + fade_in, atol=1e-6)
    short = round(0.05 * RATE)
    x = np.clip((np.arange(short, dtype=np.float64) + 0.5) / short, 0.0, 1.0).astype(np.float32)
    assert np.allclose(mixed[:short, 0], np.float32(one) * _raised_cosine(x), atol=1e-6)


def test_frames_left_is_what_the_run_has_left_up_to_a_block(tmp_path):
    write_wav(tmp_path / "a.wav", noise(5, 2.0))
    items = chain([("a.wav", 2.0)] * 4, xf=0.5)
    mixer = make_mixer(tmp_path, items, ahead=False)
    mixer.hard_stop_frame -= RATE // 3  # the hard stop, not the last item, ends it
    seen = set()
    while not mixer.done and mixer.pos < mixer.end_frame:
        for limit in (1, 4096, RATE, 10 * RATE):
            left = mixer.frames_left(limit)
            assert left == min(limit, mixer.end_frame - mixer.pos)
            seen.add(left == limit)
        mixer.render(np.zeros((4096, 2), np.float32))
    mixer.close()
    assert seen == {True, False}


def test_read_ahead_hands_out_the_decoders_samples_and_decodes_a_big_piece_at_a_time(tmp_path):
    write_mp3(tmp_path / "m.mp3", noise(41, 4.0))
    plain = AvDecoder(tmp_path / "m.mp3", RATE, 2)
    expect = np.zeros((5 * RATE, 2), np.float32)
    whole = plain.read_into(expect, 0.5)
    plain.close()
    inner = AvDecoder(tmp_path / "m.mp3", RATE, 2)
    calls = []
    read = inner.read_into
    inner.read_into = lambda out, gain=1.0: calls.append(out.shape[0]) or read(out, gain)
    ahead = ReadAhead(inner, 65536, 2)
    got, parts = 0, []
    while got < expect.shape[0]:  # blocks of odd sizes cut the read-ahead buffer anywhere
        part = np.full((min(3001, expect.shape[0] - got), 2), 7.0, np.float32)
        got += part.shape[0]
        parts.append((ahead.read_into(part, 0.5), part))
    ahead.close()
    assert sum(n for n, _ in parts) == whole == ahead.frames_read
    assert np.array_equal(np.concatenate([p for _, p in parts]), expect)  # silence after the end, not 7.0
    assert calls == [65536] * (whole // 65536 + 1)  # one decoder call per 65536 frames, none after the end
