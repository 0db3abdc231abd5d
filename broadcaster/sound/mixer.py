"""Mix the items of one run (a slot, or the part of it left after a restart) into fixed-size blocks.

Every boundary is a frame index computed from the plan's start and end times relative to the run start, so
consecutive items meet sample-exactly (no gap, no overlap unless the plan crossfades) and nothing drifts however
long the run. Per item: gain, short raised-cosine fades against clicks, an equal-power crossfade where the plan
overlaps it with the previous item, and an optional looped music bed ducked under it. A hard stop (slot end or
blackout start) is absolute: an item still sounding near it is faded out so that all audio ends before it.

The mixer is driven by one thread (the engine's); changes (`interrupt`, `insert_at_boundary`, `jump`) take
effect from the next block. `render()` returns events (item started, ended, skipped, failed) with the frame
inside the block where they happened, so the engine can turn them into times at the sound card.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from broadcaster.model import Level, PlannedItem
from broadcaster.sound.decode import ChunkReader, Decoder, open_decoder
from broadcaster.sound.decode_workers import open_worker_decoder
from broadcaster.sound.pcm import PcmDecoder, open_pcm

PREFETCH_SECONDS = 2.0  # start ffmpeg this early so its start-up never delays a block
PREFETCH_ITEMS = 2
READ_AHEAD_FRAMES = 65536  # real time: decode 1.5 s at a time (ReadAhead)
JUMP_FADE_SECONDS = 0.01  # fade around a re-alignment jump
HARD_STOP_NOTE = "faded out before the hard stop (slot end or blackout)"


def frames_between(a: datetime, b: datetime, sample_rate: int) -> int:
    """Frames from `a` to `b`, from integer microseconds so it is the same on every call."""
    micros = (b - a) // timedelta(microseconds=1)
    return (micros * sample_rate + 500_000) // 1_000_000


@dataclass(eq=False)
class Voice:
    """One item as the mixer plays it: frames relative to the run start. Besides what rendering needs, it keeps
    the why of its as-run row, which only the mixer knows: a break-in's `reason`, the `notes` on how it was
    moved or cut, its length as planned. When it was heard and which rows are written is the playback's
    (`playout.engine._Airing`)."""

    item: PlannedItem
    start: int
    end: int  # exclusive
    offset: int  # frame of the file heard at `start`
    gain: float
    fade_in: int
    fade_out: int
    xfade_in: bool = False  # equal-power (crossfade) instead of raised-cosine
    xfade_out: bool = False
    kind: str = "plan"  # "plan" or "break-in"
    reason: str = ""  # of a break-in
    notes: list[str] = field(default_factory=list)  # why it is partial: moved, joined late, cut
    planned_frames: int = 0  # end - start as planned, to tell aired from partial
    started: bool = False
    ended: bool = False
    failed: str = ""  # why it cannot play (reported when its time comes)
    exempt: bool = False  # an emergency: the hard stop does not cut it
    resumed: bool = False  # the rest of an item an emergency cut: on air, though it starts after the emergency
    decoder: Decoder | None = None
    bed: Decoder | None = None
    dec_pos: int = -1  # mixer frame the decoder's next frame belongs to

    @property
    def as_planned(self) -> bool:
        """Nothing moved, joined or cut it: it plays from the file's start for its whole planned length."""
        return not self.notes and self.end - self.start == self.planned_frames and self.offset == 0

    def file_offset_at(self, frame: int) -> int:
        return self.offset + (frame - self.start)


@dataclass(frozen=True)
class Event:
    kind: str  # "start", "end", "skip", "fail"
    voice: Voice
    at: int | None  # frame within the block just rendered (None for skip/fail before airing)
    reason: str = ""


