"""Decode upcoming items in worker processes, for rendering faster than real time (simulate, benchmarks).

In one process the MP3 decoding is the bottleneck and uses one core; threads do not help (PyAV hands the GIL
over on every frame). So when the sink is not real time the mixer opens its decoders here: each worker is a
process forked once and kept, decoding one file at a time with `AvDecoder` into a ring of slots in memory it
shares with the mixer's process, up to `RING_SECONDS` ahead of what the mixer has read. The items playing and
the next ones then decode on all cores while the mixer mixes. `WorkerDecoder` keeps the `Decoder` contract
(sample-exact frames, exact `offset`, silence and `error` for a file that cannot be read), since it runs the
same `AvDecoder` in the worker. When all `MAX_WORKERS` are busy, `open_worker_decoder` returns None: the
mixer waits for one for an item that has not started yet, and decodes in-process one that has to start now.
Real-time playout does not use this: it needs no more speed and no more processes.
"""

from __future__ import annotations

import atexit
import mmap
import multiprocessing
import os
import threading
from collections import deque
from pathlib import Path

import numpy as np

from broadcaster.decode import AvDecoder

SLOT_FRAMES = 65536  # frames per slot of the ring (1.5 s at 44.1 kHz): one message each way per slot
RING_SECONDS = 36.0  # how far a worker decodes ahead of the mixer (12.7 MB of stereo float32 at 44.1 kHz)
# One worker per core: the item on air and the next (the mixer opens later ones when a worker is free; an item
# that must start while none is, decodes in-process). On 2 cores 2 × 36 s rendered fastest of 2-4 workers ×
# 12-36 s: more processes than cores only add switching.
MAX_WORKERS = max(2, os.cpu_count() or 2)
MAX_CHANNELS = 2
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
                        loop: bool = False) -> WorkerDecoder | None:
    """A decoder running in a worker process, or None when no worker is free (decode in-process then)."""
    global _pool
    if channels > MAX_CHANNELS:
        return None
    if _pool is None or _pool.pid != os.getpid():
        _pool = _Pool()
        atexit.register(_pool.stop)
    worker = _pool.take(sample_rate)
    if worker is None:
        return None
    return WorkerDecoder(worker, path, sample_rate, channels, offset=offset, loop=loop)


class WorkerDecoder:
    def __init__(self, worker: _Worker, path: str | Path, sample_rate: int, channels: int, *,
                 offset: float, loop: bool):
        self.path = Path(path)
        self.channels = channels
        self.error: str | None = None
        self.frames_read = 0
        self._worker: _Worker | None = worker
        self._ring = worker.ring(channels)
        self._slot: int | None = None
        self._at = self._size = 0
        self._last = False  # the slot being read is the file's last
        try:
            worker.conn.send((str(self.path), sample_rate, channels, offset, loop))
            self.error = worker.conn.recv()  # the worker has opened the file: a bad one fails the item now
        except (OSError, EOFError) as err:
            self._lost(err)
        self._eof = self.error is not None

    def read_into(self, out: np.ndarray) -> int:
        want, got = out.shape[0], 0
        while got < want:
            if self._at == self._size:
                if self._eof or self._last or not self._next_slot():
                    break
                continue
            take = min(want - got, self._size - self._at)
            out[got:got + take] = self._ring[self._slot, self._at:self._at + take]
            self._at += take
            got += take
        if got < want:
            out[got:].fill(0.0)
        self.frames_read += got
        return got

    def _next_slot(self) -> bool:
        conn = self._worker.conn
        try:
            if self._slot is not None:
                conn.send(self._slot)  # read out: the worker may fill it again
                self._slot = None
            self._slot, self._size, error = conn.recv()
        except (OSError, EOFError) as err:
            self._lost(err)
            return False
        self._at = 0
        self._last = self._size < SLOT_FRAMES
        if error:
            self.error = error
        return self._size > 0

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
    while True:
        try:
            job = conn.recv()
        except EOFError:  # the mixer's process is gone
            return
        if job is None:
            return
        path, sample_rate, channels, offset, loop = job
        ring = np.frombuffer(ring_mem, np.float32, slots * SLOT_FRAMES * channels).reshape(
            slots, SLOT_FRAMES, channels)
        decoder = AvDecoder(path, sample_rate, channels, offset=offset, loop=loop)
        conn.send(decoder.error)
        free = deque() if decoder.error else deque(range(slots))
        done = decoder.error is not None
        while True:
            while free and not done and not conn.poll():
                slot = free.popleft()
                frames = decoder.read_into(ring[slot])
                done = frames < SLOT_FRAMES
                conn.send((slot, frames, decoder.error if done else None))
            try:
                message = conn.recv()
            except EOFError:
                return
            if message == _CLOSE:
                decoder.close()
                conn.send(_CLOSE)
                break
            free.append(message)
