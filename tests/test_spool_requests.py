"""The break-in spool against bad requests (issue 11 items 7 and 8): each request on its own, a malformed one
moved to rejected/ with its reason, ids matched in full before they name any file. Real files in a real folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from broadcaster.playout.breakin import BadRequest, BreakInRequest, BreakInSpool, HeldPriority
from tests.fixtures_daemon import at


def request(tmp_path: Path, **changes) -> dict:
    good = BreakInRequest.new(tmp_path / "bao.wav", "emergency", "bão số 5", False, at("06:30:00"))
    return {**good.__dict__, **changes}


def drop(spool: BreakInSpool, name: str, data) -> Path:
    path = spool.folder / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def spool(tmp_path) -> BreakInSpool:
    spool = BreakInSpool(tmp_path / "state")
    spool.prepare()
    return spool


def test_a_malformed_request_goes_to_rejected_with_its_reason_and_the_others_are_taken(tmp_path, spool):
    bad = request(tmp_path, requested_at="not-a-time")
    drop(spool, f"{bad['id']}.json", bad)
    drop(spool, "0123456789ab.json", "{half a request")
    genuine = BreakInRequest(**request(tmp_path))
    spool.submit(genuine)

    assert spool.pending() == [genuine]
    why = json.loads((spool.rejected / f"{bad['id']}.json.why.json").read_text(encoding="utf-8"))
    assert "requested_at" in why["message_en"] and "not-a-time" in why["message_en"] and why["message_vi"]
    assert "broken JSON" in json.loads((spool.rejected / "0123456789ab.json.why.json").read_text())["message_en"]
    assert (spool.rejected / f"{bad['id']}.json").exists()  # kept, not lost
    answer = spool.wait_answer(bad["id"], 1.0)  # play-now, waiting on that id, is told why
    assert answer is not None and not answer.accepted and "requested_at" in answer.message_en
    assert spool.pending() == []  # nothing is read twice


@pytest.mark.parametrize("field, value", [("level", "urgent"), ("confirm", "yes"), ("file", "relative.wav"),
                                          ("reason", "x" * 2001), ("requested_at", "2021-03-01T06:30:00")])
def test_each_field_is_checked(tmp_path, spool, field, value):
    bad = request(tmp_path, **{field: value})
    drop(spool, f"{bad['id']}.json", bad)
    assert spool.pending() == []
    assert field.replace("_", "") in (spool.rejected / f"{bad['id']}.json.why.json").read_text().replace("_", "")


def test_a_request_id_that_is_a_path_never_names_a_file(tmp_path, spool):
    canary = tmp_path / "canary"
    canary.write_text("alive", encoding="utf-8")
    hostile = "../../canary"  # from state/break-in/: tmp_path/canary
    assert (spool.folder / f"{hostile}.json").resolve() == tmp_path / "canary.json"
    drop(spool, "0123456789ab.json", request(tmp_path, id=hostile))
    drop(spool, "feedfacefeed.json", request(tmp_path, id="../../../canary"))

    assert spool.pending() == []
    assert len(list(spool.rejected.glob("*.why.json"))) == 2
    assert "invalid request id" in (spool.rejected / "0123456789ab.json.why.json").read_text()
    for use in (lambda: spool.answer(hostile, None), lambda: spool.withdraw(hostile),
                lambda: spool.wait_answer(hostile, 0.1), lambda: HeldPriority(spool.folder.parent).drop(hostile)):
        with pytest.raises(BadRequest):
            use()
    held = spool.folder / "held" / "0123456789ab.json"  # a held record whose id is a path is dropped, not used
    held.write_text(json.dumps({"request": request(tmp_path, id=hostile), "expires": "2021-03-01T07:00:00+07:00"}))
    assert HeldPriority(spool.folder.parent).all() == [] and not held.exists()
    assert canary.read_text(encoding="utf-8") == "alive"
    assert not (tmp_path / "canary.json").exists() and not (tmp_path / "canary.answer.json").exists()


def test_an_id_with_a_trailing_newline_is_refused():
    with pytest.raises(BadRequest):
        BreakInRequest.parse({"id": "0123456789ab\n", "file": "/a.wav", "level": "emergency", "reason": "",
                              "confirm": False, "requested_at": "2021-03-01T06:30:00+07:00"})