class Mixer:
    def __init__(self, audio_dir: str | Path, *, sample_rate: int, channels: int, fade_seconds: float,
                 hard_fade_seconds: float = 1.5, interrupt_fade_seconds: float = 0.5,
                 decoder_factory: Callable[..., Decoder] = open_decoder,
                 locate: Callable[[str, str | None], Path] | None = None):
        self.audio_dir = Path(audio_dir)
        self.sr = sample_rate
        self.channels = channels
        self.fade = max(1, round(fade_seconds * sample_rate))
        self.hard_fade = max(1, round(hard_fade_seconds * sample_rate))
        self.interrupt_fade = max(1, round(interrupt_fade_seconds * sample_rate))
        self._open = decoder_factory
        # Set by the engine when the sink is not real time: decode in worker processes (decode_workers) too.
        self.decode_ahead = False
        # (file, sha256) -> the file to open: the library's station copy when whole (the engine passes it)
        self._locate = locate
        self.voices: list[Voice] = []
        self.pos = 0
        self.hard_stop_frame = 0
        self.run_start: datetime | None = None
        self._pending: list[Event] = []
        self._scratch = np.zeros((0, channels), np.float32)
        self._bed_scratch = np.zeros((0, channels), np.float32)
        self._steps = np.zeros(0, np.float64)  # 0, 1, 2, … and work space for _envelope
        self._env64 = np.zeros((2, 0), np.float64)
        self._env32 = np.zeros((2, 0), np.float32)
        self._jump = 0
        self._jump_fade_in = False

    # ---- building the run -------------------------------------------------------------------------------
    def load(self, items: list[PlannedItem], run_start: datetime, hard_stop: datetime, *,
             join_at: datetime | None = None, join_note: str = "") -> None:
        """Set up a run; frame 0 is `run_start`. With `join_at`, playing starts there: items that ended
        before it are dropped (they are not this run's business), the one on air is joined at the right
        offset and marked partial with `join_note`."""
        self.close()
        self.run_start = run_start
        self.hard_stop_frame = frames_between(run_start, hard_stop, self.sr)
        self.voices = self._plan_voices(items)
        self.pos = 0
        if join_at is not None:
            self.pos = max(0, frames_between(run_start, join_at, self.sr))
            self._join(self.pos, join_note, drop_past=True)

    def _plan_voices(self, items: list[PlannedItem]) -> list[Voice]:
        voices: list[Voice] = []
        for i, item in enumerate(items):
            start = frames_between(self.run_start, item.start, self.sr)
            end = frames_between(self.run_start, item.end, self.sr)
            xf = round(item.crossfade_in * self.sr) if i else 0
            v = Voice(item=item, start=start, end=end, offset=0, gain=10 ** (item.gain_db / 20),
                      fade_in=self.fade, fade_out=self.fade, planned_frames=end - start)
            if xf > 0:
                v.fade_in, v.xfade_in = xf, True
                prev = voices[-1]
                prev.fade_out, prev.xfade_out = max(1, prev.end - start), True
            voices.append(v)
        return voices

    def _join(self, frame: int, note: str, *, drop_past: bool = False, kind: str = "skip") -> None:
        """Items not yet started whose start is before `frame` join there; those already over are dropped
        (`drop_past`) or reported as `kind` ("skip" or "fail") with `note`."""
        keep = []
        for v in self.voices:
            if v.started or v.ended or v.start >= frame:
                keep.append(v)
                continue
            if v.end <= frame:
                if not drop_past:
                    v.ended = True
                    self._close_voice(v)
                    self._pending.append(Event(kind, v, None, note))
                continue
            v.offset += frame - v.start
            v.start = frame
            v.fade_in, v.xfade_in = self.fade, False
            v.notes.append(note)
            keep.append(v)
        self.voices = keep

    # ---- changes while playing (called from the engine thread between blocks) ---------------------------
    def interrupt(self, item: PlannedItem, reason: str, fade: int | None = None) -> Voice:
        """Emergency: fade out everything on air now (over `fade` frames, default `interrupt_fade`), play
        `item`, then rejoin the plan where the wall clock says it should be (items covered by the emergency
        are skipped)."""
        fade = self.interrupt_fade if fade is None else max(1, fade)
        cut_at = self.pos + fade
        length = max(1, round(item.duration * self.sr))
        em = self._breakin_voice(item, cut_at, cut_at + length, reason)
        after = cut_at + length
        for v in list(self.voices):
            if v.started and not v.ended and v.end > cut_at:
                old_end = v.end
                v.end = cut_at
                v.fade_out, v.xfade_out = fade, False
                v.notes.append(f"interrupted by emergency: {reason}")
                if old_end > after:  # the rest of it airs after the emergency, wall-anchored
                    self.voices.append(Voice(
                        item=v.item, start=after, end=old_end, offset=v.file_offset_at(after), gain=v.gain,
                        fade_in=self.fade, fade_out=self.fade, planned_frames=v.planned_frames,
                        notes=[f"resumed after emergency: {reason}"], resumed=True,
                        kind=v.kind, reason=v.reason, exempt=v.exempt))  # a break-in's rest is still one
        # from now, not from the cut: an item due inside the fade would otherwise sound under the emergency
        self._join_after(self.pos, after, f"pre-empted by emergency: {reason}")
        self.voices.append(em)
        self._sort()
        return em

    def rewind(self, frames: int, unended: Sequence[Voice] = ()) -> list[Voice]:
        """The sink dropped the last `frames` rendered frames unheard (`Sink.discard`): render from there again.
        Decoders reopen at the right file offset on their own (dec_pos no longer matches); an item whose start
        was in the dropped audio has not started after all (returned: their starts were not heard); `unended`,
        the items whose end was in it, are back on air (what comes next, an emergency, fades them like anything
        else on air)."""
        self.pos -= frames
        for v in unended:
            v.ended = False
            v.notes = [n for n in v.notes if n != HARD_STOP_NOTE]
            self.voices.append(v)
        self._sort()
        unstarted = [v for v in self.voices if v.started and v.start >= self.pos]
        for v in unstarted:
            v.started = False
        return unstarted

    def _join_after(self, frm: int, to: int, note: str) -> None:
        for v in list(self.voices):
            if v.started or v.ended or v.start < frm or v.start >= to or v.kind != "plan":
                continue
            if v.end <= to:
                v.ended = True
                self.voices.remove(v)
                self._pending.append(Event("skip", v, None, note))
            else:
                v.offset += to - v.start
                v.start = to
                v.fade_in, v.xfade_in = self.fade, False
                v.notes.append(note)

    def insert_at_boundary(self, item: PlannedItem, reason: str) -> Voice | None:
        """Priority: play `item` at the next item boundary; later items move later by its length (the hard
        stop still holds, so whatever no longer fits is faded or skipped). None if there is no boundary
        before the hard stop."""
        length = max(1, round(item.duration * self.sr))
        return self._place_at_boundary(self._breakin_voice(item, 0, length, reason))

    def _place_at_boundary(self, pr: Voice) -> Voice | None:
        future = [v for v in self.voices if not v.started and not v.ended and v.start >= self.pos]
        boundary = min((v.start for v in future), default=max((v.end for v in self.voices), default=self.pos))
        boundary = max(boundary, self.pos)
        # The item(s) sounding across the boundary (a crossfade) now end on their own with a short fade.
        at = boundary
        for v in self.voices:
            if not v.ended and v.start < boundary < v.end:
                at = max(at, v.end)
                if v.xfade_out:
                    v.fade_out, v.xfade_out = self.fade, False
        if at >= self.hard_stop_frame:
            return None
        length = pr.end - pr.start
        shift = at + length - boundary
        for v in future:
            v.start += shift
            v.end += shift
            if v.xfade_in:
                v.fade_in, v.xfade_in = self.fade, False
            v.notes.append(f"moved {shift / self.sr:.3f} s later by priority break-in")
        pr.start, pr.end = at, at + length
        self.voices.append(pr)
        self._sort()
        return pr

    def replace_upcoming(self, items: list[PlannedItem], note: str) -> list[Voice]:
        """Re-plan: the plan items not started yet give way to `items` (the new plan for this run, at their
        planned frames). What is on air (rendered, crossfade-in begun) plays on to its end; a new item due
        before that ends joins there at the right offset (partial, `note`), or crossfades with the item on air
        where the new plan crossfades at the same frame. Waiting priority break-ins go back in line at the
        next boundary. Returns the break-ins that no longer fit before the hard stop (closed, not placed)."""
        on_air = [v for v in self.voices if (v.started or v.resumed) and not v.ended]
        waiting = [v for v in self.voices if not (v.started or v.resumed) and not v.ended]
        for v in waiting:
            self._close_voice(v)
        breakins = [v for v in waiting if v.kind == "break-in"]
        self.voices = on_air
        boundary = max((v.end for v in on_air), default=self.pos)
        last = max((v for v in on_air if v.kind == "plan"), key=lambda v: v.end, default=None)
        new = [v for v in self._plan_voices(items) if v.end > boundary]
        for v in new:
            if v.start >= boundary:
                break
            tail = last is not None and last.end == boundary and not last.exempt
            if v.xfade_in and tail and v.start >= self.pos and self.pos <= last.end - last.fade_out \
                    and v.start >= last.start:
                last.fade_out, last.xfade_out = max(1, boundary - v.start), True  # the new plan's crossfade
                continue
            v.offset += boundary - v.start
            v.start = boundary
            v.fade_in, v.xfade_in = self.fade, False
            v.notes.append(note)
        if last is not None and last.xfade_out and self.pos <= last.end - last.fade_out \
                and not any(v.xfade_in and v.start < boundary for v in new):
            last.fade_out, last.xfade_out = self.fade, False  # its crossfade partner is gone
        self.voices.extend(new)
        self._sort()
        # back in line at the next boundary, as when they were asked for
        return [b for b in breakins if self._place_at_boundary(b) is None]

    def play_now(self, item: PlannedItem, reason: str) -> Voice:
        """A break-in on an idle mixer: starts at the current position."""
        length = max(1, round(item.duration * self.sr))
        v = self._breakin_voice(item, self.pos, self.pos + length, reason)
        self.voices.append(v)
        self._sort()
        return v

    def _breakin_voice(self, item: PlannedItem, start: int, end: int, reason: str) -> Voice:
        return Voice(item=item, start=start, end=end, offset=0, gain=10 ** (item.gain_db / 20),
                     fade_in=self.fade, fade_out=self.fade, kind="break-in", reason=reason,
                     planned_frames=end - start, exempt=item.level == Level.EMERGENCY)

    def seek(self, frame: int, note: str, kind: str = "skip") -> None:
        """Before rendering, or after the sink was down: continue at `frame` (later than now). Items on air
        that ended meanwhile are reported as `kind`; the others rejoin at the right offset."""
        if frame <= self.pos:
            return
        for v in self.voices:
            if v.started and not v.ended:
                if self._stop_of(v) <= frame:
                    v.ended = True
                    self._close_voice(v)
                    self._pending.append(Event(kind, v, None, note))
                else:
                    v.notes.append(note)
        self._join(frame, note, kind=kind)
        self.pos = frame

    def stop_all(self, reason: str) -> None:
        """Fade out what is on air and drop everything after it (the engine is stopping)."""
        cut_at = self.pos + self.interrupt_fade
        keep = []
        for v in self.voices:
            if v.started and not v.ended:
                if v.end > cut_at:
                    v.end = cut_at
                    v.fade_out, v.xfade_out = self.interrupt_fade, False
                    v.notes.append(reason)
                keep.append(v)
            else:
                self._close_voice(v)
        self.voices = keep

    def jump(self, frames: int) -> None:
        """Re-align with the wall clock: skip `frames` (> 0, the sink fell behind) or hold silence
        (< 0, it ran ahead). Applied after a short fade at the end of the next block."""
        self._jump += frames

    def _sort(self) -> None:
        self.voices.sort(key=lambda v: v.start)

    # ---- rendering ----------------------------------------------------------------------------------------
    @property
    def end_frame(self) -> int:
        return max((self._stop_of(v) for v in self.voices if not v.ended), default=self.pos)

    def frames_left(self, limit: int) -> int:
        """min(limit, end_frame - pos) without visiting every voice of the run on every block: the last
        voices (the latest starts) are the likeliest to sound past the next `limit` frames."""
        horizon = self.pos + limit
        for v in reversed(self.voices):
            if not v.ended and self._stop_of(v) >= horizon:
                return limit
        return min(limit, self.end_frame - self.pos)

    def _stop_of(self, v: Voice) -> int:
        """Where `v` stops: its end, or the hard stop if that comes first (emergencies are exempt)."""
        return v.end if v.exempt else min(v.end, self.hard_stop_frame)

    @property
    def done(self) -> bool:
        return not self.voices or (self.pos >= self.hard_stop_frame and not any(v.exempt for v in self.voices))

    def render(self, out: np.ndarray) -> list[Event]:
        """Mix the next `len(out)` frames into `out` (overwritten). Returns what happened in them."""
        n = out.shape[0]
        if self._scratch.shape[0] < n:
            self._scratch = np.zeros((n, self.channels), np.float32)
            self._bed_scratch = np.zeros((n, self.channels), np.float32)
            self._steps = np.arange(n, dtype=np.float64)
            self._env64 = np.zeros((2, n), np.float64)
            self._env32 = np.zeros((2, n), np.float32)
        events, self._pending = self._pending, []
        p, q = self.pos, self.pos + n
        filled = False  # out still holds the last block: the first voice over all of it writes, not adds
        prefetch = q + round(PREFETCH_SECONDS * self.sr)
        ahead = 0
        for v in self.voices:
            if v.ended:
                continue
            if v.start >= q:
                ahead += 1
            # Open the decoders of the next items early (by time and by count): ffmpeg's start-up then overlaps
            # mixing instead of stalling it, which matters most when simulating.
            if v.start >= prefetch and ahead > PREFETCH_ITEMS:
                break
            if v.start >= self.hard_stop_frame and not v.exempt:
                continue
            if v.failed:
                if v.start < q:
                    v.ended = True
                    events.append(Event("fail", v, None, v.failed))
                continue
            if v.decoder is None or (v.start < q and v.dec_pos != max(v.start, p)):
                if not self._open_voice(v, max(v.start, p), early=v.start >= q):
                    continue
            if v.start >= q:
                continue
            stop = self._stop_of(v)
            a, b = max(v.start, p), min(stop, q)
            if not v.started:
                v.started = True
                events.append(Event("start", v, a - p))
            if b > a:
                whole = not filled and a == p and b == q
                if not filled and not whole:
                    out.fill(0.0)
                filled = True
                self._mix_voice(v, a, b, out[a - p:b - p], replace=whole)
            if stop <= q:
                v.ended = True
                if stop < v.end:
                    v.notes.append(HARD_STOP_NOTE)
                events.append(Event("end", v, max(0, stop - p)))
                self._close_voice(v)
        if not filled:
            out.fill(0.0)
        self.voices = [v for v in self.voices if not v.ended]
        if not any(v.start < self.hard_stop_frame or v.exempt for v in self.voices):  # what is left cannot air
            for v in self.voices:
                v.ended = True
                self._close_voice(v)
                events.append(Event("skip", v, None, "no time left before the hard stop (slot end or blackout)"))
            self.voices = []
        self.pos = self._apply_jump(out, q)
        return events

    def _apply_jump(self, out: np.ndarray, q: int) -> int:
        """Fade in after a jump, fade out before one; returns the position of the next block."""
        n = out.shape[0]
        ramp = min(n, max(1, round(JUMP_FADE_SECONDS * self.sr)))
        if self._jump_fade_in:
            out[:ramp] *= _raised_cosine(np.arange(ramp) / ramp)[:, None]
            self._jump_fade_in = False
        if not self._jump:
            return q
        out[n - ramp:] *= _raised_cosine(1.0 - np.arange(1, ramp + 1) / ramp)[:, None]
        jump, self._jump = self._jump, 0
        self._jump_fade_in = True
        if jump > 0:  # skip ahead: decoders reopen at the new offset on their own (dec_pos mismatch)
            note = f"skipped {jump / self.sr:.3f} s to re-align with the clock"
            for v in self.voices:
                if v.started and not v.ended:
                    v.notes.append(note)
            self._join(q + jump, note)
            return q + jump
        # hold silence: everything not over moves later (file offsets stay continuous), and so does the hard stop,
        # which stays at the same time (the engine moves its frame-to-time mapping by the same frames)
        self.hard_stop_frame -= jump
        for v in self.voices:
            if v.started and not v.ended:
                v.notes.append(f"held {-jump / self.sr:.3f} s of silence to re-align with the clock")
            v.start -= jump
            v.end -= jump
            if v.dec_pos >= 0:
                v.dec_pos -= jump
        return q

    def _open_voice(self, v: Voice, frame: int, *, early: bool = False) -> bool:
        """Open `v`'s decoders at `frame`. False if it failed, or (`early`: it does not start in this block) if
        it should wait for a decoding worker to come free rather than decode in this process."""
        self._close_voice(v)
        item = v.item
        offset = v.file_offset_at(frame) / self.sr
        v.decoder = self._decoder(self._source(item.file, item.sha256), offset, wait=early,
                                  frames=max(0, v.end - frame))
        if v.decoder is None:
            return False  # a worker comes free when the item on air ends: try again at the next block
        if item.bed_file:
            v.bed = self._decoder(self._source(item.bed_file, item.bed_sha256), (frame - v.start) / self.sr,
                                  loop=True)
        v.dec_pos = frame
        if v.decoder.error:  # a missing file is a failed item, not silence on air
            v.failed = v.decoder.error
            self._close_voice(v)
            return False
        return True

    def _source(self, file: str, sha256: str | None) -> Path:
        """The item's station copy (read without decoding) when the library has a whole one, else its file."""
        if self._locate is None:
            return self.audio_dir / file
        return self._locate(file, sha256)

    def _decoder(self, path: Path, offset: float, loop: bool = False, wait: bool = False,
                 frames: int | None = None) -> Decoder | None:
        """In decoding workers when rendering faster than real time and one is free; else in this process,
        or None with `wait`. `frames`: the most that will be read."""
        if self.decode_ahead and self._open is open_decoder:
            pcm = open_pcm(path, self.sr, self.channels, offset=offset, loop=loop)
            if pcm is not None:  # reading is cheap: no worker for it
                return pcm
            decoder = open_worker_decoder(path, self.sr, self.channels, offset=offset, loop=loop, frames=frames)
            if decoder is not None or wait:
                return decoder
        decoder = self._open(path, self.sr, self.channels, offset=offset, loop=loop)
        if self.decode_ahead or isinstance(decoder, PcmDecoder):  # a station copy is read, not decoded: no need
            return decoder
        return ReadAhead(decoder, READ_AHEAD_FRAMES, self.channels)

    def _close_voice(self, v: Voice) -> None:
        for dec in (v.decoder, v.bed):
            if dec is not None:
                dec.close()
        v.decoder = v.bed = None

    def _mix_voice(self, v: Voice, a: int, b: int, dst: np.ndarray, *, replace: bool = False) -> None:
        """Add `v`'s frames [a, b) to `dst`; with `replace`, overwrite `dst` (decoded straight into it)."""
        seg = dst if replace else self._scratch[:b - a]
        env = self._envelope(v, a, b)
        flat = env is None and v.bed is None
        v.decoder.read_into(seg, v.gain if flat else 1.0)  # flat: the gain applied as it is copied
        if v.bed is not None:
            bed = self._bed_scratch[:b - a]
            v.bed.read_into(bed)
            bed *= 10 ** ((v.item.bed_gain_db + v.item.duck_db) / 20) / v.gain
            seg += bed
        v.dec_pos = b
        if env is not None:
            env *= v.gain
            seg *= env[:, None]
        elif not flat and v.gain != 1.0:  # in place: no temporary block per voice
            seg *= np.float32(v.gain)
        if not replace:
            dst += seg

    def _envelope(self, v: Voice, a: int, b: int) -> np.ndarray | None:
        """Gain curve over frames [a, b) of `v`, or None when it is flat 1 there (the common case)."""
        stop = self._stop_of(v)
        hard = stop < v.end
        in_fade = a < v.start + v.fade_in
        out_fade = b > v.end - v.fade_out
        hard_fade = hard and b > self.hard_stop_frame - self.hard_fade
        if not (in_fade or out_fade or hard_fade):
            return None
        # In reused buffers: fresh arrays of a block's size are mmap()ed and page-faulted in every time.
        n = b - a
        k, x64 = self._env64[0, :n], self._env64[1, :n]
        x, env = self._env32[0, :n], self._env32[1, :n]
        np.add(self._steps[:n], a - v.start, out=k)  # exact frame numbers; curves in float32
        env.fill(1.0)
        if in_fade:
            np.add(k, 0.5, out=x64)
            x64 /= v.fade_in
            env *= _curve(x64, x, v.xfade_in)
        if out_fade:
            np.subtract(v.end - v.start, k, out=x64)
            x64 -= 0.5
            x64 /= v.fade_out
            env *= _curve(x64, x, v.xfade_out)
        if hard_fade:
            np.subtract(stop - v.start, k, out=x64)
            x64 -= 0.5
            x64 /= self.hard_fade
            env *= _curve(x64, x, False)
        return env

    def take_events(self) -> list[Event]:
        """Events decided outside render() (a seek past the end) that no block reported yet."""
        events, self._pending = self._pending, []
        return events

    def close(self) -> None:
        for v in self.voices:
            self._close_voice(v)


