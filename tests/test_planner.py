"""The planner's rules, proved on generated stations and libraries (hypothesis) and on the demo station."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broadcaster.planning.planner import plan_day, plan_days
from broadcaster.station.config import Blackout, Caps, Slot, load_station
from broadcaster.station.playlists import CategoryRule, Pick, Playlist, Quota, load_playlists
from broadcaster.station.schedule import Recurrence
from tests.support.library import demo_library, item

ROOT = Path(__file__).resolve().parent.parent
DEMO = load_station(ROOT / "config.yaml")
DEMO_PLAYLISTS = load_playlists(DEMO)
ONLINE_LESSON_DAY = date(2021, 2, 22)  # a Monday during the school closure


def minutes(n: int) -> time:
    return time.max if n >= 24 * 60 else time(n // 60, n % 60)  # 24 * 60 is the config's "24:00"


# Days drawn from: the demo's school closure and, in a zone that keeps DST, the spring and autumn changes.
FIRST_DAY, LAST_DAY = date(2021, 2, 1), date(2021, 11, 10)
ZONES = ["Asia/Ho_Chi_Minh", "Europe/Berlin"]  # Berlin: 2021-03-28 has no 02:30, 2021-10-31 has two


@st.composite
def recurrences(draw, near: date, start: int, end: int):
    """Weekdays, times, and sometimes a date range or a list of dates placed around `near` (a range that ends
    on the very day, or starts on it, is where an off-by-one hides)."""
    days = frozenset(draw(st.one_of(st.just(set(range(7))), st.sets(st.integers(0, 6), min_size=1))))
    shift = st.sampled_from([-2, -1, 0, 0, 0, 1]).map(lambda n: near + timedelta(days=n))  # the day itself most
    date_from = draw(st.one_of(st.none(), shift))
    date_until = draw(st.one_of(st.none(), shift))
    dates = frozenset(draw(st.one_of(st.just(set()), st.sets(shift, min_size=1, max_size=3))))
    return Recurrence(days, minutes(start), minutes(end), date_from, date_until, dates)


@st.composite
def stations(draw, day: date):
    """A station with 1–4 non-overlapping slots (from midnight to 24:00), 0–3 blackouts, most of them over a
    slot, some dated around `day`, caps sometimes, in a zone with or without DST."""
    starts = sorted(draw(st.lists(st.integers(0, 24 * 60 - 2), min_size=1, max_size=4, unique=True)))
    slots = []
    for n, start in enumerate(starts):
        limit = starts[n + 1] if n + 1 < len(starts) else 24 * 60
        if limit - start < 2:
            continue
        end = draw(st.integers(start + 1, min(limit, start + 120)))
        when = draw(recurrences(day, start, end)) if draw(st.booleans()) else \
            Recurrence(frozenset(range(7)), minutes(start), minutes(end))
        slots.append(Slot(f"s{n}", f"slot {n}", when, "p"))
    blackouts = []
    for n in range(draw(st.integers(0, 3))):
        if slots and draw(st.integers(0, 3)):  # three times in four: over (part of) a slot
            over = draw(st.sampled_from(slots)).when
            lo = over.start.hour * 60 + over.start.minute
            hi = 24 * 60 if over.end == time.max else over.end.hour * 60 + over.end.minute
            start = draw(st.integers(max(0, lo - 30), hi - 1))
        else:
            start = draw(st.integers(0, 24 * 60 - 1))
        end = draw(st.integers(start + 1, min(24 * 60, start + 300)))
        blackouts.append(Blackout(f"b{n}", f"blackout {n}", draw(recurrences(day, start, end))))
    caps = Caps(max_minutes_per_session=draw(st.one_of(st.none(), st.integers(1, 90))),
                max_sessions_per_day=draw(st.one_of(st.none(), st.integers(1, 3))),
                max_minutes_per_day=draw(st.one_of(st.none(), st.integers(1, 200))))
    return replace(DEMO, slots=slots, blackouts=blackouts, caps=caps, timezone=draw(st.sampled_from(ZONES)))


@st.composite
def station_days(draw):
    day = draw(st.one_of(st.dates(FIRST_DAY, LAST_DAY),
                         st.sampled_from([date(2021, 3, 28), date(2021, 10, 31), date(2021, 3, 12)])))
    return draw(stations(day)), day


def spans_from_config(rules, day: date, zone: ZoneInfo) -> dict[str, tuple[datetime, datetime]]:
    """Where each slot or blackout falls on `day`, worked out here from the config's fields: not by the planner,
    not by `Recurrence`, so a rule the planner (or Recurrence) forgets is still checked."""
    spans = {}
    for rule in rules:
        w = rule.when
        if (w.dates and day not in w.dates) or (w.date_from is not None and day < w.date_from) \
                or (w.date_until is not None and day > w.date_until) or day.weekday() not in w.weekdays:
            continue
        end = datetime.combine(day + timedelta(days=1), time(0), zone) if w.end == time.max \
            else datetime.combine(day, w.end, zone)
        spans[rule.id] = (datetime.combine(day, w.start, zone), end)
    return spans


def covered_seconds(spans) -> float:
    """Length of the union of (start, end) spans."""
    total, reach = 0.0, None
    for start, end in sorted(spans):
        if reach is None or start > reach:
            total, reach = total + (end - start).total_seconds(), end
        elif end > reach:
            total, reach = total + (end - reach).total_seconds(), end
    return total


@st.composite
def libraries(draw):
    items = []
    for category in ("bluezone", "khai-bao-y-te", "covid-song", "ident"):
        for n in range(draw(st.integers(0, 6))):
            seconds = draw(st.floats(3, 400, allow_nan=False))
            valid_from = draw(st.one_of(st.none(), st.dates(FIRST_DAY, LAST_DAY)))
            items.append(item(category, f"{category}{n}", seconds, valid_from=valid_from))
    return items


PLAYLIST = Playlist(
    id="p", name="p", file="p.yaml", order="rotate",
    open=(Pick(category="ident"),), sequence=(Pick(category="bluezone"), Pick(category="covid-song"),
                                             Pick(category="khai-bao-y-te")),
    close=(Pick(category="ident"),), fill="covid-song",
    categories={"bluezone": CategoryRule(Quota(3, 5), 30.0), "covid-song": CategoryRule(Quota(0, None), 60.0)})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(station_day=station_days(), library=libraries())
def test_no_item_ever_overlaps_a_blackout_or_overruns_its_slot(station_day, library):
    station, day = station_day
    plan = plan_day(station, {"p": PLAYLIST}, library, day)
    zone = ZoneInfo(station.timezone)
    blackouts = spans_from_config(station.blackouts, day, zone)
    slots = spans_from_config(station.slots, day, zone)
    caps = station.caps
    for planned in plan.items:
        slot_start, slot_end = slots[planned.slot]
        assert slot_start <= planned.start and planned.end <= slot_end, planned
        for name, (b_start, b_end) in blackouts.items():
            assert planned.end <= b_start or planned.start >= b_end, (planned, name)
        if caps.max_minutes_per_session is not None:
            assert planned.end <= slot_start + timedelta(minutes=caps.max_minutes_per_session)
    if caps.max_sessions_per_day is not None:
        assert len({p.slot for p in plan.items}) <= caps.max_sessions_per_day
    if caps.max_minutes_per_day is not None:
        assert covered_seconds([(p.start, p.end) for p in plan.items]) <= caps.max_minutes_per_day * 60 + 1e-6
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
@given(station_day=station_days(), library=libraries())
def test_plan_is_deterministic(station_day, library):
    station, day = station_day
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
    plans = plan_days(DEMO, DEMO_PLAYLISTS, demo_library(), date(2021, 1, 1), 365)
    blacked_out = 0
    for plan in plans:
        blackouts = spans_from_config(DEMO.blackouts, plan.date, DEMO.zone)
        blacked_out += bool(blackouts)
        for p in plan.items:
            assert all(p.end <= start or p.start >= end for start, end in blackouts.values()), (p, blackouts)
    assert blacked_out >= 20  # the demo's school closure (2021-02-17 → 2021-03-12, Mon–Sat) is in the year


def test_the_last_day_of_a_dated_blackout_is_kept_silent():
    # 2021-03-12 is the last day of the demo's school closure: its morning lessons still hold.
    plan = plan_day(DEMO, DEMO_PLAYLISTS, demo_library(), date(2021, 3, 12))
    lessons = spans_from_config(DEMO.blackouts, date(2021, 3, 12), DEMO.zone)["hoc-truc-tuyen-sang"]
    assert plan.items and not [p for p in plan.items if p.start < lessons[1] and p.end > lessons[0]]


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
