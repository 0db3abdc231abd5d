"""Decode upcoming items in worker processes, for rendering faster than real time (simulate, benchmarks).

In one process the MP3 decoding is the bottleneck and uses one core; threads do not help (PyAV hands the GIL
over on every frame). So when the sink is not real time the mixer opens its decoders here: each worker is a
process forked once and kept, decoding one file at a time with `AvDecoder` into a ring of slots in memory it
shares with the mixer's process, up to `RING_SECONDS` ahead of what the mixer has read. An item is decoded in
pieces of `SEGMENT_SECONDS` (`SegmentedDecoder`), the next piece on another worker while this one is read, so
the item playing and the next ones decode on all cores while the mixer mixes, however long the items.
`WorkerDecoder` keeps the `Decoder` contract (sample-exact frames, exact `offset`, silence and `error` for a
file that cannot be read), since it runs the same `AvDecoder` in the worker; pieces join sample-exactly. When
all `MAX_WORKERS` are busy, `open_worker_decoder` returns None: the mixer waits for one for an item that has
not started yet, and decodes in-process one that has to start now. Real-time playout does not use this: it
needs no more speed and no more processes.
"""

from __future__ import annotations

import atexit
import mmap
import multiprocessing
import os
import signal
import threading
from collections import deque
from pathlib import Path

import numpy as np

from broadcaster.sound.decode import AvDecoder, ChunkReader

SLOT_FRAMES = 65536  # frames per slot of the ring (1.5 s at 44.1 kHz): one message each way per slot
RING_SECONDS = 36.0  # how far a worker decodes ahead of the mixer (12.7 MB of stereo float32 at 44.1 kHz)
# One worker per core: the item on air and the next (the mixer opens later ones when a worker is free; an item
# that must start while none is, decodes in-process). On 2 cores 2 × 36 s rendered fastest of 2-4 workers ×
# 12-36 s: more processes than cores only add switching.
MAX_WORKERS = max(2, os.cpu_count() or 2)
MAX_CHANNELS = 2
SEGMENT_SECONDS = RING_SECONDS  # a longer item is decoded in pieces this long, each wholly ahead on a free worker
_CLOSE = "close"


