"""Fixtures every test module may name as an argument, without importing them.

Shared helpers live in tests/support/ (one module per subject: audio, audio_files, daemon, engine, feed,
heard, library, pulse, reports, web); test modules import helper functions from there and never from each other.
"""

pytest_plugins = [
    "tests.support.daemon",  # warm_pulse, daemon_pulse
    "tests.support.feed",  # district, feed_server, collector
    "tests.support.pulse",  # pulse, own_server
    "tests.support.reports",  # demo_log
    "tests.support.web",  # the web console's station, server and browser
]


# Live tests play through a real sound server and judge timing in milliseconds on a 2-core machine that they
# share with the server, the recorder and the daemon. A miss caused by the machine (a scheduler stall) does not
# repeat; a real fault fails every try. So a test that uses a live sound server gets two more tries, and each
# retry is listed in the summary (-ra: "R"), never hidden. Timing itself is measured in bench/, not here.
LIVE_RERUNS = 2


def pytest_collection_modifyitems(config, items):
    import pytest

    if not config.pluginmanager.hasplugin("rerunfailures"):
        return
    for item in items:
        if {"pulse", "warm_pulse", "daemon_pulse"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.flaky(reruns=LIVE_RERUNS, reruns_delay=2))
