"""Where mixed audio goes: the sound card (sounddevice or simpleaudio), a WAV file, or nowhere.

A `Sink` takes float32 blocks (frames × channels) and blocks the caller until it has taken them. Real-time
sinks also say when a given frame is heard (`heard_time`), which is how the engine starts items on time and
logs when they really aired. A sound card that is missing, or that stops taking audio mid-slot, raises
`SinkFailure`; the engine decides what to do (retry, fall back to the next device, log it).
"""

from __future__ import annotations

import collections
import queue
import threading
import time
import wave
from pathlib import Path
from typing import Protocol

import numpy as np

from broadcaster.sound.writeback import RollingWriteback


class SinkFailure(Exception):
    """The sound device is missing or stopped working."""

    def __init__(self, device: str, reason: str):
        super().__init__(f"sound device {device!r}: {reason}")
        self.device = device
        self.reason = reason


class Sink(Protocol):
    name: str
    realtime: bool  # True: write() is paced by a sound card; False: as fast as the caller goes
    frames_written: int
    underruns: int

    def open(self) -> None: ...

    def write(self, block: np.ndarray) -> None: ...

    def heard_time(self, frame: int) -> float | None:
        """time.monotonic() at which sink frame `frame` (counted from open) is heard; None if not known yet
        (or for sinks that are not real-time)."""

    def wake(self) -> None:
        """From any thread: a write() blocked waiting for the device returns as soon as it can."""

    def discard(self, device: bool = True) -> int:
        """Drop audio written but not yet heard, as far as the backend allows (an emergency should not wait for
        it; `device=False`: only what the sink queues itself, never restarting the device); returns how many
        frames were dropped. The next frame written is heard right after the last one kept, and sink frame
        numbers go back by that many."""

    def close(self, drain: bool = True) -> None: ...


def _to_int16(block: np.ndarray, scratch: np.ndarray | None = None) -> bytes:
    """Float [-1, 1] to 16-bit PCM bytes, rounding to nearest; in place in `scratch` when given."""
    tmp = scratch[:block.shape[0]] if scratch is not None and scratch.shape[0] >= block.shape[0] else None
    tmp = np.multiply(block, 32767.0, out=tmp)
    np.clip(tmp, -32767.0, 32767.0, out=tmp)
    np.rint(tmp, out=tmp)
    return tmp.astype("<i2").tobytes()


class NullSink:
    """Discards everything (simulate --no-audio still mixes every block)."""

    realtime = False

    def __init__(self, name: str = "null"):
        self.name = name
        self.frames_written = 0
        self.underruns = 0

    def open(self) -> None:
        self.frames_written = 0

    def write(self, block: np.ndarray) -> None:
        self.frames_written += block.shape[0]

    def heard_time(self, frame: int) -> float | None:
        return None

    def wake(self) -> None:
        pass

    def discard(self, device: bool = True) -> int:
        return 0

    def close(self, drain: bool = True) -> None:
        pass


class WavFileSink:
    """16-bit PCM WAV written as it goes (the header is patched on every write, so a crash leaves a
    readable file)."""

    realtime = False

    def __init__(self, path: str | Path, sample_rate: int, channels: int):
        self.path = Path(path)
        self.name = str(self.path)
        self.sample_rate = sample_rate
        self.channels = channels
        self.frames_written = 0
        self.underruns = 0
        self._wav: wave.Wave_write | None = None
        self._scratch = np.zeros((0, channels), np.float32)
        self._pcm = np.zeros((0, channels), "<i2")

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "wb")
        self._wav = wave.open(self._file, "wb")
        self._wav.setnchannels(self.channels)
        self._wav.setsampwidth(2)
        self._wav.setframerate(self.sample_rate)
        self._writeback = RollingWriteback(self._file.fileno())
        self.frames_written = 0

    def write(self, block: np.ndarray) -> None:
        # In reused buffers (a fresh array per block is mmap()ed and page-faulted in), and rint straight into
        # the 16-bit buffer (one pass less than rint, then a cast).
        n = block.shape[0]
        if self._scratch.shape[0] < n:
            self._scratch = np.zeros(block.shape, np.float32)
            self._pcm = np.zeros(block.shape, "<i2")
        tmp = np.multiply(block, 32767.0, out=self._scratch[:n])
        np.clip(tmp, -32767.0, 32767.0, out=tmp)
        pcm = np.rint(tmp, out=self._pcm[:n], casting="unsafe")
        self._wav.writeframes(pcm)
        self.frames_written += n
        self._file.flush()
        self._writeback.advance(self._file.tell())

    def heard_time(self, frame: int) -> float | None:
        return None

    def wake(self) -> None:
        pass

    def discard(self, device: bool = True) -> int:
        return 0  # a file has no listener ahead of it: everything written counts

    def close(self, drain: bool = True) -> None:
        if self._wav is not None:
            self._wav.close()
            self._file.close()
            self._wav = None


