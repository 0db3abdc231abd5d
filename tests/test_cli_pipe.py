"""A printing command whose reader goes away early (`log show | head -1`) ends quietly, as ls and git log do."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_printing_into_a_pipe_closed_early_ends_quietly_with_the_sigpipe_code():
    # Two months of the demo station's plan is far more than a pipe's 64 KB buffer, so the writer meets the
    # closed pipe mid-output, not only at its last flush.
    script = f"'{sys.executable}' main.py plan --date 2021-02-22 --days 60 | head -c 1 >/dev/null; " \
             "echo ${PIPESTATUS[0]}"
    done = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.stdout.strip() == "141", done


def test_the_same_command_into_an_open_pipe_still_succeeds():
    done = subprocess.run(["bash", "-c", f"'{sys.executable}' main.py plan --date 2021-02-22 | wc -c; "
                           "echo ${PIPESTATUS[0]}"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    size, code = done.stdout.split()
    assert int(size) > 100 and code == "0", done
