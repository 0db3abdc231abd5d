"""What root ingests at the terminal, the service can read, and the service can go on adding to it (the feed):
files 0640 in the group of the library's folders, the catalogue and new folders writable by that group,
whatever root's umask. Real files, a real SQLite catalogue, a real process run as another user."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from broadcaster.library.catalogue import Library
from tests.fixtures_audio_files import make_audio

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root: ingests as root and reads as another user"),
    pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="needs the system python3 to read as nobody"),
]

# The service's user and group stand-ins: users that exist on every Debian system.
SERVICE_USER, SERVICE_GROUP = "nobody", "nogroup"

# Run by Debian's own python3 (stdlib only: the project's venv lives under root's home): every file the
# library wrote, read whole; the catalogue's rows read and a row changed (rolled back); a file added in each
# folder root made, as the feed adds clips.
AS_SERVICE = """
import sqlite3, sys
from pathlib import Path
for path in sorted(Path(sys.argv[1]).rglob("*")):
    if path.is_file():
        path.read_bytes()
    else:
        (path / ".written-by-service").write_bytes(b"x")
        (path / ".written-by-service").unlink()
db = sqlite3.connect(sys.argv[2])
print(db.execute("SELECT count(*) FROM items").fetchone()[0], "items")
db.execute("UPDATE items SET title = title || '!'")
db.rollback()
"""


@pytest.fixture
def station():
    """A station's folders as docs/deploy.md sets them up: the service's (0750: others cannot look in), outside
    pytest's 0700 tmp."""
    top = Path(tempfile.mkdtemp(prefix="station-perm-"))
    os.chmod(top, 0o755)
    user = pwd.getpwnam(SERVICE_USER)
    for name in ("audio", "data"):
        (top / name).mkdir()
        os.chown(top / name, user.pw_uid, user.pw_gid)
        os.chmod(top / name, 0o750)
    yield top
    shutil.rmtree(top)


def as_service(station: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["/usr/bin/python3", "-c", AS_SERVICE, str(station / "audio"),
                           str(station / "data" / "lib.sqlite")], user=SERVICE_USER, group=SERVICE_GROUP,
                          extra_groups=[], cwd="/", capture_output=True, text=True, timeout=60)


def test_what_root_ingests_with_a_strict_umask_the_service_can_read_and_add_to(station, tmp_path):
    source = make_audio(tmp_path / "song.mp3", 2)
    library = Library(station / "data" / "lib.sqlite", station / "audio", copies=(44100, 2))
    old_umask = os.umask(0o077)  # a hardened root shell: anything it creates is private unless told otherwise
    try:
        item = library.ingest(source, category="covid-song").item
        library.ingest(make_audio(tmp_path / "news.mp3", 2, source="sine=f=440:r={rate}"), category="news")
    finally:
        os.umask(old_umask)
    gid = grp.getgrnam(SERVICE_GROUP).gr_gid
    written = [p for p in (station / "audio").rglob("*")]
    assert {p.name for p in written} >= {"covid-song", ".station", Path(item.file).name}
    for path in written:
        info = path.stat()
        assert info.st_gid == gid, path
        expected = 0o2770 if path.is_dir() else 0o640
        assert stat.S_IMODE(info.st_mode) == expected, (path, oct(info.st_mode))
    for path in (library.catalogue_path, library.catalogue_path.with_name("lib.sqlite.lock")):
        assert (path.stat().st_gid, stat.S_IMODE(path.stat().st_mode)) == (gid, 0o660)
    result = as_service(station)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "items"]


def test_the_service_is_refused_a_file_outside_its_group(station, tmp_path):
    # The check above can fail: a file the group does not own is unreadable to the service.
    library = Library(station / "data" / "lib.sqlite", station / "audio")
    item = library.ingest(make_audio(tmp_path / "song.mp3", 2), category="covid-song").item
    os.chown(station / "audio" / item.file, 0, 0)
    result = as_service(station)
    assert result.returncode != 0 and "PermissionError" in result.stderr


def test_rebuild_by_root_keeps_the_catalogue_the_service_owns(station, tmp_path):
    user = pwd.getpwnam(SERVICE_USER)
    library = Library(station / "data" / "lib.sqlite", station / "audio")
    library.ingest(make_audio(tmp_path / "song.mp3", 2), category="covid-song")
    os.chown(library.catalogue_path, user.pw_uid, user.pw_gid)
    os.chmod(library.catalogue_path, 0o640)
    library.rebuild()
    info = library.catalogue_path.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (user.pw_uid, user.pw_gid, 0o640)
