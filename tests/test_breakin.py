"""Break-in rules (Circular 39/2020 levels) and the spool that hands requests to the daemon."""

from pathlib import Path

from broadcaster.breakin import BreakInRequest, BreakInSpool, Verdict, judge
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
    request = BreakInRequest.new(Path("/tmp/x.wav"), "emergency", "bão số 5", False, at("06:30:00"))
    spool.submit(request)
    assert spool.pending() == [request]
    assert spool.pending() == []  # taken once
    spool.answer(request.id, Verdict(True, "ok", "ok"))
    assert spool.wait_answer(request.id, 1.0) == Verdict(True, "ok", "ok")