def _median(values: list[float]) -> float:
    """The median of a short list (np.median's overhead per call is too much on every callback)."""
    v = sorted(values)
    k = len(v) // 2
    return v[k] if len(v) % 2 else 0.5 * (v[k - 1] + v[k])


def _device_arg(device: str | int | None) -> str | int | None:
    if device is None or device == "default":
        return None
    if isinstance(device, int) or str(device).isdigit():
        return int(device)
    return device


class SoundDeviceSink:
    """A continuous PortAudio output stream (never `sd.play()`, which clips the start and end of each call).

    The stream's callback takes blocks from a short queue; `write()` waits for room. When the callback stops
    taking audio (device gone, sound server dead) `write()` times out and raises `SinkFailure` instead of
    hanging the engine.

    When a frame is heard (`heard_time`): frame p of the stream (counting the silence the callback fills in) is
    heard at `base + p / rate`. Every callback gives an estimate of `base` from PortAudio's DAC time (mapped to
    the monotonic clock) minus the frames handed over before it. One callback's figure is not to be trusted
    on its own: through ALSA → PulseAudio the first callbacks report a latency of 0, and a callback can run
    late on a busy machine. So the estimates are pooled `calibrate_callbacks` at a time into medians
    (`heard_time` is None until the first median), and once the medians span `rate_span_seconds` a straight
    line is fitted through them: a sound card's sample clock is not the monotonic clock, and a `base` frozen
    at the start drifts off by the device's rate error (docs/benchmarks.md, "device rate").
    After an underrun (silence nobody counted went on the air) the fit starts afresh."""

    realtime = True
    settle_seconds = 0.0  # heard_time() itself says None until the stream is measured
    skip_callbacks = 4  # PortAudio's first callbacks prime the buffer: their DAC times are off
    calibrate_callbacks = 8  # estimates pooled into one median (~0.4 s at 2048 frames, 44.1 kHz)
    rate_span_seconds = 20.0  # medians spanning this long before the device's own rate is fitted
    history = 1024  # medians kept for the fit (~6 minutes at 2048 frames)
    flush_above = 0.15  # s of device latency above which discard() also drops what PortAudio holds
    refit_seconds = 5.0  # how often the line is refitted once the rate is known
    max_drift = 1e-3  # the device's rate is trusted to be within 1000 ppm of nominal
    adapt_rate = True  # repeat/drop single samples so the device plays sink frames at the nominal rate

    def __init__(self, device: str | int | None, sample_rate: int, channels: int, block_frames: int, *,
                 latency: float = 0.1, queue_seconds: float = 0.4, stall_timeout: float = 2.0):
        self.device = device
        self.name = f"sounddevice:{device if device is not None else 'default'}"
        self.sample_rate = sample_rate
        self.channels = channels
        self.block_frames = block_frames
        self.latency = latency
        self.stall_timeout = stall_timeout
        self.frames_written = 0
        self.underruns = 0
        # What we keep ahead of PortAudio: rides out scheduling hiccups on a busy machine; an emergency
        # break-in reaches the air this much later.
        # (at least two blocks: the callback takes a whole block at a time. The engine drops the silence queued
        # while the sink warms up, Engine's align, so a deep queue does not delay the first item.)
        self._capacity = max(2 * block_frames, round(queue_seconds * sample_rate))
        self._queue: queue.Queue[np.ndarray] = queue.Queue()
        self._room = threading.Event()  # set by the callback whenever it took audio
        self._current: np.ndarray | None = None
        self._spare: list[np.ndarray] = []  # blocks the callback has played out, for write() to reuse
        self._current_pos = 0
        self._consumed = 0  # sink frames handed to PortAudio (silence fill excluded)
        self._played = 0  # stream frames handed to PortAudio (silence fill included)
        self._callbacks = 0
        # The warm-up is counted in time, not callbacks, so a restart lines up as fast with big blocks:
        # 4 and 8 callbacks at 2048 frames (0.19 s and 0.37 s at 44.1 kHz), fewer with bigger blocks.
        self._skip = max(1, round(self.skip_callbacks * 2048 / block_frames))
        self._pool = max(2, round(self.calibrate_callbacks * 2048 / block_frames))
        self._estimates: list[float] = []  # estimates of the base not yet pooled
        self._history: collections.deque[tuple[int, float]] = collections.deque(maxlen=self.history)
        self._fit: tuple[int, float, float] | None = None  # (stream frame p0, base at p0, base change per frame)
        self._rate_error = 0.0  # device rate / nominal - 1, as fitted
        self._adapt_from = 0  # sink frame from which the rate error counts
        self._adapted = 0  # stream frames added (+) or dropped (-) so far to keep the nominal rate
        self._scratch = np.zeros((0, channels), np.float32)
        self._anchor: tuple[int, int] = (0, 0)  # (sink frame, stream frame) at the last callback
        self._stream = None
        self._error: str | None = None
        self._lock = threading.Lock()
        self._feed_lock = threading.Lock()
        self._paused = False  # stream aborted by discard(), not yet started again
        self._woken = False  # wake() was called
        self._restarted: tuple[float, int] | None = None  # (monotonic time, stream frame) of the restart
        self.restart_delay = 0.1  # s from a restart to its first frame heard; measured after each restart

    def open(self) -> None:
        try:
            import sounddevice as sd
        except OSError as err:  # libportaudio2 missing raises OSError, not ImportError
            raise SinkFailure(str(self.device), f"PortAudio not available: {err}") from err
        self._sd = sd
        device = _device_arg(self.device)
        try:
            try:
                sd.query_devices(device, "output")
            except (ValueError, sd.PortAudioError):
                # PortAudio lists devices once per initialisation: re-scan to see a device that came back.
                # (This invalidates other streams of this process; the engine has only one.)
                sd._terminate()
                sd._initialize()
                sd.query_devices(device, "output")
            self._stream = sd.OutputStream(
                samplerate=self.sample_rate, channels=self.channels, dtype="float32", device=device,
                blocksize=self.block_frames, latency=self.latency, callback=self._callback,
                finished_callback=self._finished)
            self._stream.start()
        except (ValueError, sd.PortAudioError) as err:
            self._stream = None
            raise SinkFailure(str(self.device), str(err)) from err

    def _measure(self, t, status) -> None:
        """One more estimate of the base from this callback's DAC time; refit the clock when due."""
        self._callbacks += 1
        # the device played silence nobody counted: measure afresh (a stream restarted by discard() reports
        # underflows as it starts: nothing was lost there, and its provisional timing stays until measured)
        if status.output_underflow and self._restarted is None:
            self.underruns += 1
            self._estimates.clear()
            self._history.clear()
            with self._lock:
                self._fit, self._rate_error, self._adapt_from, self._adapted = None, 0.0, self._consumed, 0
            return
        ahead = t.outputBufferDacTime - t.currentTime
        if self._callbacks <= self._skip or not 0.0 < ahead < 2.0:
            return
        # PortAudio's ALSA clock is wall time here: the monotonic clock now, so a wall-clock step cannot move it.
        self._estimates.append(time.monotonic() + ahead - self._played / self.sample_rate)
        if len(self._estimates) < self._pool:
            return
        self._history.append((self._played, _median(self._estimates)))
        self._estimates.clear()
        if self._restarted is not None:  # first measurement after discard() restarted the stream
            started, played = self._restarted
            delay = self._history[-1][1] + played / self.sample_rate - started
            if 0.01 < delay < 2.0:  # about one block (PortAudio primes the device); odd readings are ignored
                self.restart_delay = delay
            self._restarted = None
        ref = self._history[-1][0]
        if ref - self._history[0][0] < self.rate_span_seconds * self.sample_rate:
            fit = (ref, _median([h[1] for h in self._history]), 0.0)  # too short to see the rate: nominal rate
        elif self._fit is not None and self._fit[2] != 0.0 \
                and ref - self._fit[0] < self.refit_seconds * self.sample_rate:
            return  # the line still holds: refitting on every callback costs CPU for nothing
        else:
            played = np.fromiter((h[0] for h in self._history), np.float64, len(self._history))
            base = np.fromiter((h[1] for h in self._history), np.float64, len(self._history))
            slope, at_ref = np.polyfit(played - ref, base, 1)
            slope = float(np.clip(slope * self.sample_rate, -self.max_drift, self.max_drift)) / self.sample_rate
            fit = (ref, float(at_ref), slope)
        with self._lock:
            if fit[2] != 0.0 and self.adapt_rate:
                # stream frames per sink frame - 1; base falling by `slope` per frame = device that fast
                self._rate_error = -fit[2] * self.sample_rate / (1.0 + fit[2] * self.sample_rate)
            self._fit = fit

    def _callback(self, outdata, frames, t, status) -> None:
        self._measure(t, status)
        with self._feed_lock:  # discard() may empty the queue from the engine's thread
            self._feed(outdata, frames)
        self._room.set()

    def _feed(self, outdata, frames) -> None:
        with self._lock:
            self._anchor = (self._consumed, self._played)
        # Keep the device on the nominal rate: it plays `1 + rate_error` stream frames per nominal second, so
        # that many more (or fewer) frames go out than the queue gives: one sample repeated (or dropped) every
        # 1 / |rate_error| frames, inaudible, and sink frames are then heard at the nominal rate.
        with self._lock:
            owed = round(self._rate_error * (self._consumed - self._adapt_from) - self._adapted)
        # One sample per 1024 frames allows ~1000 ppm (max_drift) at any block size; a fixed count per
        # callback would not keep up with big blocks. Single samples, not np.interp of the block: less CPU.
        limit = max(2, frames // 1024)
        owed = max(-limit, min(limit, owed))
        want = frames - owed
        if self._scratch.shape[0] < want:
            self._scratch = np.zeros((want + 2, self.channels), np.float32)
        buf = self._scratch[:want]
        filled = 0
        while filled < want:
            if self._current is None:
                try:
                    self._current = self._queue.get_nowait()
                    self._current_pos = 0
                except queue.Empty:
                    break
            take = min(want - filled, self._current.shape[0] - self._current_pos)
            buf[filled:filled + take] = self._current[self._current_pos:self._current_pos + take]
            filled += take
            self._current_pos += take
            if self._current_pos >= self._current.shape[0]:
                if len(self._spare) < 4:
                    self._spare.append(self._current)  # write() may fill it again
                self._current = None
        if filled < want:  # ran dry: no rate adaptation in this callback
            outdata[:filled] = buf[:filled]
            outdata[filled:] = 0.0
            owed = 0
            if self.frames_written > self._consumed + filled:  # data existed but came too late
                self.underruns += 1
        elif owed:  # repeat (or drop) |owed| single samples spread evenly over the block
            k, src, dst = abs(owed), 0, 0
            for j in range(1, k + 1):
                cut = want * j // (k + 1)
                outdata[dst:dst + cut - src] = buf[src:cut]
                dst += cut - src
                src = cut
                if owed > 0:
                    outdata[dst] = buf[cut - 1]
                    dst += 1
                else:
                    src += 1
            outdata[dst:] = buf[src:want]
        else:
            outdata[:] = buf
        with self._lock:
            self._consumed += filled
            self._played += frames
            self._adapted += owed

    def _finished(self) -> None:
        if self._error is None and not self._paused:
            self._error = "the output stream stopped"
        self._room.set()  # a write() waiting for room sees it now

    def _copy(self, block: np.ndarray) -> np.ndarray:
        """`block` copied into a buffer the callback has finished with (a fresh array per block is mmap()ed
        and page-faulted in each time)."""
        try:
            data = self._spare.pop()
        except IndexError:
            data = None
        if data is None or data.shape != block.shape:
            return np.array(block, dtype=np.float32, copy=True)
        np.copyto(data, block)
        return data

    def write(self, block: np.ndarray) -> None:
        if self._stream is None:
            raise SinkFailure(str(self.device), "not open")
        data = self._copy(block)  # the engine reuses its buffer
        if self._paused and self.frames_written - self._consumed >= self._capacity:
            self._restart()
        deadline = time.monotonic() + self.stall_timeout
        while self.frames_written - self._consumed >= self._capacity:  # wait for room, not forever
            if self._error or not self._stream.active:
                raise SinkFailure(str(self.device), self._error or "the output stream stopped")
            left = deadline - time.monotonic()
            if left < 0:
                raise SinkFailure(str(self.device), f"took no audio for {self.stall_timeout:.1f} s")
            if self._woken:  # a request waits behind this write: take the block over the limit, once
                break
            self._room.clear()
            if self.frames_written - self._consumed >= self._capacity:
                # One wake-up per callback (the callback, wake() and the stream's end set _room): no polling.
                # The 0.5 s cap looks at `active` again, should a stream stop without its finished callback.
                self._room.wait(min(left, 0.5))
        self._woken = False
        self._queue.put(data)
        self.frames_written += data.shape[0]

    def wake(self) -> None:
        """From any thread: a write() waiting for room returns now (a wait lasts up to a block, and the engine
        takes requests between writes)."""
        self._woken = True
        self._room.set()

    def discard(self, device: bool = True) -> int:
        """Drop what waits in our queue (up to `queue_seconds`, or two blocks) and, when the device holds more
        than `flush_above` seconds (big blocks), what PortAudio holds too: the stream is aborted at once and
        started again by `write()` once the queue is full again (started empty, PortAudio would prime its
        buffer with silence). The frames dropped are those not heard when the stream stopped, by the clock
        fit; the clock is then measured afresh, as after an underrun."""
        with self._feed_lock:
            dropped = self.frames_written - self._consumed
            self._queue = queue.Queue()
            self._current = None
            self.frames_written = self._consumed
        self._room.set()
        stream = self._stream
        if not device or stream is None or self._paused or stream.latency <= self.flush_above \
                or self.heard_time(0) is None:
            return dropped
        self._paused = True  # before abort(): its finished callback is not a failure
        try:
            stream.abort()
        except self._sd.PortAudioError as err:
            self._error = f"could not stop the stream: {err}"
            return dropped
        stopped = time.monotonic()
        with self._feed_lock:
            h0, h1 = self.heard_time(self._consumed), self.heard_time(self._consumed + self.sample_rate)
            held = min(self._consumed, max(0, round((h0 - stopped) * self.sample_rate / (h1 - h0))))
            self._consumed -= held
            self.frames_written = self._consumed
            self._estimates.clear()
            self._history.clear()
            self._callbacks = 0
            with self._lock:
                self._fit, self._rate_error, self._adapt_from, self._adapted = None, 0.0, self._consumed, 0
                self._anchor = (self._consumed, self._played)
                self._provisional(stopped)  # the engine renders (and logs) before the stream runs again
        return dropped + held

    @property
    def provisional(self) -> bool:
        """True from a restart by discard() until the restarted stream is measured: `heard_time` is a guess
        (the last restart's delay) meanwhile."""
        return self._restarted is not None

    def _provisional(self, started: float) -> None:
        """Until the restarted stream is measured (~0.5 s), its first frame is taken to be heard
        `restart_delay` after it starts, as measured last time (under self._lock)."""
        self._restarted = (started, self._played)
        self._fit = (self._played, started + self.restart_delay - self._played / self.sample_rate, 0.0)

    def _restart(self) -> None:
        try:
            self._stream.start()
        except self._sd.PortAudioError as err:
            raise SinkFailure(str(self.device), f"could not restart the stream: {err}") from err
        self._paused = False
        with self._lock:
            self._provisional(time.monotonic())

    def heard_time(self, frame: int) -> float | None:
        """Sink frames not yet handed over are heard right after the last one handed over (the queue plays on
        without gaps unless it runs dry, which is an underrun)."""
        with self._lock:
            fit, (consumed, played), rate_error = self._fit, self._anchor, self._rate_error
        if fit is None:
            return None
        p0, base, slope = fit
        p = played + (frame - consumed) * (1.0 + rate_error)
        return base + slope * (p - p0) + p / self.sample_rate

    def close(self, drain: bool = True) -> None:
        if self._stream is None:
            return
        if self._paused and drain:
            self._restart()
        if drain:
            deadline = time.monotonic() + self.stall_timeout + len(self._queue.queue) * 0.5
            while (self._consumed < self.frames_written and time.monotonic() < deadline
                   and self._stream.active and not self._error):
                time.sleep(0.01)
            # What PortAudio and the sound server hold after our last frame: until the sink's clock says the
            # last frame is heard (stream.latency alone is too short with big blocks).
            heard_end = self.heard_time(self.frames_written)
            time.sleep(self._stream.latency if heard_end is None else max(0.0, heard_end - time.monotonic()) + 0.02)
        try:
            self._stream.abort()
            self._stream.close()
        except self._sd.PortAudioError:
            pass
        self._stream = None


class SimpleAudioSink:
    """simpleaudio backend. Honest limits: simpleaudio can only play whole buffers, each on its own ALSA
    stream to the default device. So audio goes out in chunks of `chunk_seconds`, each started at its due
    time on the monotonic clock (t_first + frame / rate), not when the previous one ends, which keeps it
    anchored; but each stream's start-up latency varies by a few ms, so chunk joins can have a tiny gap or
    overlap. No device choice ("default" only), no latency report, no underrun report from the driver
    (late chunks are counted as underruns here). Use sounddevice for air; this is a fallback for machines
    where PortAudio does not work."""

    realtime = True

    def __init__(self, device: str | int | None, sample_rate: int, channels: int, chunk_seconds: float = 0.5):
        if device not in (None, "default"):
            raise SinkFailure(str(device), "simpleaudio can only play to the default device")
        self.name = "simpleaudio:default"
        self.sample_rate = sample_rate
        self.channels = channels
        self.chunk_frames = max(1024, round(chunk_seconds * sample_rate))
        self.frames_written = 0
        self.underruns = 0
        self._chunk = np.zeros((self.chunk_frames, channels), np.float32)
        self._fill = 0
        self._chunk_start = 0  # sink frame of the chunk being filled
        self._playing: list = []
        self._t_first: float | None = None  # monotonic time sink frame 0 was handed to ALSA

    def open(self) -> None:
        try:
            import simpleaudio
        except ImportError as err:
            raise SinkFailure("default", f"simpleaudio not installed: {err}") from err
        self._sa = simpleaudio
        self.frames_written = 0
        self._fill = 0
        self._chunk_start = 0
        self._t_first = None

    def write(self, block: np.ndarray) -> None:
        i = 0
        while i < block.shape[0]:
            take = min(block.shape[0] - i, self.chunk_frames - self._fill)
            self._chunk[self._fill:self._fill + take] = block[i:i + take]
            self._fill += take
            i += take
            if self._fill == self.chunk_frames or self._t_first is None:  # the first block plays at once
                self._play_chunk()
        self.frames_written += block.shape[0]

    def _play_chunk(self) -> None:
        data = _to_int16(self._chunk[:self._fill])
        if self._t_first is not None:
            due = self._t_first + self._chunk_start / self.sample_rate
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            elif wait < -0.005:
                self.underruns += 1
        try:
            play = self._sa.play_buffer(data, self.channels, 2, self.sample_rate)
        except Exception as err:  # simpleaudio raises its own SimpleaudioError from C
            raise SinkFailure("default", f"simpleaudio: {err}") from err
        if self._t_first is None:
            self._t_first = time.monotonic()
        self._playing = [p for p in self._playing if p.is_playing()] + [play]
        self._chunk_start += self._fill
        self._fill = 0

    def heard_time(self, frame: int) -> float | None:
        if self._t_first is None:
            return None
        return self._t_first + frame / self.sample_rate

    def wake(self) -> None:
        pass  # write() sleeps until a chunk is due; at most `chunk_seconds`

    def discard(self, device: bool = True) -> int:
        """Drop the chunk being filled; chunks already handed to ALSA play out (simpleaudio cannot stop one
        without a click at a random point)."""
        dropped, self._fill = self._fill, 0
        self.frames_written -= dropped
        return dropped

    def close(self, drain: bool = True) -> None:
        if self._fill and drain:
            self._play_chunk()
        for play in self._playing:
            if drain:
                play.wait_done()
            else:
                play.stop()
        self._playing = []


def sound_card_sink(backend: str, device: str, sample_rate: int, channels: int, block_frames: int) -> Sink:
    """The sink for one configured device under the configured backend; `block_frames`: the engine's block
    (simpleaudio plays its own chunks and takes blocks of any size)."""
    if backend == "simpleaudio":
        return SimpleAudioSink(device, sample_rate, channels)
    return SoundDeviceSink(device, sample_rate, channels, block_frames=block_frames)
