"""Playlist edits from the console's form (station/playlist_edit.py): what the form did not change comes out as
it went in, comments and blank lines included, and what it changed is written where it was."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from broadcaster.station.playlist_edit import CategoryFields, ItemFields, PlaylistDocument, parse_steps, steps_text
from broadcaster.station.playlists import load_playlist

ROOT = Path(__file__).resolve().parents[1]
SHORT = """# Buổi ngắn / a short programme
name: Ngắn
sequence:   # the `- x` shorthand
  - bluezone
  - covid-song

categories:
  bluezone:
    plays_per_day: 3-5   # Sở TT&TT
  news:
    plays_per_day: 0-2

# Quy tắc từng bài / item rules
items:
  - title: Lời kêu gọi
    weight: 2            # twice as often
"""


def _form_round_trip(document: PlaylistDocument):
    fields = document.fields()
    return replace(fields, **{part: parse_steps(steps_text(getattr(fields, part)))
                              for part in ("open", "sequence", "close")})


def test_the_form_unchanged_writes_the_file_unchanged():
    for text in ((ROOT / "playlists" / "covid-2021.yaml").read_text(encoding="utf-8"), SHORT):
        document = PlaylistDocument(Path("p.yaml"), text)
        assert document.with_fields(_form_round_trip(document)) == text


def test_removing_the_last_step_or_category_keeps_the_next_sections_heading_below_a_blank_line():
    document = PlaylistDocument(Path("p.yaml"), SHORT)
    fields = _form_round_trip(document)
    text = document.with_fields(replace(fields, categories=fields.categories[:1]))
    assert text == SHORT.replace("  news:\n    plays_per_day: 0-2\n", "")
    text = document.with_fields(replace(fields, sequence=fields.sequence[:1]))
    assert text == SHORT.replace("  - covid-song\n", "")


def test_added_rows_are_typed_as_yaml_and_checked_by_the_playlist_checker(tmp_path):
    document = PlaylistDocument(tmp_path / "p.yaml", SHORT)
    fields = _form_round_trip(document)
    text = document.with_fields(replace(
        fields, sequence=fields.sequence + ({"category": "ident", "title": "Kết thúc"},),
        categories=fields.categories + (CategoryFields("ident", "1", "60"),),
        items=fields.items + (ItemFields(title="Mới", weight="3", valid_from="2021-02-01", hours="05:00-12:00"),)))
    assert "  - covid-song\n  - category: ident\n    title: Kết thúc\n\ncategories:" in text  # shorthand kept
    assert "    plays_per_day: 0-2\n  ident:\n    plays_per_day: 1\n    min_separation_minutes: 60\n\n# Quy" in text
    assert text.endswith("    weight: 2            # twice as often\n  - title: Mới\n    weight: 3\n"
                         "    from: 2021-02-01\n    hours: 05:00-12:00\n")
    playlist = load_playlist(tmp_path / "p.yaml", text)
    assert playlist.categories["ident"].plays.max == 1 and playlist.items[1].weight == 3
    assert str(playlist.items[1].when.date_from) == "2021-02-01"
