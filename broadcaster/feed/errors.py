"""Why a feed, a manifest or a clip was refused: a `BroadcasterError` with a short machine code.

The code (e.g. "bad-signature", "rollback") goes into receipts and test assertions; the bilingual message is
for the operator.
"""

from __future__ import annotations

from dataclasses import dataclass

from broadcaster.problems import BroadcasterError, Problem


@dataclass
class FeedError(BroadcasterError):
    code: str = "error"


def feed_error(code: str, where: str, vi: str, en: str, hint_vi: str = "", hint_en: str = "") -> FeedError:
    return FeedError([Problem(where, vi, en, hint_vi, hint_en)], code)
