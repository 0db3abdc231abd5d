"""What should be on air at an instant: the pure answer a restart needs."""

from datetime import timedelta

from broadcaster.planning.cache import PlanCache, shifted_to
from broadcaster.planning.runs import due_at, run_at, runs_ahead, runs_of
from tests.support.daemon import DAY, at, plan


def test_plan_cuts_into_one_run_per_slot_segment():
    runs = runs_of(plan())
    assert [r.window.id for r in runs] == ["sang", "trua"]
    assert [len(r.items) for r in runs] == [3, 2]
    assert runs[0].hard_stop == at("06:00:00")


def test_restart_mid_item_resumes_that_item_at_the_offset():
    due = due_at([plan()], at("05:43:20"))
    assert due.item.title == "sang-1" and due.offset == 200.0
    assert due.run.window.id == "sang"


def test_nothing_is_due_between_slots_or_in_a_blackout():
    assert due_at([plan()], at("06:10:00")) is None
    assert due_at([plan()], at("09:00:00")) is None
    assert run_at([plan()], at("09:00:00")) is None


def test_runs_ahead_includes_the_run_on_air():
    assert [r.window.id for r in runs_ahead([plan()], at("05:45:00"))] == ["sang", "trua"]
    assert runs_ahead([plan()], at("11:45:00")) == []


def test_cached_plan_reads_back_identical(tmp_path):
    cache = PlanCache(tmp_path)
    cache.save(plan())
    assert cache.load(DAY) == plan()
    assert cache.latest_before(DAY + timedelta(days=3)) == plan()


def test_yesterdays_plan_replayed_today_keeps_wall_clock_times():
    today = DAY + timedelta(days=1)
    moved = shifted_to(plan(), today)
    assert moved.items[0].start == at("05:30:00", today)
    assert moved.blackouts[0].end == at("11:30:00", today)
    assert [i.title for i in moved.items] == [i.title for i in plan().items]
