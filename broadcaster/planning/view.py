"""Ways to show a plan: the operator's rundown, the stable JSON form, and a timeline picture."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from broadcaster.model import DayPlan
from broadcaster.station.config import topic_name

_WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
CATEGORY_COLOURS = {
    "bluezone": "#1f77b4", "khai-bao-y-te": "#2ca02c", "covid-song": "#ff7f0e", "ident": "#7f7f7f",
    "news": "#9467bd",
}
_SPARE_COLOURS = ("#8c564b", "#e377c2", "#17becf", "#bcbd22", "#d62728")


def plans_to_json(plans: list[DayPlan], timezone: str, topics: Mapping[str, str] | None = None) -> dict:
    """The JSON interface documented in docs/cli.md (times ISO 8601 with the zone offset)."""
    def iso(moment) -> str:
        return moment.isoformat(timespec="milliseconds")

    return {
        "timezone": timezone,
        "days": [{
            "date": plan.date.isoformat(),
            "slots": [{"id": w.id, "start": iso(w.start), "end": iso(w.end)} for w in plan.slots],
            "blackouts": [{"id": w.id, "start": iso(w.start), "end": iso(w.end)} for w in plan.blackouts],
            "items": [{
                "start": iso(i.start), "end": iso(i.end), "slot": i.slot, "category": i.category,
                "category_name": topic_name(topics, i.category), "title": i.title,
                "file": i.file, "sha256": i.sha256, "gain_db": round(i.gain_db, 2), "level": i.level,
                "crossfade_in": round(i.crossfade_in, 3),
            } for i in plan.items],
            "unfilled_seconds": {k: round(v, 1) for k, v in plan.unfilled_seconds.items()},
            "exceptions": [{"rule": e.rule, "message": e.message} for e in plan.exceptions],
        } for plan in plans],
    }


def rundown(plans: list[DayPlan], topics: Mapping[str, str] | None = None) -> str:
    """A readable rundown: Vietnamese labels with English; each item's topic by its name (`topics:`)."""
    lines: list[str] = []
    width = max([14] + [len(topic_name(topics, i.category)) for p in plans for i in p.items])
    for plan in plans:
        lines.append(f"=== {_WEEKDAYS_VI[plan.date.weekday()]}, {plan.date:%d/%m/%Y} "
                     f"({plan.date:%A %Y-%m-%d}) — múi giờ/zone {plan.timezone}")
        for b in plan.blackouts:
            lines.append(f"  Cấm phát/blackout  {b.start:%H:%M}–{b.end:%H:%M}  {b.name}")
        for w in plan.slots:
            items = [i for i in plan.items if i.slot == w.id and w.start <= i.start < w.end]
            lines.append(f"  Buổi phát/slot {w.id}: {w.start:%H:%M:%S}–{w.end:%H:%M:%S}  ({len(items)} mục/items)")
            for i in items:
                xf = f"  ↘{i.crossfade_in:.1f}s" if i.crossfade_in else ""
                lines.append(f"    {i.start:%H:%M:%S}–{i.end:%H:%M:%S}  {topic_name(topics, i.category):<{width}} "
                             f"{i.title}{xf}")
        if plan.unfilled_seconds:
            parts = ", ".join(f"{k} {v:.0f}s" for k, v in plan.unfilled_seconds.items())
            lines.append(f"  Thời gian trống/unfilled: {parts}")
        for e in plan.exceptions:
            lines.append(f"  ! Ngoại lệ/exception [{e.rule}]: {e.message}")
        if not plan.slots:
            lines.append("  Không có buổi phát / no broadcast today")
        lines.append("")
    return "\n".join(lines)


def timeline_png(plans: list[DayPlan], path: str | Path, title: str = "",
                 topics: Mapping[str, str] | None = None) -> Path:
    """One row per day, 00:00–24:00: blackout bands, slot frames and items coloured by category, named in the
    legend by `topics`."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a station box
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    def hours(moment, day) -> float:
        return (moment - moment.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds() / 3600 + (
            24.0 * (moment.date() - day).days)

    colours = dict(CATEGORY_COLOURS)
    for category in sorted({i.category for p in plans for i in p.items}):
        colours.setdefault(category, _SPARE_COLOURS[len(colours) % len(_SPARE_COLOURS)])
    fig, ax = plt.subplots(figsize=(14, 1.0 + 0.55 * len(plans)), dpi=110)
    for row, plan in enumerate(plans):
        y = len(plans) - 1 - row
        for b in plan.blackouts:
            ax.broken_barh([(hours(b.start, plan.date), b.seconds / 3600)], (y - 0.45, 0.9),
                           facecolors="#f4cccc", edgecolor="#cc0000", hatch="///", linewidth=0.5)
        for w in plan.slots:
            ax.broken_barh([(hours(w.start, plan.date), w.seconds / 3600)], (y - 0.35, 0.7),
                           facecolors="none", edgecolor="black", linewidth=0.8)
        for i in plan.items:
            ax.broken_barh([(hours(i.start, plan.date), i.seconds / 3600)], (y - 0.3, 0.6),
                           facecolors=colours[i.category], linewidth=0)
    ax.set_yticks(range(len(plans)), [f"{p.date:%a %d/%m}" for p in reversed(plans)])
    ax.set_xlim(0, 24)
    ax.set_xticks(range(0, 25, 2), [f"{h:02d}:00" for h in range(0, 25, 2)])
    ax.set_ylim(-0.6, len(plans) - 0.4)
    ax.grid(axis="x", linestyle=":", linewidth=0.5)
    handles = [Patch(facecolor=c, label=topic_name(topics, k)) for k, c in colours.items() if any(
        i.category == k for p in plans for i in p.items)]
    handles.append(Patch(facecolor="#f4cccc", edgecolor="#cc0000", hatch="///", label="học trực tuyến / blackout"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.25 if len(plans) < 4 else -0.08),
              ncol=len(handles), fontsize=8, frameon=False)
    ax.set_title(title or "Lịch phát / broadcast plan", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
