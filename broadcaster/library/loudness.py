"""Integrated loudness (ITU-R BS.1770-4 / EBU R128) and sample peak, measured block by block.

`LoudnessMeter` is fed decoded float PCM in chunks of any size and keeps only per-100 ms energy totals, so a
file of any length is measured in constant memory. K-weighting is designed for the file's own sample rate
(the libebur128 formulas), so 8 kHz or 44 000 Hz files are measured without resampling.
"""

from __future__ import annotations

import math

import numpy as np

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
SILENT = -math.inf


def k_weighting(sample_rate: int) -> np.ndarray:
    """The two BS.1770 pre-filter stages (high shelf, then high pass) as second-order sections."""
    # Stage 1: high shelf, +4 dB above ~1.7 kHz (head effects).
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / sample_rate)
    vh = 10 ** (gain_db / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0,
             1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    # Stage 2: RLB high pass at ~38 Hz.
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / sample_rate)
    a0 = 1 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, highpass])


def channel_weights(channels: int) -> np.ndarray:
    """BS.1770 channel weights: 1.0 for front channels, 1.41 for surrounds, 0 for LFE (5.1 order)."""
    if channels == 6:  # FL FR FC LFE BL BR
        return np.array([1.0, 1.0, 1.0, 0.0, 1.41, 1.41])
    return np.ones(channels)


class LoudnessMeter:
    """Feed `add(frames)` with float PCM shaped (n, channels); read `integrated()` and `peak` at the end."""

    def __init__(self, sample_rate: int, channels: int):
        self.sample_rate = sample_rate
        self.channels = channels
        self._sos = k_weighting(sample_rate)
        self._zi = np.zeros((self._sos.shape[0], 2, channels))
        self._weights = channel_weights(channels)
        self._frames = 0
        self._energy = 0.0  # weighted sum of squares of all K-weighted samples so far
        # Energy totals at each 100 ms boundary; boundary k is sample (k * rate) // 10, exact for any rate.
        self._boundaries: list[int] = [0]
        self._totals: list[float] = [0.0]
        self.peak = 0.0

    @property
    def frames(self) -> int:
        return self._frames

    def add(self, frames: np.ndarray) -> None:
        n = len(frames)
        if n == 0:
            return
        self.peak = max(self.peak, float(np.abs(frames).max()))
        from scipy.signal import sosfilt  # imported here: scipy.signal costs ~0.9 s at every CLI start

        filtered, self._zi = sosfilt(self._sos, frames, axis=0, zi=self._zi)
        energy = np.square(filtered) @ self._weights
        running = np.cumsum(energy)
        start, end = self._frames, self._frames + n
        k = len(self._boundaries)
        while (edge := k * self.sample_rate // 10) <= end:
            self._boundaries.append(edge)
            self._totals.append(self._energy + float(running[edge - start - 1]))
            k += 1
        self._energy += float(running[-1])
        self._frames = end

    def integrated(self) -> float:
        """Gated integrated loudness in LUFS; -inf when nothing is above the absolute gate."""
        totals = np.array(self._totals)
        edges = np.array(self._boundaries)
        if len(edges) >= 5:  # 400 ms blocks every 100 ms (75 % overlap)
            power = (totals[4:] - totals[:-4]) / (edges[4:] - edges[:-4])
        elif self._frames:  # shorter than one block: measure the whole file as one block
            power = np.array([self._energy / self._frames])
        else:
            return SILENT
        with np.errstate(divide="ignore"):
            block_lufs = -0.691 + 10 * np.log10(power)
        gated = power[block_lufs > ABSOLUTE_GATE_LUFS]
        if not len(gated):
            return SILENT
        relative_gate = -0.691 + 10 * math.log10(gated.mean()) + RELATIVE_GATE_LU
        kept = power[(block_lufs > ABSOLUTE_GATE_LUFS) & (block_lufs > relative_gate)]
        return -0.691 + 10 * math.log10(kept.mean())

    def peak_dbfs(self) -> float:
        return 20 * math.log10(self.peak) if self.peak > 0 else SILENT
