"""broadcaster.files: the one atomic write, hash and slug every stage uses."""

import hashlib
import os
import stat

import pytest

from broadcaster.files import file_sha256, replacing, slug, write_atomic


def test_atomic_write_replaces_the_file_whole_and_leaves_no_temp(tmp_path):
    target = tmp_path / "state" / "on-air.json"
    write_atomic(target, "first")
    write_atomic(target, "second, longer")
    assert target.read_text(encoding="utf-8") == "second, longer"
    assert os.listdir(target.parent) == ["on-air.json"]


def test_a_writer_that_fails_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "catalogue.sqlite"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_bytes(b"half of the new")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["catalogue.sqlite"]


def test_private_files_are_written_owner_only(tmp_path):
    target = write_atomic(tmp_path / "tokens.yaml", "xa-a: secret", mode=0o600)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_file_sha256_matches_hashlib_across_read_chunks(tmp_path):
    data = os.urandom((1 << 20) + 12345)  # more than one read
    (tmp_path / "clip.mp3").write_bytes(data)
    assert file_sha256(tmp_path / "clip.mp3") == hashlib.sha256(data).hexdigest()


def test_slug_makes_ascii_names_from_vietnamese_text():
    assert slug("Khai báo y tế trên Smart Hải Dương") == "khai-bao-y-te-tren-smart-hai-duong"
    assert slug("Đài truyền thanh: số 1!") == "dai-truyen-thanh-so-1"
    assert slug("Xã Cẩm Đông") == "xa-cam-dong"
    assert slug("!!!") == ""
    assert len(slug("a " * 100)) <= 80
