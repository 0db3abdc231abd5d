"""Problems found in operator input, told in Vietnamese and English.

Every error an operator can cause (YAML, times, audio files) is a `Problem` that names the file, the line or
field, what is wrong and what to do. Commands collect all problems before failing so one run lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    file: str
    message_vi: str
    message_en: str
    hint_vi: str = ""
    hint_en: str = ""
    line: int | None = None
    field: str | None = None
    severity: str = "error"  # "error" stops the command; "warning" is reported and lets it go on

    def where(self) -> str:
        place = self.file
        if self.line is not None:
            place += f":{self.line}"
        if self.field:
            place += f" [{self.field}]"
        return place

    def __str__(self) -> str:
        label = "LỖI/ERROR" if self.severity == "error" else "CẢNH BÁO/WARNING"
        text = f"{label} {self.where()}: {self.message_vi} / {self.message_en}"
        if self.hint_vi or self.hint_en:
            text += f"\n    → {self.hint_vi} / {self.hint_en}"
        return text


@dataclass
class BroadcasterError(Exception):
    """Raised with every problem found; the CLI prints them all and exits non-zero."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def fail(file: str, vi: str, en: str, hint_vi: str = "", hint_en: str = "", *, line: int | None = None,
         field_name: str | None = None) -> BroadcasterError:
    """Build a one-problem error: `raise fail(...)`."""
    return BroadcasterError([Problem(file, vi, en, hint_vi, hint_en, line, field_name)])
