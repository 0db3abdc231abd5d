"""Vietnamese bulletin text → words a speech engine reads correctly (text normalisation).

A commune notice is full of forms an engine misreads: `17/02/2021`, `7h30`, `1.234` (thousands), `2,5`
(decimal), phone numbers, `UBND`, `Covid-19`, `km`, `%`, `II.` in headings. `normalise()` rewrites them as
spoken Vietnamese, paragraph by paragraph (the composer puts a pause between paragraphs).

Numbers are read with num2words (lang="vi") one three-digit group at a time, because num2words reads 2021 as
"hai nghìn lẻ hai mươi mốt" where Vietnamese says "hai nghìn không trăm hai mươi mốt". The packaged
normalisers were evaluated and not used (docs/bulletins.md says why). Abbreviations come from
`abbreviations.yaml` beside this module, extended by the station's own file.

`check_speakable()` rejects text the engine cannot say (emoji, Chinese, other scripts) before anything is made.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from num2words import num2words

from broadcaster.problems import BroadcasterError, Problem
from broadcaster.station.yamlio import load_yaml

DEFAULT_ABBREVIATIONS = Path(__file__).with_name("abbreviations.yaml")
DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_SCALES = ("", "nghìn", "triệu", "tỷ")
MONTHS = ("", "một", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười", "mười một", "mười hai")
UNITS = {"km/h": "ki-lô-mét trên giờ", "km2": "ki-lô-mét vuông", "m2": "mét vuông", "km": "ki-lô-mét",
         "kg": "ki-lô-gam", "ha": "héc-ta", "cm": "xăng-ti-mét", "mm": "mi-li-mét", "m": "mét", "°C": "độ C",
         "%": "phần trăm", "đ": "đồng", "VNĐ": "đồng"}
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
# Punctuation and symbols a reader pauses on or that normalise() turns into words; anything else that is not
# a Latin letter, digit or space cannot be spoken.
_SPEAKABLE_MARKS = set(" \t\n\r.,;:!?-–—…()[]\"'“”‘’/&%+*°«»<>=_#@")


@dataclass(frozen=True)
class Abbreviations:
    """Written form → spoken form, longest first so 'Covid-19' wins over 'Covid'."""

    entries: tuple[tuple[str, str], ...]

    @classmethod
    def load(cls, extra: Path | None = None) -> Abbreviations:
        table = _read_table(DEFAULT_ABBREVIATIONS)
        if extra is not None:
            table.update(_read_table(extra))
        return cls(tuple(sorted(table.items(), key=lambda kv: -len(kv[0]))))

    def pattern(self) -> re.Pattern:
        keys = "|".join(re.escape(k) for k, _ in self.entries)
        return re.compile(rf"(?<![\w&])({keys})(?![\w&])")


def _read_table(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise BroadcasterError([Problem(str(path), "không có tệp từ điển viết tắt",
                                        "the abbreviation dictionary does not exist",
                                        "kiểm tra bulletins.abbreviations trong config.yaml",
                                        "check bulletins.abbreviations in config.yaml")])
    data = load_yaml(path) or {}
    if not isinstance(data, dict) or not all(isinstance(v, str | int) for v in data.values()):
        raise BroadcasterError([Problem(str(path), "từ điển viết tắt phải là các dòng 'VIẾT TẮT: cách đọc'",
                                        "the abbreviation dictionary must be 'ABBR: reading' lines",
                                        "ví dụ: 'UBND: Ủy ban nhân dân'", "e.g. 'UBND: Ủy ban nhân dân'")])
    return {str(k): str(v) for k, v in data.items()}


# -- numbers ---------------------------------------------------------------------------------------------

def say_integer(n: int) -> str:
    """1234 → 'một nghìn hai trăm ba mươi bốn'; inner groups below 100 get 'không trăm' (2021)."""
    if n < 1000:
        return num2words(n, lang="vi")
    groups = []
    while n:
        n, group = divmod(n, 1000)
        groups.append(group)
    if len(groups) > len(_SCALES):
        return num2words(int("".join(f"{g:03d}" for g in reversed(groups))), lang="vi")
    words = []
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            continue
        leading = index == len(groups) - 1
        if leading or group >= 100:
            text = num2words(group, lang="vi")
        elif group >= 10:
            text = "không trăm " + num2words(group, lang="vi")
        else:
            text = "không trăm lẻ " + num2words(group, lang="vi")
        words.append(f"{text} {_SCALES[index]}".strip())
    return " ".join(words)


def say_digits(digits: str) -> str:
    return " ".join(DIGITS[int(d)] for d in digits if d.isdigit())


def say_decimal(whole: str, fraction: str) -> str:
    """'2', '5' → 'hai phẩy năm'; '2', '05' → 'hai phẩy không năm'."""
    zeros = len(fraction) - len(fraction.lstrip("0"))
    rest = fraction.lstrip("0")
    tail = " ".join(["không"] * zeros + ([say_integer(int(rest))] if rest else []))
    return f"{say_integer(int(whole))} phẩy {tail}"


def say_roman(numeral: str) -> str | None:
    values = [_ROMAN.get(ch) for ch in numeral]
    if not numeral or None in values:
        return None
    total = 0
    for i, value in enumerate(values):
        total += -value if i + 1 < len(values) and values[i + 1] > value else value
    return say_integer(total)


# -- the rewriting rules, applied in this order --------------------------------------------------------------

_PHONE = re.compile(r"(?<![\d.,])(\+84|0)(\d[\d .-]{7,14}\d)(?![\d,]|\.\d)")
_DATE = re.compile(r"(?<![\d/])(\d{1,2})[/-](\d{1,2})[/-](\d{4})(?![\d/])")
_DAY_MONTH = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])")
_MONTH_YEAR = re.compile(r"(?<![\d/])(\d{1,2})/(\d{4})(?![\d/])")
_TIME_COLON = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?![\d:])")
_TIME_H = re.compile(r"(?<![\w])(\d{1,2})[hg](\d{2})?(?![\w])")
_RANGE_DASH = re.compile(r"(?<=[\dh%])\s*[-–—]\s*(?=\d)")
_UNIT = re.compile(r"(\d)\s*(" + "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
                   + r")(?![\w])")
_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3}(?:\.\d{3})+)(?![\d]|[.,]\d)")
_DECIMAL = re.compile(r"(?<![\d.,])(\d+),(\d+)(?![\d]|[.,]\d)")
_INTEGER = re.compile(r"\d+")
_HEADING = re.compile(r"^(\s*)([IVXLC]+)([.)])\s+", re.MULTILINE)
_ROMAN_AFTER = re.compile(r"(?<![\w])(Phụ lục|PHỤ LỤC|Chương|CHƯƠNG|Phần|PHẦN|Mục|MỤC|Điều|ĐIỀU)\s+([IVXLC]+)(?![\w])")
_SPACES = re.compile(r"[ \t]+")


def _day_words(day: int) -> str:
    return f"mùng {say_integer(day)}" if day <= 10 else say_integer(day)


def _date(day: int, month: int, year: int | None, before: str) -> str | None:
    try:
        date(year or 2000, month, day)
    except ValueError:
        return None
    lead = "" if before.rstrip().lower().endswith("ngày") else "ngày "
    text = f"{lead}{_day_words(day)} tháng {MONTHS[month]}"
    return text + (f" năm {say_integer(year)}" if year else "")


def _sub_full_dates(text: str) -> str:
    def full(m: re.Match) -> str:
        spoken = _date(int(m[1]), int(m[2]), int(m[3]), text[:m.start()][-8:])
        return spoken or m[0]

    return _DATE.sub(full, text)


def _sub_short_dates(text: str) -> str:
    def month_year(m: re.Match) -> str:
        month, year = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            return m[0]
        lead = "" if text[:m.start()].rstrip().lower().endswith("tháng") else "tháng "
        return f"{lead}{MONTHS[month]} năm {say_integer(year)}"

    text = _MONTH_YEAR.sub(month_year, text)

    def day_month(m: re.Match) -> str:
        return _date(int(m[1]), int(m[2]), None, text[:m.start()][-8:]) or m[0]

    return _DAY_MONTH.sub(day_month, text)


def _clock(hour: int, minute: int, with_phut: bool) -> str | None:
    if hour > 24 or minute > 59:
        return None
    text = f"{say_integer(hour)} giờ"
    if minute:
        text += f" {say_integer(minute)}" + (" phút" if with_phut else "")
    return text


def _sub_times(text: str) -> str:
    text = _TIME_COLON.sub(lambda m: _clock(int(m[1]), int(m[2]), True) or m[0], text)
    return _TIME_H.sub(lambda m: _clock(int(m[1]), int(m[2] or 0), False) or m[0], text)


def _sub_phone(m: re.Match) -> str:
    digits = re.sub(r"\D", "", m[2])
    if not 8 <= len(digits) <= 10:
        return m[0]
    lead = "cộng tám tư" if m[1] == "+84" else "không"
    groups = [g for g in re.split(r"[ .-]", m[2]) if g]
    spoken = ", ".join(say_digits(g) for g in groups)  # a short pause where the writer grouped the digits
    return f"{lead} {spoken}"


def _sub_units(m: re.Match) -> str:
    return f"{m[1]} {UNITS[m[2]]}"


def _sub_roman_heading(m: re.Match) -> str:
    number = say_roman(m[2])
    return f"{m[1]}Phần {number}. " if number else m[0]


def _sub_roman_after(m: re.Match) -> str:
    number = say_roman(m[2])
    return f"{m[1]} {number}" if number else m[0]


def normalise_line(line: str, abbreviations: Abbreviations, pattern: re.Pattern) -> str:
    spoken = dict(abbreviations.entries)
    line = pattern.sub(lambda m: spoken[m[1]], line)
    line = _PHONE.sub(_sub_phone, line)
    line = _sub_full_dates(line)  # before ranges: 17-02-2021 is a date, 3-5 a range
    line = _RANGE_DASH.sub(" đến ", line)
    line = _sub_short_dates(line)
    line = _sub_times(line)
    line = _UNIT.sub(_sub_units, line)
    line = _THOUSANDS.sub(lambda m: say_integer(int(m[1].replace(".", ""))), line)
    line = _DECIMAL.sub(lambda m: say_decimal(m[1], m[2]), line)
    line = _INTEGER.sub(lambda m: say_integer(int(m[0])), line)
    line = line.replace("&", " và ").replace("%", " phần trăm").replace("+", " cộng ")
    line = re.sub(r"(?<=\w)/(?=\w)", ", ", line)  # 'F0/F1', 'Đồng ý/OK': two words, a short pause
    line = re.sub(r"[*_#<>«»\"“”]", "", line)
    return _SPACES.sub(" ", line).strip()


def normalise(text: str, abbreviations: Abbreviations | None = None) -> list[str]:
    """The text as spoken paragraphs (blank lines separate paragraphs; single line breaks are kept as pauses)."""
    abbreviations = abbreviations or Abbreviations.load()
    pattern = abbreviations.pattern()
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    text = _HEADING.sub(_sub_roman_heading, text)
    text = _ROMAN_AFTER.sub(_sub_roman_after, text)
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [normalise_line(line, abbreviations, pattern) for line in block.split("\n")]
        lines = [line if line[-1] in ".,;:!?…" else line + "." for line in lines if line]
        if lines:
            paragraphs.append(" ".join(lines))
    return paragraphs


# -- what cannot be spoken -----------------------------------------------------------------------------------

def _speakable(ch: str) -> bool:
    if ch in _SPEAKABLE_MARKS or ch.isdigit() and ch.isascii():
        return True
    if unicodedata.category(ch).startswith("L"):
        return "LATIN" in unicodedata.name(ch, "")
    return unicodedata.category(ch) == "Mn" and "COMBINING" in unicodedata.name(ch, "")


def check_speakable(text: str, source: str, max_chars: int) -> None:
    """Raise one error listing every problem: empty, too long, or characters the engine cannot say."""
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        raise BroadcasterError([Problem(source, "nội dung thông báo trống", "the bulletin text is empty",
                                        "viết nội dung vào tệp rồi chạy lại",
                                        "write the text in the file and run again")])
    if len(text) > max_chars:
        raise BroadcasterError([Problem(
            source, f"nội dung dài {len(text)} ký tự, quá giới hạn {max_chars}",
            f"the text is {len(text)} characters, over the limit of {max_chars}",
            "tách thành nhiều thông báo ngắn hơn (hoặc tăng bulletins.max_chars trong config.yaml)",
            "split it into shorter bulletins (or raise bulletins.max_chars in config.yaml)")])
    problems = []
    for number, line in enumerate(text.split("\n"), 1):
        for column, ch in enumerate(line, 1):
            if not _speakable(ch):
                problems.append(Problem(
                    source, f"ký tự máy đọc không đọc được: '{ch}' (U+{ord(ch):04X}) ở cột {column}",
                    f"a character the speech engine cannot say: '{ch}' (U+{ord(ch):04X}) at column {column}",
                    "xóa ký tự đó hoặc viết thành chữ tiếng Việt", "remove it or write it out in Vietnamese",
                    line=number))
                if len(problems) >= 20:
                    raise BroadcasterError(problems)
    if problems:
        raise BroadcasterError(problems)
