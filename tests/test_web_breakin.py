"""An emergency sent from the browser reaches the loudspeakers: the console and `python main.py run` as two real
processes, a private PulseAudio with a null sink, the sink's monitor recorded back (as tests/test_daemon_live.py
does), the clip told apart from the programme by its frequency."""

from __future__ import annotations

import time

import numpy as np

from tests.support.daemon import (
    NEEDS_PULSEAUDIO,
    DaemonProcess,
    Recorder,
    log_rows,
    now_in_zone,
    station_dir,
    tone,
)
from tests.support.web import (
    add_users,
    login,
    needs_chromium,
    screenshot,
    start_console,
    stop_console,
)

pytestmark = [needs_chromium, NEEDS_PULSEAUDIO]
SIREN_HZ = 1000  # the programme's tones are 330..880 Hz


def energy_at(samples: np.ndarray, hz: float, rate: int = 44100, window: float = 0.25) -> np.ndarray:
    """Per window, the share of the signal's power within ±15 Hz of `hz`."""
    n = int(rate * window)
    frames = samples[: len(samples) // n * n].reshape(-1, n)
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(n), axis=1)) ** 2
    freqs = np.fft.rfftfreq(n, 1 / rate)
    band = (freqs > hz - 15) & (freqs < hz + 15)
    return spectrum[:, band].sum(axis=1) / np.maximum(spectrum.sum(axis=1), 1e-12)


def test_an_emergency_sent_from_the_browser_airs_and_the_page_shows_when(browser, tmp_path, daemon_pulse):
    from broadcaster.library.catalogue import Library

    env, _ = daemon_pulse
    config, start = station_dir(tmp_path, 4, 40, item_seconds=6)
    siren = tone(tmp_path / "src" / "bao-chay.wav", SIREN_HZ, 3.0)
    Library(tmp_path / "data" / "library.sqlite", tmp_path / "audio").ingest(
        siren, category="khan-cap", title="Báo cháy chợ", priority="emergency")
    add_users(config)
    console = start_console(config)
    daemon = DaemonProcess(config, env)
    recorder = Recorder(env, tmp_path / "monitor.raw")
    try:
        assert daemon.wait_for("daemon ready", 20), daemon.text()
        page = login(browser, console, "approver")
        page.goto("/breakin/")
        page.select_option("#breakin-item", label="Báo cháy chợ (khan-cap, emergency)")
        page.check("input[name=level][value=emergency]")
        page.click("#breakin-submit")  # no reason yet: refused, nothing sent
        assert "Cần ghi lý do" in page.locator("#breakin-error").inner_text()
        page.fill("#breakin-reason", "Cháy chợ Cẩm Hưng: sơ tán")
        time.sleep(max(0.0, (start - now_in_zone()).total_seconds() + 1.5))  # into the slot
        page.click("#breakin-submit")
        page.locator("#confirm-emergency").wait_for()  # the second confirmation
        screenshot(page, "breakin-confirm", tmp_path)
        page.click("#confirm-emergency")
        # The daemon's answer, or (on a machine loaded past its 10 s wait) word that it took the request.
        assert page.locator("#verdict").inner_text(timeout=15000) in (
            "Phát khẩn cấp ngay", "Trạm phát không trả lời (trạm đã nhận yêu cầu)")
        page.locator(".aired-row.status-aired").wait_for(timeout=60000)  # the page follows the as-run log
        aired = page.locator(".aired-row").inner_text()
        screenshot(page, "breakin-aired", tmp_path)
        assert "aired" in aired and "bao-chay-cho" in aired  # the engine logs a break-in by its file
        time.sleep(1.0)
    finally:
        daemon.stop()
        samples = recorder.stop()
        stop_console(console)
    heard = energy_at(samples, SIREN_HZ) > 0.5
    assert heard.sum() * 0.25 >= 2.0, "the siren was not heard for its 3 s"  # most of the clip, whole windows
    rows = [r for r in log_rows(config, start.date()) if r["level"] == "emergency"]
    assert rows and rows[0]["status"] == "aired" and "Cháy chợ Cẩm Hưng" in rows[0]["reason"]
