"""Fixtures every test module may name as an argument, without importing them.

Shared helpers live in tests/support/ (one module per subject: audio, audio_files, daemon, engine, feed,
heard, library, pulse, reports, web); test modules import helper functions from there and never from each other.
"""

import pytest

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
RERUN_FIXTURES = {"pulse", "warm_pulse", "daemon_pulse"}
# A test that uses one of these (or is marked `live` by hand) is live: scripts/test.sh runs the live tests one at a
# time after the others, which run on every core (pytest-xdist), so that nothing else competes with their timing.
LIVE_FIXTURES = RERUN_FIXTURES | {"own_server"}


def pytest_configure(config):
    config.addinivalue_line("markers", "live: plays through a real sound server and judges its timing (run alone)")


@pytest.hookimpl(tryfirst=True)  # before the mark plugin's, which deselects by `-m` (scripts/test.sh)
def pytest_collection_modifyitems(config, items):
    reruns = config.pluginmanager.hasplugin("rerunfailures")
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & LIVE_FIXTURES:
            item.add_marker(pytest.mark.live)
        if reruns and fixtures & RERUN_FIXTURES:
            item.add_marker(pytest.mark.flaky(reruns=LIVE_RERUNS, reruns_delay=2))