class ReadAhead(ChunkReader):
    """A decoder read `frames` at a time, handed out in the mixer's smaller blocks (real-time playout only).

    In real time the engine thread sleeps between blocks, and a decoder call after a sleep starts with cold
    caches: fewer, bigger reads cost less CPU (figures: docs/benchmarks.md, "ReadAhead"). The file is decoded no
    further ahead than that, and a seek reopens the decoder as before (the mixer's `dec_pos`)."""

    def __init__(self, decoder: Decoder, frames: int, channels: int):
        self._dec = decoder
        self._chunk = np.zeros((frames, channels), np.float32)
        self._chunk_at = self._chunk_size = 0
        self._eof = False
        self.frames_read = 0

    @property
    def error(self) -> str | None:
        return self._dec.error

    def _next_chunk(self) -> bool:
        if self._eof:
            return False
        self._chunk_size, self._chunk_at = self._dec.read_into(self._chunk), 0
        self._eof = self._chunk_size < self._chunk.shape[0]
        return self._chunk_size > 0

    def close(self) -> None:
        self._dec.close()


def _curve(x64: np.ndarray, x: np.ndarray, equal_power: bool) -> np.ndarray:
    """`_equal_power` or `_raised_cosine` of clip(x64, 0, 1), computed in `x` (float32) in place: the same
    operations in the same order, so the same samples."""
    np.clip(x64, 0.0, 1.0, out=x64)
    x[...] = x64
    if equal_power:
        x *= np.float32(0.5 * math.pi)
        return np.sin(x, out=x)
    x *= np.float32(math.pi)
    np.cos(x, out=x)
    x *= np.float32(0.5)
    return np.subtract(np.float32(0.5), x, out=x)


def _raised_cosine(x: np.ndarray) -> np.ndarray:
    """0 → 1 with zero slope at both ends: a short fade without a click."""
    return np.float32(0.5) - np.float32(0.5) * np.cos(np.float32(math.pi) * x)


def _equal_power(x: np.ndarray) -> np.ndarray:
    """sin ramp: the fading-in and fading-out items' powers sum to 1 across a crossfade."""
    return np.sin(np.float32(0.5 * math.pi) * x)
