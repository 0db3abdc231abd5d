"""Library items for planner tests. The planner is pure, so it is tested with plain records, no audio.

(Ingest, which makes these records from real audio files, is tested on real files in test_library.py.)
"""

from __future__ import annotations

import hashlib

from broadcaster.model import LibraryItem


def item(category: str, name: str, seconds: float, **extra) -> LibraryItem:
    return LibraryItem(
        sha256=hashlib.sha256(f"{category}/{name}".encode()).hexdigest(), file=f"{category}/{name}.mp3",
        title=extra.pop("title", name), category=category, duration=seconds, sample_rate=44100, channels=2,
        loudness_lufs=-18.0, gain_db=2.0, **extra)


def demo_library() -> list[LibraryItem]:
    """Roughly the demo station's material: short spots, idents, a news item and 16 songs."""
    items = [item("ident", "mo-dau", 9.5, title="Mở đầu chương trình"),
             item("ident", "ket-thuc", 7.2, title="Kết thúc chương trình"),
             item("news", "tin-chi-dao", 74.0)]
    items += [item("bluezone", f"bz{n}", s) for n, s in enumerate((48.3, 61.0, 35.7))]
    items[-1] = item("bluezone", "bz2", 35.7, title="Lời kêu gọi cài đặt Bluezone")
    items += [item("khai-bao-y-te", f"kb{n}", s) for n, s in enumerate((52.1, 44.9, 66.4))]
    items += [item("covid-song", f"song{n:02d}", 140 + (n * 37) % 121 + n / 10) for n in range(16)]
    return items
