"""The planner: (station, playlists, library, date) → DayPlan. A pure function.

No clock reads, no I/O, no unseeded randomness: the same inputs give the same plan, which is what lets tests
prove "never during online lessons". How a day is built:

1. Each slot's span today is cut to the session cap and has every blackout taken out of it (a slot that
   overlaps an online-learning window keeps only what is left). What remains are the day's *segments*.
2. Day quotas (e.g. Bluezone 3–5 times) are shared among the segments in proportion to their length, so a
   clip is spread over morning, noon and evening instead of used up in the first session.
3. Each segment gets its opening, then the playlist sequence repeated while more than a couple of songs'
   worth of time is left (separation, validity and quotas checked at every pick), then any quota plays still
   owed, then the rest is filled with the subset of fill songs whose total comes closest to the time left
   (subset-sum, not greedy-then-gap), then the closing.
4. Whatever could not be done (too little material, a quota that cannot fit) is listed as an exception;
   the plan is still made.

Only items the leadership approved are planned (`LibraryItem.approval`); items still waiting that could air
that day are listed as one exception, so nobody wonders why a clip does not air.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from broadcaster.model import DUCK_DB, Approval, DayPlan, Level, LibraryItem, PlanException, PlannedItem, Window
from broadcaster.station.config import Slot, Station
from broadcaster.station.playlists import ItemRule, Pick, Playlist
from broadcaster.station.schedule import subtract

FILL_RESOLUTION = 10  # subset-sum works in tenths of a second
UNFILLED_TOLERANCE = 30.0  # seconds left empty in a segment before it is reported as an exception
_PRIORITY_RANK = {Level.EMERGENCY: 0, Level.PRIORITY: 1, Level.NORMAL: 2}


@dataclass
class _Rules:
    """Rules resolved for one playlist and one item."""

    weight: int = 1
    plays_min: int = 0
    plays_max: int | None = None
    separation: timedelta = timedelta(0)
    rule: ItemRule | None = None


@dataclass
class _DayState:
    item_plays: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    category_plays: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    last_start: dict[str, datetime] = field(default_factory=dict)
    pointers: dict[tuple[str, str], int] = field(default_factory=dict)


class Catalogue:
    """The library indexed for planning; build once, plan many days."""

    def __init__(self, items: Iterable[LibraryItem]):
        everything = sorted(items, key=lambda i: i.file)
        self.items = [i for i in everything if i.approval == Approval.APPROVED]
        self.waiting = [i for i in everything if i.approval == Approval.PENDING]
        self.by_category: dict[str, list[LibraryItem]] = defaultdict(list)
        self.by_file = {i.file: i for i in self.items}
        for item in self.items:
            self.by_category[item.category].append(item)


def plan_days(station: Station, playlists: dict[str, Playlist], library: Iterable[LibraryItem] | Catalogue,
              first: date, days: int = 1) -> list[DayPlan]:
    catalogue = library if isinstance(library, Catalogue) else Catalogue(library)
    return [plan_day(station, playlists, catalogue, first + timedelta(days=n)) for n in range(days)]


def day_windows(station: Station, day: date) -> tuple[list[tuple[Slot, Window]], list[Window], list[PlanException]]:
    """Today's slot segments (clipped by caps and blackouts), today's blackouts, and what the caps removed."""
    zone = station.zone
    exceptions: list[PlanException] = []
    blackouts = []
    for blackout in station.blackouts:
        span = blackout.when.on(day, zone)
        if span:
            blackouts.append(Window(blackout.id, blackout.name, *span))
    caps = station.caps
    slots = sorted(((s, s.when.on(day, zone)) for s in station.slots if s.when.on(day, zone)),
                   key=lambda pair: pair[1][0])
    if caps.days_per_week is not None:
        week_days = sorted(set().union(*(s.when.weekdays for s in station.slots)) if station.slots else set())
        if day.weekday() not in week_days[:caps.days_per_week] and slots:
            exceptions.append(PlanException("cap", f"{day.isoformat()}: no broadcast, over the cap of "
                                            f"{caps.days_per_week} days a week"))
            slots = []
    if caps.max_sessions_per_day is not None and len(slots) > caps.max_sessions_per_day:
        for slot, _ in slots[caps.max_sessions_per_day:]:
            exceptions.append(PlanException("cap", f"slot '{slot.id}' dropped: over the cap of "
                                            f"{caps.max_sessions_per_day} sessions a day", slot.id))
        slots = slots[:caps.max_sessions_per_day]
    segments: list[tuple[Slot, Window]] = []
    minutes_left = caps.max_minutes_per_day * 60 if caps.max_minutes_per_day else math.inf
    holes = [(b.start, b.end) for b in blackouts]
    for slot, (start, end) in slots:
        if caps.max_minutes_per_session is not None:
            end = min(end, start + timedelta(minutes=caps.max_minutes_per_session))
        for piece_start, piece_end in subtract((start, end), holes):
            seconds = min((piece_end - piece_start).total_seconds(), minutes_left)
            if seconds <= 0:
                exceptions.append(PlanException("cap", f"slot '{slot.id}' dropped: daily minutes cap reached",
                                                slot.id))
                continue
            minutes_left -= seconds
            segments.append((slot, Window(slot.id, slot.name, piece_start,
                                          piece_start + timedelta(seconds=seconds))))
    return segments, blackouts, exceptions


def plan_day(station: Station, playlists: dict[str, Playlist], library: Iterable[LibraryItem] | Catalogue,
             day: date) -> DayPlan:
    catalogue = library if isinstance(library, Catalogue) else Catalogue(library)
    segments, blackouts, exceptions = day_windows(station, day)
    plan = DayPlan(date=day, timezone=station.timezone, slots=[w for _, w in segments], blackouts=blackouts,
                   exceptions=exceptions)
    builder = _DayBuilder(station, playlists, catalogue, day, plan)
    builder.build(segments)
    waiting = [i for i in catalogue.waiting if i.valid_on(day)]
    if waiting:
        titles = ", ".join(f"«{i.title}»" for i in waiting[:5]) + (", …" if len(waiting) > 5 else "")
        plan.exceptions.append(PlanException(
            "approval", f"{len(waiting)} mục chờ duyệt / {len(waiting)} items wait for approval: {titles}"))
    return plan


class _DayBuilder:
    def __init__(self, station: Station, playlists: dict[str, Playlist], catalogue: Catalogue, day: date,
                 plan: DayPlan):
        self.station = station
        self.playlists = playlists
        self.catalogue = catalogue
        self.day = day
        self.plan = plan
        self.state = _DayState()
        self.xfade = station.audio.crossfade_seconds
        self.xfade_categories = set(station.audio.crossfade_categories)
        self._rotations: dict[tuple[str, str], list[LibraryItem]] = {}
        self._rules: dict[tuple[str, str], _Rules] = {}
        self._missing: set[str] = set()
        self._special: dict[tuple[str, str, str], bool] = {}

    # -- the day -------------------------------------------------------------------------------------------
    def build(self, segments: list[tuple[Slot, Window]]) -> None:
        remaining = sum(w.seconds for _, w in segments)
        for slot, window in segments:
            playlist = self.playlists.get(slot.playlist)
            if playlist is None:
                self.plan.exceptions.append(PlanException(
                    "playlist", f"slot '{slot.id}' names playlist '{slot.playlist}', which does not exist", slot.id))
                self.plan.unfilled_seconds[slot.id] = self.plan.unfilled_seconds.get(slot.id, 0.0) + window.seconds
                continue
            share = window.seconds / remaining if remaining > 0 else 1.0
            remaining -= window.seconds
            self._segment(playlist, slot, window, share)
        self._check_quotas()

    def _check_quotas(self) -> None:
        seen: set[str] = set()
        for slot in self.station.slots:
            playlist = self.playlists.get(slot.playlist)
            if playlist is None or slot.id not in {w.id for w in self.plan.slots} or playlist.id in seen:
                continue
            seen.add(playlist.id)
            for rule in playlist.items:
                if rule.plays is None or rule.plays.min == 0:
                    continue
                matching = [i for i in self.catalogue.items if rule.matches(i.title, i.file, i.sha256)]
                played = sum(self.state.item_plays[i.sha256] for i in matching)
                if matching and played < rule.plays.min and any(i.valid_on(self.day) for i in matching):
                    what = rule.title or rule.file or (rule.sha256 or "")[:12]
                    self.plan.exceptions.append(PlanException(
                        "quota", f"'{what}' planned {played} times today, minimum {rule.plays.min}"))
            for category, rule in playlist.categories.items():
                played = self.state.category_plays[category]
                if played < rule.plays.min:
                    self.plan.exceptions.append(PlanException(
                        "quota", f"'{category}' planned {played} times today, minimum {rule.plays.min}: "
                        + ("no valid clip in the library" if category in self._missing or not
                           self.catalogue.by_category.get(category) else "not enough room in today's slots")))

    # -- one segment ---------------------------------------------------------------------------------------
    def _segment(self, playlist: Playlist, slot: Slot, window: Window, share: float) -> None:
        placed: list[PlannedItem] = []
        t = window.start
        end = window.end
        owed: dict[str, int] = {}
        room: dict[str, int | None] = {}
        for category, rule in playlist.categories.items():
            done = self.state.category_plays[category]
            owed[category] = max(0, math.ceil((rule.plays.min - done) * share - 1e-9))
            room[category] = None if rule.plays.max is None else max(0, math.ceil((rule.plays.max - done) * share
                                                                                  - 1e-9))

        def place(item: LibraryItem, pick: Pick | None, at: datetime) -> datetime:
            overlap = self._overlap(placed[-1] if placed else None, item)
            start = at - timedelta(seconds=overlap)
            planned = self._planned(item, pick, slot, start, overlap)
            placed.append(planned)
            self._count(playlist, item, start)
            return planned.end

        def fits(item: LibraryItem, at: datetime, limit: datetime) -> bool:
            overlap = self._overlap(placed[-1] if placed else None, item)
            return at - timedelta(seconds=overlap) + timedelta(seconds=item.duration) <= limit

        # The closing is chosen first so its time is kept free.
        close = [self._choose(playlist, p, end, None, exclude=set()) for p in playlist.close]
        close = [c for c in close if c is not None]
        close_seconds = sum(c.duration for c in close)
        if close_seconds > window.seconds:
            close, close_seconds = [], 0.0
        limit = end - timedelta(seconds=close_seconds)

        for pick in playlist.open:
            item = self._choose(playlist, pick, t, None, exclude=set())
            if item and fits(item, t, limit):
                t = place(item, pick, t)

        def reserve(skip: str | None = None) -> float:
            total = 0.0
            for category, count in owed.items():
                if count <= 0:
                    continue
                shortest = self._shortest(playlist, category)
                n = count - (1 if category == skip else 0)
                total += n * shortest if shortest else 0.0
            return total

        horizon = 2 * max((i.duration for i in self._rotation(playlist, playlist.fill or "")), default=0.0)
        others = {p.category for p in playlist.sequence if p.category != playlist.fill}
        progress = bool(playlist.sequence)
        while progress:
            progress = False
            for pick in playlist.sequence:
                category = pick.category or ""
                if room.get(category) == 0:
                    continue
                required = owed.get(category, 0) > 0
                if category == playlist.fill and not required and not any(room.get(c) != 0 for c in others):
                    continue  # only songs would follow: leave the rest to the subset-sum fill
                budget_end = limit - timedelta(seconds=reserve(category if required else None))
                if (budget_end - t).total_seconds() <= horizon and not required:
                    continue
                item = self._choose(playlist, pick, t, budget_end, exclude={p.sha256 for p in placed[-1:]},
                                    fits=fits)
                if item is None:
                    continue
                t = place(item, pick, t)
                progress = True
                if category in owed and owed[category] > 0:
                    owed[category] -= 1
                if room.get(category) is not None:
                    room[category] -= 1
            if (limit - t).total_seconds() <= horizon and not any(v > 0 for v in owed.values()):
                break

        # Quota plays still owed (the sequence did not reach them): put them in now, if they fit.
        for category, count in owed.items():
            for _ in range(count):
                item = self._choose(playlist, Pick(category=category), t, limit,
                                    exclude={p.sha256 for p in placed[-1:]}, fits=fits)
                if item is None:
                    break
                t = place(item, None, t)
                if room.get(category) is not None:
                    room[category] -= 1

        t = self._fill(playlist, slot, placed, t, limit, place, fits)
        for item in close:
            t = place(item, None, t)
        self.plan.items.extend(placed)
        unfilled = max(0.0, (end - t).total_seconds())
        self.plan.unfilled_seconds[slot.id] = round(self.plan.unfilled_seconds.get(slot.id, 0.0) + unfilled, 1)
        if unfilled > UNFILLED_TOLERANCE:
            self.plan.exceptions.append(PlanException(
                "fill", f"slot '{slot.id}' {window.start:%H:%M}–{window.end:%H:%M}: {unfilled:.0f} s left empty, "
                "not enough valid material (add songs or clips, or shorten the slot)", slot.id))

    def _fill(self, playlist: Playlist, slot: Slot, placed: list[PlannedItem], t: datetime, limit: datetime,
              place, fits) -> datetime:
        """Fill [t, limit) with the subset of fill items whose total comes closest (subset-sum)."""
        category = playlist.fill
        if not category:
            return t
        used = {p.sha256 for p in placed}
        candidates = [i for i in self._rotation_from_pointer(playlist, category)
                      if i.sha256 not in used and self._eligible(playlist, i, t, limit, exclude=set())]
        # Each item only once in the block; keep rotation order so ties go to the item due next.
        unique: list[LibraryItem] = []
        for item in candidates:
            if item.sha256 not in {u.sha256 for u in unique}:
                unique.append(item)
        xf = self.xfade if category in self.xfade_categories else 0.0
        capacity = int(((limit - t).total_seconds() - xf) * FILL_RESOLUTION)
        if capacity <= 0 or not unique:
            return t
        weights = [max(1, math.ceil((i.duration - xf) * FILL_RESOLUTION)) for i in unique]
        mask = (1 << (capacity + 1)) - 1
        reach = [1]
        for w in weights:
            reach.append((reach[-1] | (reach[-1] << w)) & mask)
        best = reach[-1].bit_length() - 1
        chosen: list[LibraryItem] = []
        s = best
        for index in range(len(unique) - 1, -1, -1):
            if (reach[index] >> s) & 1:
                continue  # reachable without this item: leave it for another day
            chosen.append(unique[index])
            s -= weights[index]
        for item in reversed(chosen):
            # The sum counts each join as a full crossfade; a short song crossfades less (half its length), so
            # the chosen set can come out longer than the room: what no longer fits is left out.
            if fits(item, t, limit):
                t = place(item, Pick(category=category), t)
        return t

    # -- choosing items ------------------------------------------------------------------------------------
    def _choose(self, playlist: Playlist, pick: Pick, at: datetime, limit: datetime | None, exclude: set[str],
                fits=None) -> LibraryItem | None:
        if pick.file:
            item = self.catalogue.by_file.get(pick.file)
            candidates = [item] if item else []
        else:
            candidates = self._rotation(playlist, pick.category or "")
            if pick.title:
                candidates = [i for i in candidates if i.title == pick.title]
        if not candidates:
            self._note_missing(pick)
            return None
        key = (playlist.id, pick.category or pick.file or "")
        start = self.state.pointers.get(key, self._first_pointer(playlist, key, len(candidates)))
        n = len(candidates)
        # Emergency and priority clips are due first, then clips still short of their own daily minimum
        # (e.g. a district clip sent with plays_per_day 3-4), then the rotation.
        def rank(k: int) -> tuple[float, int]:
            item = candidates[(start + k) % n]
            owed = self.state.item_plays[item.sha256] < self._rules_for(playlist, item).plays_min
            return (_PRIORITY_RANK.get(item.priority, 2) - (0.5 if owed else 0.0), k)

        special = self._special.get((*key, pick.title or ""))
        if special is None:
            special = self._special[(*key, pick.title or "")] = any(
                i.priority != Level.NORMAL or self._rules_for(playlist, i).plays_min for i in candidates)
        order = sorted(range(n), key=rank) if special else range(n)
        for k in order:
            item = candidates[(start + k) % n]
            if not self._eligible(playlist, item, at, limit, exclude):
                continue
            if fits is not None and limit is not None and not fits(item, at, limit):
                continue
            if not pick.title and not pick.file:
                self.state.pointers[key] = (start + k + 1) % n
            return item
        return None

    def _eligible(self, playlist: Playlist, item: LibraryItem, at: datetime, limit: datetime | None,
                  exclude: set[str]) -> bool:
        if item.sha256 in exclude or not item.valid_on(self.day):
            return False
        rules = self._rules_for(playlist, item)
        rule = rules.rule
        if rule is not None:
            if rule.when is not None and not rule.when.applies(self.day):
                return False
            if rule.hours is not None:
                item_end = at + timedelta(seconds=item.duration)
                if at.time() < rule.hours[0] or (item_end.date() == self.day and item_end.time() > rule.hours[1]):
                    return False
        if rules.plays_max is not None and self.state.item_plays[item.sha256] >= rules.plays_max:
            return False
        category_rule = playlist.categories.get(item.category)
        if category_rule and category_rule.plays.max is not None and \
                self.state.category_plays[item.category] >= category_rule.plays.max:
            return False
        last = self.state.last_start.get(item.sha256)
        if last is not None and at - last < rules.separation:
            return False
        return True

    def _rules_for(self, playlist: Playlist, item: LibraryItem) -> _Rules:
        key = (playlist.id, item.sha256)
        if key not in self._rules:
            category_rule = playlist.categories.get(item.category)
            rules = _Rules(separation=timedelta(minutes=category_rule.separation_minutes if category_rule else 0))
            for rule in playlist.items:
                if rule.matches(item.title, item.file, item.sha256):
                    rules.rule = rule
                    rules.weight = rule.weight
                    if rule.plays is not None:
                        rules.plays_min, rules.plays_max = rule.plays.min, rule.plays.max
                    if rule.separation_minutes is not None:
                        rules.separation = timedelta(minutes=rule.separation_minutes)
                    break
            self._rules[key] = rules
        return self._rules[key]

    def _rotation(self, playlist: Playlist, category: str) -> list[LibraryItem]:
        """Today's rotation for a category: valid items, weighted, in the playlist's order."""
        key = (playlist.id, category)
        if key not in self._rotations:
            items = [i for i in self.catalogue.by_category.get(category, []) if i.valid_on(self.day)]
            if playlist.order == "shuffle":
                rng = random.Random(f"{playlist.seed}:{self.day.isoformat()}:{category}")
                rng.shuffle(items)
            weights = [self._rules_for(playlist, i).weight for i in items]
            # Spread weighted items: round 1 has every item, round 2 those with weight ≥ 2, ...
            rotation = [i for w in range(max(weights, default=0)) for i, wi in zip(items, weights) if wi > w]
            self._rotations[key] = rotation
        return self._rotations[key]

    def _rotation_from_pointer(self, playlist: Playlist, category: str) -> list[LibraryItem]:
        items = self._rotation(playlist, category)
        if not items:
            return []
        key = (playlist.id, category)
        start = self.state.pointers.get(key, self._first_pointer(playlist, key, len(items)))
        return items[start:] + items[:start]

    def _first_pointer(self, playlist: Playlist, key: tuple[str, str], n: int) -> int:
        if playlist.order == "rotate" and n:
            return (self.day.toordinal() * 7) % n  # a different starting clip each day, no state needed
        return 0

    def _shortest(self, playlist: Playlist, category: str) -> float:
        return min((i.duration for i in self._rotation(playlist, category)), default=0.0)

    def _note_missing(self, pick: Pick) -> None:
        what = pick.describe()
        if what in self._missing:
            return
        self._missing.add(pick.category or what)
        self.plan.exceptions.append(PlanException(
            "material", f"no valid item for '{what}' on {self.day.isoformat()} (none in the library, or all expired)"))

    # -- bookkeeping ---------------------------------------------------------------------------------------
    def _overlap(self, previous: PlannedItem | None, item: LibraryItem) -> float:
        if previous is None or previous.category not in self.xfade_categories or \
                item.category not in self.xfade_categories:
            return 0.0
        return min(self.xfade, previous.duration / 2, item.duration / 2)

    def _count(self, playlist: Playlist, item: LibraryItem, start: datetime) -> None:
        self.state.item_plays[item.sha256] += 1
        self.state.category_plays[item.category] += 1
        self.state.last_start[item.sha256] = start

    def _planned(self, item: LibraryItem, pick: Pick | None, slot: Slot, start: datetime,
                 overlap: float) -> PlannedItem:
        bed = None
        if pick is not None and pick.bed:
            beds = [b for b in self.catalogue.by_category.get(pick.bed, []) if b.valid_on(self.day)]
            long_enough = [b for b in beds if b.duration >= item.duration]
            pool = long_enough or sorted(beds, key=lambda b: -b.duration)
            bed = pool[self.day.toordinal() % len(pool)] if pool else None
        return PlannedItem(
            start=start, end=start + timedelta(seconds=item.duration), slot=slot.id, category=item.category,
            title=item.title, file=item.file, sha256=item.sha256, gain_db=item.gain_db, duration=item.duration,
            level=item.priority, crossfade_in=overlap,
            bed_file=bed.file if bed else None, bed_sha256=bed.sha256 if bed else None,
            bed_gain_db=bed.gain_db if bed else 0.0, duck_db=pick.duck_db if pick else DUCK_DB)
