"""Break-in rules (Circular 39/2020 levels) and the spool that hands requests to the daemon."""

from pathlib import Path

from broadcaster.playout.breakin import BreakInRequest, BreakInSpool, Verdict, judge
from tests.fixtures_daemon import at, plan


def test_emergency_inside_blackout_needs_confirm():
    refused = judge("emergency", False, [plan()], at("09:00:00"))
    assert not refused.accepted and "--confirm" in refused.message_en and "--confirm" in refused.message_vi
    assert judge("emergency", True, [plan()], at("09:00:00")).accepted


def test_emergency_outside_blackout_airs_now():
    assert judge("emergency", False, [plan()], at("06:30:00")).accepted


def test_priority_waits_for_a_slot_but_is_refused_when_none_is_left_today():
    later = judge("priority", False, [plan()], at("09:00:00"))
    assert later.accepted and "11:30:00" in later.message_en
    none_left = judge("priority", True, [plan()], at("12:00:00"))
    assert not none_left.accepted
    assert "No slot left today" in none_left.message_en and "Không còn buổi phát" in none_left.message_vi


def test_spool_hands_request_over_and_answer_back(tmp_path):
    spool = BreakInSpool(tmp_path)
    spool.prepare()  # the daemon's start
    request = BreakInRequest.new(Path("/tmp/x.wav"), "emergency", "bão số 5", False, at("06:30:00"))
    spool.submit(request)
    assert spool.pending() == [request]
    assert spool.pending() == []  # taken once
    spool.answer(request.id, Verdict(True, "ok", "ok"))
    assert spool.wait_answer(request.id, 1.0) == Verdict(True, "ok", "ok")


def test_a_priority_clip_is_promised_to_the_next_slot_and_expires_at_its_end():
    from broadcaster.playout.breakin import priority_expiry

    assert priority_expiry([plan()], at("05:40:00")) == at("06:00:00")  # inside the morning slot
    assert priority_expiry([plan()], at("09:00:00")) == at("11:45:00")  # between slots: the noon one
    assert priority_expiry([plan()], at("12:00:00")) is None
    assert "expires if not aired by 11:45:00" in judge("priority", False, [plan()], at("09:00:00")).message_en


def test_held_priority_clips_are_kept_on_disk_until_dropped(tmp_path):
    from broadcaster.playout.breakin import HeldPriority

    first = BreakInRequest.new(Path("/tmp/a.wav"), "priority", "họp", False, at("05:40:00"))
    second = BreakInRequest.new(Path("/tmp/b.wav"), "priority", "", False, at("05:41:00"))
    HeldPriority(tmp_path).keep(second, at("06:00:00"))
    HeldPriority(tmp_path).keep(first, at("06:00:00"))
    (tmp_path / "break-in" / "held" / "junk.json").write_text("{half", encoding="utf-8")
    assert HeldPriority(tmp_path).all() == [(first, at("06:00:00")), (second, at("06:00:00"))]  # a new reader
    HeldPriority(tmp_path).drop(first.id)
    assert HeldPriority(tmp_path).all() == [(second, at("06:00:00"))]
    assert BreakInSpool(tmp_path).pending() == []  # not mistaken for new requests
