"""Template helpers: a Problem or Verdict in the reader's language, times, durations, sizes."""

from __future__ import annotations

from django import template
from django.utils import translation

register = template.Library()


@register.filter
def said(thing) -> str:
    """The Vietnamese or English side of a bilingual message (Problem, Verdict, or a (vi, en) pair)."""
    english = translation.get_language() == "en"
    if isinstance(thing, tuple | list) and len(thing) == 2:
        return thing[1] if english else thing[0]
    vi, en = getattr(thing, "message_vi", None), getattr(thing, "message_en", None)
    if vi is None:
        return str(thing)
    text = en if english else vi
    hint = getattr(thing, "hint_en" if english else "hint_vi", "")
    return f"{text} → {hint}" if hint else text


@register.filter
def mmss(seconds) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(round(float(seconds)), 60)
    return f"{minutes}:{secs:02d}" if minutes < 60 else f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"


@register.filter
def clock(iso: str | None) -> str:
    """'2021-02-22T05:30:01.250+07:00' → '2021-02-22 05:30:01'."""
    return (iso or "")[:19].replace("T", " ")


@register.filter
def gigabytes(n) -> str:
    return "" if n is None else f"{n / 1e9:.1f} GB"


@register.filter
def seconds_ago(age) -> str:
    return "" if age is None else f"{age:.0f} s"


@register.filter
def get_item(mapping, key):
    return mapping.get(key, []) if mapping else []


@register.filter
def topic(category: str, topics) -> str:
    """A category's display name from config.yaml's topics (the slug itself if it has none)."""
    from broadcaster.station.config import topic_name

    return topic_name(topics or {}, category)
