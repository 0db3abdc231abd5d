"""The planner's rules, proved on generated stations and libraries (hypothesis) and on the demo station."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadcaster.planning.planner import plan_day, plan_days
from broadcaster.station.config import Blackout, Slot, load_station
from broadcaster.station.playlists import CategoryRule, Pick, Playlist, Quota, load_playlists
from broadcaster.station.schedule import Recurrence
from tests.support.library import demo_library, item

ROOT = Path(__file__).resolve().parent.parent
DEMO = load_station(ROOT / "config.yaml")
DEMO_PLAYLISTS = load_playlists(DEMO)
ONLINE_LESSON_DAY = date(2021, 2, 22)  # a Monday during the school closure


def minutes(n: int) -> time:
    return time(n // 60, n % 60)


@st.composite
def stations(draw):
    """A station with 1–4 non-overlapping slots and 0–3 blackouts anywhere in the day."""
    starts = sorted(draw(st.lists(st.integers(0, 23 * 60), min_size=1, max_size=4, unique=True)))
    slots = []
    for n, start in enumerate(starts):
        limit = starts[n + 1] if n + 1 < len(starts) else 24 * 60 - 1
        if limit - start < 2:
            continue
        end = draw(st.integers(start + 1, min(limit, start + 120)))
        days = frozenset(draw(st.sets(st.integers(0, 6), min_size=1)))
        slots.append(Slot(f"s{n}", f"slot {n}", Recurrence(days, minutes(start), minutes(end)), "p"))
    blackouts = []
    for n in range(draw(st.integers(0, 3))):
        start = draw(st.integers(0, 24 * 60 - 2))
        end = draw(st.integers(start + 1, min(24 * 60 - 1, start + 300)))
        days = frozenset(draw(st.sets(st.integers(0, 6), min_size=1)))
        blackouts.append(Blackout(f"b{n}", f"blackout {n}", Recurrence(days, minutes(start), minutes(end))))
    return replace(DEMO, slots=slots, blackouts=blackouts, caps=replace(DEMO.caps, max_minutes_per_session=None,
                                                                        max_sessions_per_day=None, days_per_week=None))


@st.composite
def libraries(draw):
    items = []
    for category in ("bluezone", "khai-bao-y-te", "covid-song", "ident"):
        for n in range(draw(st.integers(0, 6))):
            seconds = draw(st.floats(3, 400, allow_nan=False))
            valid_from = draw(st.one_of(st.none(), st.dates(date(2021, 2, 1), date(2021, 3, 31))))
            items.append(item(category, f"{category}{n}", seconds, valid_from=valid_from))
    return items


PLAYLIST = Playlist(
    id="p", name="p", file="p.yaml", order="rotate",
    open=(Pick(category="ident"),), sequence=(Pick(category="bluezone"), Pick(category="covid-song"),
                                             Pick(category="khai-bao-y-te")),
    close=(Pick(category="ident"),), fill="covid-song",
    categories={"bluezone": CategoryRule(Quota(3, 5), 30.0), "covid-song": CategoryRule(Quota(0, None), 60.0)})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(station=stations(), library=libraries(), day=st.dates(date(2021, 2, 1), date(2021, 3, 31)))
def test_no_item_ever_overlaps_a_blackout_or_overruns_its_slot(station, library, day):
    plan = plan_day(station, {"p": PLAYLIST}, library, day)
    for planned in plan.items:
        assert any(w.id == planned.slot and w.start <= planned.start and planned.end <= w.end for w in plan.slots)
        for b in plan.blackouts:
            assert planned.end <= b.start or planned.start >= b.end, (planned, b)
    for window in plan.slots:
        for b in plan.blackouts:
            assert window.end <= b.start or window.start >= b.end
    # Items in a slot never overlap, except by the planned crossfade.
    for a, b in zip(plan.items, plan.items[1:]):
        if a.slot == b.slot and b.start < a.end:
            assert abs((a.end - b.start).total_seconds() - b.crossfade_in) < 1e-6
    # Quotas and validity are honoured.
    bluezone = [p for p in plan.items if p.category == "bluezone"]
    assert len(bluezone) <= 5
    expired = {i.sha256 for i in library if not i.valid_on(day)}
    assert not expired & {p.sha256 for p in plan.items}
    # The same song is never repeated within its separation.
    starts: dict[str, list] = {}
    for p in plan.items:
        starts.setdefault(p.sha256, []).append(p.start)
    for p in plan.items:
        if p.category == "covid-song":
            times = sorted(starts[p.sha256])
            assert all(b - a >= timedelta(minutes=60) for a, b in zip(times, times[1:]))


@settings(max_examples=60, deadline=None)
@given(station=stations(), library=libraries(), day=st.dates(date(2021, 2, 1), date(2021, 3, 31)))
def test_plan_is_deterministic(station, library, day):
    first = plan_day(station, {"p": PLAYLIST}, library, day)
    again = plan_day(station, {"p": PLAYLIST}, list(reversed(library)), day)
    assert first == again


def test_demo_day_keeps_online_lessons_silent_and_airs_bluezone_at_least_three_times():
    plan = plan_day(DEMO, DEMO_PLAYLISTS, demo_library(), ONLINE_LESSON_DAY)
    assert [b.id for b in plan.blackouts] == ["hoc-truc-tuyen-sang", "hoc-truc-tuyen-chieu"]
    noon = next(w for w in plan.slots if w.id == "trua")
    assert noon.start.time() == time(11, 30)  # clipped by the morning lessons, which end at 11:30
    for category in ("bluezone", "khai-bao-y-te"):
        count = sum(p.category == category for p in plan.items)
        assert 3 <= count <= 5, category
    # Spread over the day: every session gets a Bluezone clip.
    assert {p.slot for p in plan.items if p.category == "bluezone"} == {"sang", "trua", "chieu"}
    assert all(p.start.utcoffset() == timedelta(hours=7) for p in plan.items)


def test_sunday_noon_slot_is_whole_without_lessons():
    plan = plan_day(DEMO, DEMO_PLAYLISTS, demo_library(), date(2021, 2, 28))
    noon = next(w for w in plan.slots if w.id == "trua")
    assert noon.start.time() == time(11, 15) and not any(b.start.date() == noon.start.date() and b.id.endswith(
        "sang") for b in plan.blackouts)


def test_fill_uses_subset_sum_to_close_the_gap():
    # 10 minutes to fill; greedy in rotation order (250+250) would leave 100 s; 200+200+200 fills it.
    station = replace(DEMO, slots=[Slot("x", "x", Recurrence(start=time(6), end=time(6, 10)), "p")], blackouts=[],
                      audio=replace(DEMO.audio, crossfade_categories=()))
    songs = [item("covid-song", "a", 250), item("covid-song", "b", 250), item("covid-song", "c", 200),
             item("covid-song", "d", 200), item("covid-song", "e", 200)]
    playlist = Playlist(id="p", name="p", file="p.yaml", order="sequential", fill="covid-song")
    plan = plan_day(station, {"p": playlist}, songs, ONLINE_LESSON_DAY)
    assert plan.unfilled_seconds["x"] == 0.0
    assert sorted(p.duration for p in plan.items) == [200, 200, 200]


def test_too_little_material_gives_exceptions_not_a_crash():
    plan = plan_day(DEMO, DEMO_PLAYLISTS, [item("covid-song", "only", 180)], ONLINE_LESSON_DAY)
    rules = {e.rule for e in plan.exceptions}
    assert {"quota", "fill", "material"} <= rules
    assert any("bluezone" in e.message and "minimum 3" in e.message for e in plan.exceptions)


def test_expired_clip_silently_leaves_the_rotation():
    library = demo_library()
    expired = item("bluezone", "old", 30, valid_until=date(2021, 2, 1))
    plan = plan_day(DEMO, DEMO_PLAYLISTS, library + [expired], ONLINE_LESSON_DAY)
    assert expired.sha256 not in {p.sha256 for p in plan.items}
    assert not any("old" in e.message for e in plan.exceptions)


def test_session_cap_shortens_slots():
    station = replace(DEMO, caps=replace(DEMO.caps, max_minutes_per_session=15))
    plan = plan_day(station, DEMO_PLAYLISTS, demo_library(), ONLINE_LESSON_DAY)
    assert all(w.seconds <= 15 * 60 for w in plan.slots)


def test_a_year_of_plans_never_breaks_a_blackout():
    plans = plan_days(DEMO, DEMO_PLAYLISTS, demo_library(), date(2021, 2, 1), 60)
    for plan in plans:
        for p in plan.items:
            assert all(p.end <= b.start or p.start >= b.end for b in plan.blackouts)


def test_district_clip_with_its_own_minimum_is_played_that_often():
    from broadcaster.station.playlists import ItemRule, with_item_rules

    library = demo_library()
    pushed = item("bluezone", "district-new", 40)
    playlists = with_item_rules(DEMO_PLAYLISTS, [ItemRule(sha256=pushed.sha256, plays=Quota(3, 3))])
    plan = plan_day(DEMO, playlists, library + [pushed], ONLINE_LESSON_DAY)
    assert sum(p.sha256 == pushed.sha256 for p in plan.items) == 3
    assert not [e for e in plan.exceptions if e.rule == "quota"]


def test_emergency_clip_goes_first_in_its_category():
    urgent = item("khai-bao-y-te", "urgent", 30, priority="emergency")
    plan = plan_day(DEMO, DEMO_PLAYLISTS, demo_library() + [urgent], ONLINE_LESSON_DAY)
    first = next(p for p in plan.items if p.category == "khai-bao-y-te")
    assert first.sha256 == urgent.sha256 and first.level == "emergency"
