"""What a commune's message must look like for the district report to count it.

The collector refuses a bad message at receipt (HTTP 400 with this reason, nothing stored), and the report
flags rows stored before this check rather than dying on them. Only the fields the report reads are checked;
others (added by later versions, e.g. the as-run chain anchor) pass through.
"""

from __future__ import annotations

import math
import re
from datetime import date

from broadcaster.asrun.anchors import Anchor

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_ITEMS = 10_000
RECEIPT_STATUSES = ("received", "ingested", "rejected", "withdrawn", "aired", "refused")


def message_problem(kind: str, body: object) -> str | None:
    """None if the report can use the message, else what is wrong, naming the field (short, English)."""
    if not isinstance(body, dict):
        return "body must be an object"
    if kind == "summary":
        return _summary_problem(body)
    if kind == "receipt":
        return _receipt_problem(body)
    return f"unknown kind {str(kind)[:20]!r}"


def _summary_problem(body: dict) -> str | None:
    day = body.get("day")
    if not isinstance(day, str) or not _DAY.fullmatch(day):
        return "day must be YYYY-MM-DD"
    try:
        date.fromisoformat(day)
    except ValueError:
        return "day is not a calendar date"
    items = body.get("items", [])
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        return f"items must be a list (at most {MAX_ITEMS})"
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            return f"items[{n}] must be an object"
        for name in ("plays", "failed"):
            if not _count(item.get(name, 0)):
                return f"items[{n}].{name} must be a whole number ≥ 0, not {_show(item.get(name))}"
        if not _amount(item.get("seconds", 0)):
            return f"items[{n}].seconds must be a number ≥ 0, not {_show(item.get('seconds'))}"
        for name in ("sha256", "category", "title"):
            if not isinstance(item.get(name, ""), str | None):
                return f"items[{n}].{name} must be text"
    by_category = body.get("by_category", {})
    if not isinstance(by_category, dict):
        return "by_category must be an object"
    for name, cat in by_category.items():
        if not isinstance(cat, dict) or not _count(cat.get("plays", 0)) or not _amount(cat.get("minutes", 0)):
            return f"by_category[{str(name)[:40]!r}] must have whole plays and minutes ≥ 0"
    if "chain" in body and Anchor.from_json(body["chain"]) is None:
        return "chain must be {rows: whole number, head and first: 64 hex}"
    return None


def _receipt_problem(body: dict) -> str | None:
    if body.get("status") not in RECEIPT_STATUSES:
        return f"status must be one of {', '.join(RECEIPT_STATUSES)}, not {_show(body.get('status'))}"
    for name in ("sha256", "title", "category", "at", "code", "reason"):
        if not isinstance(body.get(name, ""), str | None):
            return f"{name} must be text"
    return None


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _amount(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"
