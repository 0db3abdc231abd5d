"""The decoders (PyAV in-process, PyAV in a worker process, the ffmpeg pipe) give the same frames, seek exactly,
and fail softly."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from broadcaster.sound import decode_workers
from broadcaster.sound.decode import AvDecoder, Decoder
from tests.support.audio import RATE, find, noise, write_mp3, write_wav


def in_worker(path, sample_rate, channels, **options):
    decoder = decode_workers.open_worker_decoder(path, sample_rate, channels, **options)
    assert decoder is not None, "no free decoding worker"
    return decoder


DECODERS = [pytest.param(AvDecoder, id="pyav"), pytest.param(in_worker, id="pyav-worker"),
            pytest.param(Decoder, id="ffmpeg-pipe")]


def read_all(decoder, frames: int) -> np.ndarray:
    out = np.zeros((frames, 2), np.float32)
    got = decoder.read_into(out[: frames // 3])
    got += decoder.read_into(out[frames // 3:])  # block by block, as the mixer reads
    decoder.close()
    return out


@pytest.mark.parametrize("make", DECODERS)
def test_wav_decodes_exactly_and_seeks_to_the_frame(tmp_path, make):
    source = noise(7, 2.0)
    path = write_wav(tmp_path / "n.wav", source)
    whole = read_all(make(path, RATE, 2), 2 * RATE)
    assert np.abs(whole - source).max() < 1.5 / 32767
    part = read_all(make(path, RATE, 2, offset=0.75), RATE)
    assert np.abs(part - source[round(0.75 * RATE):round(1.75 * RATE)]).max() < 1.5 / 32767


@pytest.mark.parametrize("make", DECODERS)
def test_mono_22050_hz_mp3_is_resampled_to_the_station_format(tmp_path, make):
    # 88200 frames at 22050 Hz: 4 s of mono, like the demo's speech clips
    wav = write_wav(tmp_path / "m.wav", noise(5, 2.0, channels=1), rate=22050)
    mp3 = tmp_path / "m.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), str(mp3)], check=True)
    whole = read_all(make(mp3, RATE, 2), 4 * RATE)
    assert np.allclose(whole[:, 0], whole[:, 1])
    assert np.abs(whole[round(3.8 * RATE):round(3.9 * RATE)]).max() > 0.05  # 4 s long at 44100 Hz too
    part = read_all(make(mp3, RATE, 2, offset=0.5), RATE)
    lag, height = find(whole, part[RATE // 4:RATE // 2])
    assert height > 0.99 and abs(lag - round(0.75 * RATE)) <= 2


@pytest.mark.parametrize("make", DECODERS)
def test_mp3_seek_matches_decoding_from_the_start(tmp_path, make):
    path = write_mp3(tmp_path / "n.mp3", noise(3, 3.0))
    whole = read_all(make(path, RATE, 2), 3 * RATE)
    part = read_all(make(path, RATE, 2, offset=1.25), RATE)
    lag, height = find(whole, part[RATE // 4:RATE // 2])
    assert lag == round(1.5 * RATE) and height > 0.99


@pytest.mark.parametrize("make", DECODERS)
def test_missing_and_broken_files_give_silence_and_a_reason(tmp_path, make):
    missing = make(tmp_path / "gone.mp3", RATE, 2)
    assert "not found" in missing.error
    (tmp_path / "bad.mp3").write_bytes(b"not audio at all" * 100)
    bad = make(tmp_path / "bad.mp3", RATE, 2)
    out = np.ones((1000, 2), np.float32)
    assert bad.read_into(out) == 0 and not out.any()
    assert bad.error
    missing.close()
    bad.close()


@pytest.mark.parametrize("make", DECODERS)
def test_a_looped_bed_keeps_going(tmp_path, make):
    path = write_wav(tmp_path / "bed.wav", noise(4, 0.5))
    out = read_all(make(path, RATE, 2, loop=True), 2 * RATE)
    assert np.abs(out[round(1.6 * RATE):]).max() > 0.1


def test_worker_gives_the_same_samples_as_decoding_in_process_across_many_slots(tmp_path):
    path = write_mp3(tmp_path / "long.mp3", noise(9, 7.0))  # several ring slots, read in odd-sized blocks
    here, there = AvDecoder(path, RATE, 2), in_worker(path, RATE, 2)
    for size in (1000, decode_workers.SLOT_FRAMES - 7, 3 * decode_workers.SLOT_FRAMES, 5000):
        a, b = np.zeros((size, 2), np.float32), np.ones((size, 2), np.float32)
        assert here.read_into(a) == there.read_into(b)
        assert np.array_equal(a, b)
    here.close()
    there.close()


def test_a_worker_that_dies_gives_silence_and_a_reason_and_is_replaced(tmp_path):
    path = write_mp3(tmp_path / "n.mp3", noise(6, 6.0))
    dying = in_worker(path, RATE, 2)
    out = np.zeros((RATE, 2), np.float32)
    assert dying.read_into(out) == RATE
    process = dying._current._worker.proc
    process.kill()  # as the OOM killer or a crash in FFmpeg would
    process.join()
    out.fill(1.0)
    got = 0
    for _ in range(8):  # what is already in the ring may still come; then silence and the reason
        got = dying.read_into(out)
        if got == 0:
            break
    assert got == 0 and not out.any()
    assert "decoding process stopped" in dying.error
    dying.close()
    fresh = in_worker(path, RATE, 2)
    assert fresh.read_into(out) == RATE and np.abs(out).max() > 0.1
    fresh.close()


@pytest.mark.parametrize("make", DECODERS[:2])
def test_damage_mid_file_gives_what_came_before_then_silence_and_a_reason(tmp_path, make):
    path = write_mp3(tmp_path / "n.mp3", noise(1, 6.0))
    data = bytearray(path.read_bytes())
    third = len(data) // 3
    data[third:third + 20000] = bytes(range(256)) * 78 + bytes(32)  # 20,000 bytes of junk a third of the way
    path.write_bytes(bytes(data))
    out = np.ones((8 * RATE, 2), np.float32)
    decoder = make(path, RATE, 2)
    got = decoder.read_into(out)
    decoder.close()
    assert 1.0 * RATE < got < 2.5 * RATE and np.abs(out[:got]).max() > 0.1
    assert not out[got:].any()
    assert "cannot decode n.mp3" in decoder.error


@pytest.mark.parametrize("make", DECODERS[:2])
def test_mp3_resumed_mid_file_is_sample_for_sample_the_same_as_played_through(tmp_path, make):
    path = write_mp3(tmp_path / "n.mp3", noise(12, 4.0))
    whole = read_all(make(path, RATE, 2), 4 * RATE)
    for offset in (0.3, 1.25, 2.0001, 2.9):  # before the warm-up span, and well after
        start = round(offset * RATE)
        part = read_all(make(path, RATE, 2, offset=offset), RATE)
        assert np.array_equal(part, whole[start:start + RATE]), offset


@pytest.mark.parametrize("hold_other_worker", [False, True], ids=["next-piece-ahead", "next-piece-at-the-join"])
def test_a_long_file_decoded_in_pieces_by_several_workers_joins_sample_exactly(tmp_path, monkeypatch,
                                                                                hold_other_worker):
    monkeypatch.setattr(decode_workers, "SEGMENT_SECONDS", 0.7)  # 4.2 s: six pieces and a bit
    path = write_mp3(tmp_path / "long.mp3", noise(14, 4.5))
    other = in_worker(write_mp3(tmp_path / "o.mp3", noise(15, 1.0)), RATE, 2) if hold_other_worker else None
    for offset in (0.0, 0.85):
        start = round(offset * RATE)
        here = read_all(AvDecoder(path, RATE, 2), 5 * RATE)[start:]
        pieces = in_worker(path, RATE, 2, offset=offset)
        assert isinstance(pieces, decode_workers.SegmentedDecoder)
        there = read_all(pieces, 5 * RATE - start)
        assert np.array_equal(there, here)
        assert pieces.frames_read == round(4.5 * RATE) - start  # then the end of the file, not more pieces
    if other is not None:
        other.close()


def test_interleaved_mp3_decoding_gives_ffmpegs_planar_samples_exactly(tmp_path):
    import av

    path = write_mp3(tmp_path / "n.mp3", noise(21, 3.0))
    with av.open(str(path)) as container:  # FFmpeg's own default: planar float, frame by frame
        planar = np.concatenate([frame.to_ndarray().T for frame in container.decode(audio=0)])
    decoder = AvDecoder(path, RATE, 2)
    assert decoder.read_into(np.zeros((1, 2), np.float32)) == 1
    assert decoder._chunk.shape[1] == 2  # the chunks it reads from are interleaved
    decoder.close()
    assert planar.shape[0] > 3 * RATE - 1000
    assert np.array_equal(read_all(AvDecoder(path, RATE, 2), planar.shape[0]), planar)


@pytest.mark.parametrize("make", DECODERS)
def test_a_gain_applied_while_copying_out_is_the_gain_applied_after(tmp_path, make):
    path = write_mp3(tmp_path / "n.mp3", noise(22, 4.0))
    plain, scaled = make(path, RATE, 2), make(path, RATE, 2)
    gain = 10 ** (-2.5 / 20)
    for size in (1000, decode_workers.SLOT_FRAMES + 3, 3 * RATE):  # across chunks and ring slots, past the end
        a, b = np.zeros((size, 2), np.float32), np.ones((size, 2), np.float32)
        assert plain.read_into(a) == scaled.read_into(b, gain)
        a *= np.float32(gain)
        assert np.array_equal(a, b)
    plain.close()
    scaled.close()


def test_decoding_inside_ffmpeg_from_the_start_gives_the_frame_by_frame_samples(tmp_path, monkeypatch):
    path = write_mp3(tmp_path / "n.mp3", noise(23, 3.0))
    graph = AvDecoder(path, RATE, 2)
    assert graph._graph is not None  # an MP3 at the station rate from its start: decoded in the graph
    a = read_all(graph, 3 * RATE + 100)
    monkeypatch.setattr(AvDecoder, "_plain_float_stream", lambda self: False)
    frames = AvDecoder(path, RATE, 2)
    assert frames._graph is None
    assert np.array_equal(read_all(frames, 3 * RATE + 100), a)
    assert np.abs(a[:3 * RATE]).max() > 0.1 and not a[3 * RATE:].any()


def test_a_decoder_closed_before_any_read_lets_go_of_its_file(tmp_path):
    import os

    path = write_mp3(tmp_path / "n.mp3", noise(24, 1.0))
    decoder = AvDecoder(path, RATE, 2)
    assert decoder._graph is not None
    decoder.close()
    fds = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
           if os.path.exists(f"/proc/self/fd/{fd}")]
    assert str(path) not in fds