class _Worker:
    def __init__(self, sample_rate: int):
        import av  # noqa: F401  (loaded before the fork, so no worker imports it anew)

        self.slots = max(2, round(RING_SECONDS * sample_rate / SLOT_FRAMES))
        # Anonymous shared memory made before the fork: nothing to name, clean up or leak.
        self.ring_mem = mmap.mmap(-1, self.slots * SLOT_FRAMES * MAX_CHANNELS * 4)
        self.conn, child = multiprocessing.Pipe()
        # fork: the worker starts in milliseconds with PyAV already loaded (spawn would import it anew)
        self.proc = multiprocessing.get_context("fork").Process(
            target=_serve, args=(child, self.ring_mem, self.slots), name="broadcaster-decode", daemon=True)
        self.proc.start()
        child.close()

    def ring(self, channels: int) -> np.ndarray:
        count = self.slots * SLOT_FRAMES * channels
        return np.frombuffer(self.ring_mem, np.float32, count).reshape(self.slots, SLOT_FRAMES, channels)

    def ask_to_stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass

    def stop(self) -> None:
        self.ask_to_stop()
        self.wait()

    def wait(self) -> None:
        self.proc.join(2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


class _Pool:
    def __init__(self):
        self.idle: list[_Worker] = []
        self.count = 0
        self.lock = threading.Lock()
        self.pid = os.getpid()

    def take(self, sample_rate: int) -> _Worker | None:
        with self.lock:
            if self.idle:
                return self.idle.pop()
            if self.count >= MAX_WORKERS:
                return None
            self.count += 1
        try:
            return _Worker(sample_rate)
        except OSError:
            with self.lock:
                self.count -= 1
            return None

    def give(self, worker: _Worker, healthy: bool) -> None:
        if not healthy:
            worker.stop()
        with self.lock:
            if healthy:
                self.idle.append(worker)
            else:
                self.count -= 1

    def pids(self) -> list[int]:
        """Process ids of the idle workers (benchmarks read their memory)."""
        with self.lock:
            return [worker.proc.pid for worker in self.idle]

    def stop(self) -> None:
        if os.getpid() != self.pid:
            return
        with self.lock:
            idle, self.idle = self.idle, []
        for worker in idle:  # all at once: each takes ~60 ms to exit
            worker.ask_to_stop()
        for worker in idle:
            worker.wait()


_pool: _Pool | None = None


def worker_pids() -> list[int]:
    return _pool.pids() if _pool is not None and _pool.pid == os.getpid() else []


def open_worker_decoder(path: str | Path, sample_rate: int, channels: int, *, offset: float = 0.0,
                        loop: bool = False, frames: int | None = None) -> WorkerDecoder | SegmentedDecoder | None:
    """A decoder running in worker processes, or None when no worker is free (decode in-process then).
    `frames`: at most this many will be read (the item's planned length), so no piece after them is decoded
    and no worker is held for one."""
    global _pool
    if channels > MAX_CHANNELS:
        return None
    if _pool is None or _pool.pid != os.getpid():
        _pool = _Pool()
        atexit.register(_pool.stop)
    worker = _pool.take(sample_rate)
    if worker is None:
        return None
    if loop:
        return WorkerDecoder(worker, path, sample_rate, channels, offset=offset, loop=True)
    return SegmentedDecoder(worker, path, sample_rate, channels, offset, frames)


class SegmentedDecoder:
    """A file decoded `SEGMENT_SECONDS` at a time, each piece by a worker, the next one (when a worker is free)
    while this one is read: so one long item also decodes on every core. Each piece starts with a seek, which
    `AvDecoder` makes sample-exact (it decodes from `SEEK_WARM_UP` before and drops that), so the pieces join
    into the same samples as decoding the file through."""

    def __init__(self, worker: _Worker, path: str | Path, sample_rate: int, channels: int, offset: float,
                 frames: int | None = None):
        self.path = Path(path)
        self.channels = channels
        self.frames_read = 0
        self._rate = sample_rate
        self._length = round(SEGMENT_SECONDS * sample_rate)
        self._needed = frames  # no piece starts at or after this many frames from the first
        self._first = offset
        self._offset = offset  # of the piece being read, in the file
        self._current: WorkerDecoder | AvDecoder = self._piece(worker, offset)
        self._next: WorkerDecoder | None = None
        self._got = 0  # frames read from the current piece
        self._final = False  # the current decoder reads to the end of the file (no pieces after it)
        self.error = self._current.error
        self._eof = self.error is not None

    def _piece(self, worker: _Worker, offset: float) -> WorkerDecoder:
        frames = self._length
        if self._needed is not None:  # the last piece: only what the item plays
            frames = max(1, min(frames, self._needed - round((offset - self._first) * self._rate)))
        return WorkerDecoder(worker, self.path, self._rate, self.channels, offset=offset, loop=False,
                             frames=frames)

    def _open_next(self, now: bool) -> WorkerDecoder | AvDecoder | None:
        offset = self._offset + self._length / self._rate
        if self._needed is not None and round((offset - self._first) * self._rate) >= self._needed:
            return None  # the item will not play that far
        worker = _pool.take(self._rate)
        if worker is not None:
            return self._piece(worker, offset)
        if not now:
            return None
        self._final = True  # no worker free when it is needed: the rest of the file in this process
        return AvDecoder(self.path, self._rate, self.channels, offset=offset)

    def read_into(self, out: np.ndarray, gain: float = 1.0) -> int:
        want, got = out.shape[0], 0
        while got < want and not self._eof:
            if self._next is None and not self._final and self._current is not None:
                self._next = self._open_next(now=False)
            take = want - got if self._final else min(want - got, self._length - self._got)
            n = self._current.read_into(out[got:got + take], gain)
            got += n
            self._got += n
            self.error = self.error or self._current.error
            if n < take:  # the file ended (or broke) within this piece
                self._eof = True
            elif not self._final and self._got == self._length:
                self._current.close()
                self._current = self._next or self._open_next(now=True)
                self._next, self._got = None, 0
                if self._current is None:  # past what the item needs
                    self._eof = True
                    break
                self._offset += self._length / self._rate
        if got < want:
            out[got:].fill(0.0)
        self.frames_read += got
        return got

    def close(self) -> None:
        for decoder in (self._current, self._next):
            if decoder is not None:
                decoder.close()
        self._next = None
        self._eof = True


class WorkerDecoder(ChunkReader):
    """A file (or, with `frames`, that many frames of it from `offset`) decoded by one worker."""

    def __init__(self, worker: _Worker, path: str | Path, sample_rate: int, channels: int, *,
                 offset: float, loop: bool, frames: int | None = None):
        self.path = Path(path)
        self.channels = channels
        self.error: str | None = None
        self.frames_read = 0
        self._worker: _Worker | None = worker
        self._ring = worker.ring(channels)
        self._slot: int | None = None
        self._chunk, self._chunk_at, self._chunk_size = self._ring[0], 0, 0
        self._last = False  # the slot being read is the last
        try:
            worker.conn.send((str(self.path), sample_rate, channels, offset, loop, frames))
            self.error = worker.conn.recv()  # the worker has opened the file: a bad one fails the item now
        except (OSError, EOFError) as err:
            self._lost(err)
        self._eof = self.error is not None

    def _next_chunk(self) -> bool:
        """The next slot the worker filled."""
        if self._eof or self._last:
            return False
        conn = self._worker.conn
        try:
            if self._slot is not None:
                conn.send(self._slot)  # read out: the worker may fill it again
                self._slot = None
            self._slot, self._chunk_size, self._last, error = conn.recv()
        except (OSError, EOFError) as err:
            self._lost(err)
            return False
        self._chunk, self._chunk_at = self._ring[self._slot], 0
        if error:
            self.error = error
        return self._chunk_size > 0

    def _lost(self, err: BaseException) -> None:
        """The worker died (killed, crashed in FFmpeg): the rest is silence, like a damaged file."""
        self.error = self.error or f"cannot decode {self.path.name}: the decoding process stopped ({err!r})"
        self._eof = True
        if self._worker is not None:
            _pool.give(self._worker, healthy=False)
            self._worker = None

    def __del__(self):
        if self._worker is not None:  # dropped without close(): give the worker back all the same
            try:
                self.close()
            except Exception:
                pass

    def close(self) -> None:
        worker, self._worker = self._worker, None
        self._eof = True
        if worker is None:
            return
        try:
            worker.conn.send(_CLOSE)
            while worker.conn.recv() != _CLOSE:  # slots filled meanwhile are dropped
                pass
        except (OSError, EOFError):
            _pool.give(worker, healthy=False)
            return
        _pool.give(worker, healthy=True)


def _serve(conn, ring_mem: mmap.mmap, slots: int) -> None:
    """The worker process: one file at a time, filling free slots while the mixer reads the others."""
    # Ctrl-C reaches the whole process group: the mixer's process handles it, and its exit ends this one.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            job = conn.recv()
        except EOFError:  # the mixer's process is gone
            return
        if job is None:
            return
        path, sample_rate, channels, offset, loop, limit = job
        ring = np.frombuffer(ring_mem, np.float32, slots * SLOT_FRAMES * channels).reshape(
            slots, SLOT_FRAMES, channels)
        decoder = AvDecoder(path, sample_rate, channels, offset=offset, loop=loop)
        conn.send(decoder.error)
        free = deque() if decoder.error else deque(range(slots))
        done = decoder.error is not None
        while True:
            while free and not done and not conn.poll():
                slot = free.popleft()
                want = SLOT_FRAMES if limit is None else min(SLOT_FRAMES, limit)
                frames = decoder.read_into(ring[slot, :want])
                if limit is not None:
                    limit -= frames
                done = frames < want or limit == 0
                conn.send((slot, frames, done, decoder.error if done else None))
            try:
                message = conn.recv()
            except EOFError:
                return
            if message == _CLOSE:
                decoder.close()
                conn.send(_CLOSE)
                break
            free.append(message)
