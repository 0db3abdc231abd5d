"""Fixtures every test module may name as an argument, without importing them.

Shared helpers live in tests/support/ (one module per subject: audio, audio_files, daemon, engine, feed,
library, pulse, reports, web); test modules import helper functions from there and never from each other.
"""

pytest_plugins = [
    "tests.support.daemon",  # warm_pulse
    "tests.support.feed",  # district, feed_server, collector
    "tests.support.pulse",  # pulse
    "tests.support.reports",  # demo_log
    "tests.support.web",  # the web console's station, server and browser
]
