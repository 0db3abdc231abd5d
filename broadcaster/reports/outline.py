"""The blocks a Vietnamese administrative document is made of (Decree 30/2020/NĐ-CP layout), and number and
date formatting in Vietnamese conventions (1.234,5; ngày 05 tháng 3 năm 2021)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from broadcaster.station.config import Identity

MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


@dataclass(frozen=True)
class Header:
    """Top of page 1: issuing body and number on the left, national motto and place-date on the right."""

    parent_body: str  # UBND XÃ CẨM HƯNG
    body: str  # ĐÀI TRUYỀN THANH
    number: str  # Số: .../BC-ĐTT
    place_date: str  # Cẩm Hưng, ngày 27 tháng 11 năm 2026
    motto: tuple[str, str] = MOTTO


@dataclass(frozen=True)
class Title:
    kind: str  # BÁO CÁO
    subject: str  # Kết quả tuyên truyền ...


@dataclass(frozen=True)
class Para:
    text: str
    style: str = "body"  # body | heading | alert | note | center


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]
    widths: list[float]  # relative
    total: bool = False  # last row is a total, set in bold


@dataclass(frozen=True)
class Chart:
    png: bytes
    caption: str


@dataclass(frozen=True)
class Signature:
    recipients: list[str]
    position: str  # TRƯỞNG ĐÀI
    note: str = "(Ký, ghi rõ họ tên)"


Block = Header | Title | Para | Table | Chart | Signature


@dataclass
class Document:
    blocks: list[Block] = field(default_factory=list)
    landscape: bool = False

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)


def vi_number(value: float, decimals: int = 0) -> str:
    """1234.5 -> '1.234,5' (Vietnamese: dot groups thousands, comma marks decimals)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def vi_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def vi_long_date(day: date) -> str:
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def short_name(name: str, prefixes: tuple[str, ...]) -> str:
    """'Xã Cẩm Hưng' -> 'Cẩm Hưng' (place names in the date line and the addressee drop the unit word)."""
    for prefix in prefixes:
        if name.lower().startswith(prefix.lower() + " "):
            return name[len(prefix) + 1:]
    return name


def header_for(station: Identity, number_code: str, issued: date) -> Header:
    commune = short_name(station.commune, ("Xã", "Phường", "Thị trấn"))
    unit = station.commune[: len(station.commune) - len(commune)].strip() or "Xã"
    return Header(parent_body=f"UBND {unit.upper()} {commune.upper()}", body="ĐÀI TRUYỀN THANH",
                  number=f"Số: ......./{number_code}", place_date=f"{commune}, {vi_long_date(issued)}")


def addressee(station: Identity) -> str:
    district = short_name(station.district, ("Huyện", "Thị xã", "Thành phố", "Quận"))
    unit = station.district[: len(station.district) - len(district)].strip().lower() or "huyện"
    return f"Kính gửi: Đài Phát thanh {unit} {district}"
