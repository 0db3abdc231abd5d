"""Stream-decode an audio file to float32 frames at the station rate: PyAV in-process, or an ffmpeg pipe.

`open_decoder()` picks PyAV when it is installed, else one ffmpeg process per file being played. The mixer
reads as many frames as it needs per block into a buffer it owns, so memory stays at one chunk of decoded
frames (`CHUNK_FRAMES`) per file however long the file is. `offset` seeks (like ffmpeg `-ss` before `-i`: to
the packet before, then trimmed to the exact frame) to resume an item mid-way after a restart. A file that ends
early, cannot be read or does not exist yields silence; `error` then says why.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
import threading
from pathlib import Path

import numpy as np

from broadcaster.sound.pcm import PcmDecoder, open_pcm

F_SETPIPE_SZ = 1031  # Linux fcntl; not in Python's fcntl module before 3.10 on all builds
PIPE_BYTES = 1 << 20  # the default pipe-max-size for unprivileged processes: about 3 s of stereo float32
# An MP3 frame needs the one before it (overlap) and up to 511 bytes of earlier ones (bit reservoir): decoded
# cold after a seek, the first ~40 ms came out wrong (up to 0.39 off). From 0.1 s earlier the samples are those
# of decoding from the start, bit for bit (measured); 0.5 s leaves room for low bit rates.
SEEK_WARM_UP = 0.5
CHUNK_FRAMES = 16384  # AvDecoder hands over decoded audio in chunks of this many frames (0.37 s at 44.1 kHz)


class Decoder:
    def __init__(self, path: str | Path, sample_rate: int, channels: int, *, offset: float = 0.0,
                 loop: bool = False):
        self.path = Path(path)
        self.channels = channels
        self.error: str | None = None
        self.frames_read = 0
        self._eof = False
        cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error"]
        if loop:
            cmd += ["-stream_loop", "-1"]  # a music bed shorter than the speech over it repeats
        if offset > 0:
            cmd += ["-ss", f"{offset:.6f}"]
        cmd += ["-i", str(self.path), "-map", "0:a:0", "-vn", "-f", "f32le", "-acodec", "pcm_f32le",
                "-ac", str(channels), "-ar", str(sample_rate), "-"]
        if not self.path.is_file():
            self._proc = None
            self.error = f"file not found: {self.path}"
            self._eof = True
            return
        # stderr to a file, not a pipe: a damaged file can print more than a pipe holds and stall ffmpeg.
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=self._stderr, bufsize=0)
        try:  # a bigger pipe lets ffmpeg decode further ahead of the mixer, on another core (Linux only)
            fcntl.fcntl(self._proc.stdout.fileno(), F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:
            pass

    def read_into(self, out: np.ndarray, gain: float = 1.0) -> int:
        """Fill `out` (frames × channels float32, C-contiguous) with the next frames times `gain`; zero what is
        left after the end of the file. Returns how many frames came from the file."""
        want = out.shape[0]
        if self._eof or self._proc is None:
            out.fill(0.0)
            return 0
        raw = memoryview(out.reshape(-1)).cast("B")
        got = 0
        total = len(raw)
        while got < total:
            n = self._proc.stdout.readinto(raw[got:])
            if not n:
                self._finish()
                break
            got += n
        frames = got // (4 * self.channels)
        if frames < want:
            out[frames:].fill(0.0)
        if gain != 1.0:
            out *= np.float32(gain)
        self.frames_read += frames
        return frames

    def _finish(self) -> None:
        self._eof = True
        if self._proc is None:
            return
        code = self._proc.wait()
        self._stderr.seek(0)
        err = self._stderr.read(4000).decode("utf-8", "replace").strip()
        if code != 0 or (err and self.frames_read == 0):
            self.error = f"ffmpeg could not decode {self.path.name}: {err or f'exit {code}'}"

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._proc is not None:
            self._proc.stdout.close()
            self._stderr.close()
            self._proc = None
        self._eof = True


def probe_duration(path: str | Path) -> float:
    """Length of an audio file in seconds (ffprobe), for break-ins that are not in the plan."""
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                          "default=nw=1:nk=1", str(path)], capture_output=True, text=True, check=False)
    try:
        return float(out.stdout.strip())
    except ValueError:
        raise ValueError(f"cannot read the length of {path}: {out.stderr.strip() or 'no duration'}") from None




class ChunkReader:
    """`read_into` for a reader that holds decoded frames a chunk at a time (PyAV's chunks, a worker's ring
    slot, a read-ahead buffer): the subclass keeps `_chunk`, `_chunk_at`, `_chunk_size` and `frames_read`, and
    refills the chunk in `_next_chunk()`, False at the end."""

    _chunk: np.ndarray
    _chunk_at: int
    _chunk_size: int
    frames_read: int

    def _next_chunk(self) -> bool:
        raise NotImplementedError

    def read_into(self, out: np.ndarray, gain: float = 1.0) -> int:
        """As `Decoder.read_into`: the gain is applied as the frames are copied out (no pass of its own)."""
        want, got = out.shape[0], 0
        while got < want:
            if self._chunk_at == self._chunk_size and not self._next_chunk():
                break
            at = self._chunk_at
            take = min(want - got, self._chunk_size - at)
            copy_with_gain(self._chunk[at:at + take], out[got:got + take], gain)
            self._chunk_at += take
            got += take
        if got < want:
            out[got:].fill(0.0)
        self.frames_read += got
        return got


class AvDecoder(ChunkReader):
    """The same contract as `Decoder`, decoding in-process with PyAV (FFmpeg's own libraries, so the same
    codecs, resampler and MP3 gapless handling as the ffmpeg command). It saves the ~60 ms of CPU an ffmpeg
    process takes to start, per item: a third of the CPU of a simulated day with 30 s items.

    The decoder is asked for interleaved float (FFmpeg's MP3 decoder gives it: the same samples as its planar
    output), the layout the mixer reads; other codecs go through the resampler to it. Decoded frames are
    gathered into chunks of `CHUNK_FRAMES` with one memoryview copy per frame (far cheaper than numpy calls per
    1152-frame MP3 frame; planar output cost a copy per channel and a strided pass in `read_into`), decoded
    when `read_into` needs them.
    (Decoding ahead in a thread was tried: PyAV hands the GIL over on every frame, and two decoding threads
    used 40 % more CPU for no gain in wall time. To use the other core, see `decode_workers`.)"""

    def __init__(self, path: str | Path, sample_rate: int, channels: int, *, offset: float = 0.0,
                 loop: bool = False):
        import av

        self._av = av
        self.path = Path(path)
        self.channels = channels
        self.sample_rate = sample_rate
        self.loop = loop
        self.error: str | None = None
        self.frames_read = 0
        self._chunk: np.ndarray = np.zeros((0, channels), np.float32)  # the chunk being read, and where
        self._chunk_at = self._chunk_size = 0
        self._eof = True
        self._container = None
        self._graph = self._sink = None
        if not self.path.is_file():
            self.error = f"file not found: {self.path}"
            return
        try:  # opened here, not in a thread: a file FFmpeg cannot open fails the item at once
            self._open(offset)
            if offset <= 0 and not loop and self._plain_float_stream():
                self._open_graph()
        except (av.FFmpegError, IndexError, ValueError) as err:
            self.error = f"cannot decode {self.path.name}: {err}"
            self._close_container()
            return
        self._eof = False
        self._source = self._chunks(offset)

    def _open(self, offset: float) -> None:
        av = self._av
        self._container = av.open(str(self.path))
        self._stream = stream = self._container.streams.audio[0]
        stream.codec_context.options = {"request_sample_fmt": "flt"}  # interleaved, if the decoder can
        if offset > SEEK_WARM_UP:
            origin = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
            # to the packet at or before it, a little early: the frames before `offset` are decoded and dropped
            self._container.seek(int((offset - SEEK_WARM_UP + origin) * av.time_base))

    def _plain_float_stream(self) -> bool:
        """Float samples at the station's rate and channels (MP3 at 44.1 kHz stereo): nothing to resample."""
        ctx = self._stream.codec_context
        return (ctx.format is not None and ctx.format.name in ("flt", "fltp") and ctx.sample_rate == self.sample_rate
                and len(ctx.layout.channels) == self.channels)

    def _open_graph(self) -> None:
        """From the start of a plain float stream, decode inside FFmpeg (amovie: demuxer and decoder, then
        interleaved in chunks of CHUNK_FRAMES): one Python call per chunk instead of one per 1152-frame MP3
        frame, for the same samples (tested): 2.01-2.04 against 2.07-2.10 CPU-s for the 120 bench MP3s. Seeks and
        loops keep `_frames` (its exact seek), and so does anything that needs resampling."""
        av = self._av
        index = self._stream.index
        self._close_container()
        graph = av.filter.Graph()
        chain = [graph.add("amovie", filename=str(self.path), si=str(index)),
                 graph.add("aformat", sample_fmts="flt"),
                 graph.add("asetnsamples", n=str(CHUNK_FRAMES), p="0"),
                 graph.add("abuffersink")]
        for a, b in zip(chain, chain[1:]):
            a.link_to(b)
        graph.configure()  # opens the file: one FFmpeg cannot read fails here, at once
        self._graph, self._sink = graph, chain[-1]

    # ---- decoding -----------------------------------------------------------------------------------------
    def _graph_chunks(self):
        """(chunk, frames) pulled from the graph; a chunk is the frame's own memory, kept while it is read."""
        while True:
            try:
                frame = self._sink.pull()
            except self._av.error.EOFError:
                return
            frames = frame.samples
            yield np.frombuffer(frame.planes[0], np.float32, frames * self.channels).reshape(frames, -1), frames

    def _chunks(self, offset: float):
        """(interleaved chunk, frames) until the end of the file, then (None, error or None)."""
        error = None
        try:
            while self._graph is None:
                given = yield from self._fill(offset)
                if not (self.loop and given):
                    break
                self._container.close()
                self._open(0.0)  # a bed shorter than the speech over it starts again
                offset = 0.0
            if self._graph is not None:
                yield from self._graph_chunks()
        except self._av.FFmpegError as err:  # damaged data mid-file: the rest is silence
            error = f"cannot decode {self.path.name}: {err}"
        except (IndexError, ValueError) as err:  # no audio stream after a loop's reopen, bad seek
            error = f"cannot decode {self.path.name}: {type(err).__name__}: {err}"
        finally:
            self._close_container()
            self._graph = self._sink = None
        yield None, error

    def _fill(self, offset: float):
        """Decode the open file to its end into chunks; returns how many frames it gave."""
        chunk, view = self._take_chunk()
        width = 4 * self.channels  # bytes per frame
        at, total, full = 0, 0, CHUNK_FRAMES * width  # byte positions in the chunk
        for frame, skip in self._frames(offset):
            plane = frame.planes[0]
            size = frame.samples * width
            if not skip and at + size < full:  # the common case, kept lean: the whole frame fits
                view[at:at + size] = plane if plane.buffer_size == size else memoryview(plane)[:size]
                at += size
                continue
            data = memoryview(plane)
            src = skip * width
            while src < size:
                take = min(size - src, full - at)
                view[at:at + take] = data[src:src + take]  # a memoryview copy: far cheaper than numpy per frame
                at += take
                src += take
                if at == full:
                    yield chunk, CHUNK_FRAMES
                    total += CHUNK_FRAMES
                    chunk, view = self._take_chunk()
                    at = 0
        if at:
            yield chunk, at // width
            total += at // width
        else:
            _give_buffer(chunk)
        return total

    def _take_chunk(self) -> tuple[np.ndarray, memoryview]:
        chunk = _take_buffer(self.channels)
        return chunk, memoryview(chunk).cast("B")

    def _frames(self, offset: float):
        """(interleaved float frame at the station rate, frames to skip at its start): straight from the decoder
        when it already gives that (most MP3s), else through the resampler; trimmed to the exact frame after
        a seek, like ffmpeg -ss."""
        stream = self._stream
        resampler, skip, first = None, 0, True
        for packet in self._container.demux(stream):
            for frame in packet.decode():
                if first:  # decide once, per-frame attribute reads are costly in PyAV
                    first = False
                    if not (frame.format.name == "flt" and frame.sample_rate == self.sample_rate
                            and len(frame.layout.channels) == self.channels):
                        layout = "mono" if self.channels == 1 else "stereo"
                        resampler = self._av.AudioResampler(format="flt", layout=layout, rate=self.sample_rate)
                    if offset > 0 and frame.pts is not None:
                        origin = stream.start_time or 0  # MP3 encoder delay shows up as a start time
                        start = float((frame.pts - origin) * frame.time_base)
                        skip = max(0, round((offset - start) * self.sample_rate))
                if resampler is not None:
                    for out in resampler.resample(frame):
                        cut = min(skip, out.samples)
                        skip -= cut
                        yield out, cut
                elif skip:
                    cut = min(skip, frame.samples)
                    skip -= cut
                    yield frame, cut
                else:  # most frames: no per-frame attribute reads here, they are costly in PyAV
                    yield frame, 0
        if resampler is not None:
            for out in resampler.resample(None):
                yield out, 0

    def _close_container(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    # ---- the mixer's side -----------------------------------------------------------------------------------
    def _next_chunk(self) -> bool:
        if self._eof:
            return False
        if self._chunk_size:  # the one just read out can be filled again
            _give_buffer(self._chunk)
        chunk, frames = next(self._source)
        if chunk is None:
            self._eof = True
            self._chunk_at = self._chunk_size = 0
            if frames and not self.error:
                self.error = frames
            return False
        self._chunk, self._chunk_at, self._chunk_size = chunk, 0, frames
        return True

    def close(self) -> None:
        if not self._eof:
            self._source.close()  # runs its finally: the file is closed
        self._close_container()
        self._graph = self._sink = None  # a graph never read from (its generator never ran) holds the file too
        if self._chunk_size:
            _give_buffer(self._chunk)
        self._eof = True
        self._chunk_at = self._chunk_size = 0


# Chunks are reused across decoders and items: fresh allocations of this size are mmap()ed and page-faulted
# in anew each time, which is slow here.
_spare: dict[int, list[np.ndarray]] = {}
_spare_lock = threading.Lock()
# A decoding worker is forked (decode_workers) while no other thread should be here; if one were, the lock
# would stay taken in the child for ever.
os.register_at_fork(after_in_child=lambda: globals().update(_spare_lock=threading.Lock()))
SPARE_CHUNKS = 16  # at most this many unused chunks are kept (2 MB of stereo float32)


def _take_buffer(channels: int) -> np.ndarray:
    with _spare_lock:
        spare = _spare.get(channels)
        if spare:
            return spare.pop()
    return np.empty((CHUNK_FRAMES, channels), np.float32)  # interleaved, like the decoder's frames


def _give_buffer(chunk: np.ndarray) -> None:
    if not chunk.flags.owndata:
        return  # a frame's memory (the graph): not ours to fill again
    with _spare_lock:
        spare = _spare.setdefault(chunk.shape[1], [])
        if len(spare) < SPARE_CHUNKS:
            spare.append(chunk)


def copy_with_gain(src: np.ndarray, dst: np.ndarray, gain: float) -> None:
    """dst = src × gain in one pass (the decoders' read_into, for the mixer)."""
    if gain == 1.0:
        dst[...] = src
    else:  # the same float32 product as copying, then scaling in place
        np.multiply(src, np.float32(gain), out=dst)


def open_decoder(path: str | Path, sample_rate: int, channels: int, *, offset: float = 0.0,
                 loop: bool = False) -> Decoder | AvDecoder | PcmDecoder:
    """A WAV already in the station's format is read, not decoded (`pcm`); else PyAV when installed (faster),
    else an ffmpeg process."""
    pcm = open_pcm(path, sample_rate, channels, offset=offset, loop=loop)
    if pcm is not None:
        return pcm
    try:
        import av  # noqa: F401
    except ImportError:
        return Decoder(path, sample_rate, channels, offset=offset, loop=loop)
    return AvDecoder(path, sample_rate, channels, offset=offset, loop=loop)
