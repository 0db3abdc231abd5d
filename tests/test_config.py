"""The station config: real files, real errors an operator would make."""

from pathlib import Path

import pytest

from broadcaster.problems import BroadcasterError
from broadcaster.station.config import AudioSettings, load_station, topic_name

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = """station: {commune: Xã A, name: Đài xã A}
slots:
  - {id: sang, start: 05:30, end: 06:30, playlist: p}
"""


def test_demo_config_loads_with_clipped_noon_slot_warning():
    station = load_station(ROOT / "config.yaml")
    assert station.timezone == "Asia/Ho_Chi_Minh"
    assert [s.id for s in station.slots] == ["sang", "trua", "chieu"]
    assert any("trua" in w.message_en and "hoc-truc-tuyen-sang" in w.message_en for w in station.warnings)


def test_unquoted_times_are_clock_times_not_base_60(tmp_path):
    station = load_station(write(tmp_path, BASE))
    assert station.slots[0].when.start.hour == 5 and station.slots[0].when.start.minute == 30


@pytest.mark.parametrize("bad, line, words", [
    ("  - {id: x, start: 25:00, end: 26:00, playlist: p}\n", 4, "not a time of day"),
    ("  - {id: x, start: 09:00, end: 08:00, playlist: p}\n", 4, "not after start"),
    ("  - {id: x, start: 06:00, end: 07:00, playlist: p, colour: red}\n", 4, "unknown key 'colour'"),
    ("  - {id: x, start: 06:00, end: 07:00, playlist: p}\n", 4, "overlaps slot 'x'"),
])
def test_bad_slot_names_file_line_and_problem(tmp_path, bad, line, words):
    with pytest.raises(BroadcasterError) as err:
        load_station(write(tmp_path, BASE + bad))
    problem = next(p for p in err.value.problems if words in p.message_en)
    assert problem.file.endswith("config.yaml") and problem.line == line
    assert problem.message_vi  # every operator message is also in Vietnamese


def test_malformed_yaml_reports_line(tmp_path):
    with pytest.raises(BroadcasterError) as err:
        load_station(write(tmp_path, BASE + "blackouts: [\n"))
    assert err.value.problems[0].line is not None
    assert "YAML" in err.value.problems[0].message_en


def test_unknown_zone_is_an_error_not_the_machine_zone(tmp_path):
    with pytest.raises(BroadcasterError, match="unknown time zone"):
        load_station(write(tmp_path, "timezone: Mars/Olympus\n" + BASE))


@pytest.mark.parametrize("backend", ["file", "alsa"])
def test_an_audio_backend_without_a_sink_is_refused_with_the_allowed_ones(tmp_path, backend):
    with pytest.raises(BroadcasterError) as err:
        load_station(write(tmp_path, BASE + f"audio:\n  output_devices: [default]\n  backend: {backend}\n"))
    problem = next(p for p in err.value.problems if "backend" in p.message_en)
    assert problem.file.endswith("config.yaml") and problem.line == 6
    assert f"unknown backend '{backend}'" in problem.message_en and "backend không biết" in problem.message_vi
    assert "sounddevice or simpleaudio" in problem.hint_en and "sounddevice hoặc simpleaudio" in problem.hint_vi


def test_a_block_too_big_to_time_the_sound_card_is_refused_with_why(tmp_path):
    with pytest.raises(BroadcasterError) as err:
        load_station(write(tmp_path, BASE + "audio:\n  block_frames: 65536\n"))
    problem = next(p for p in err.value.problems if "block_frames" in p.message_en)
    assert problem.line == 5 and "at most 32768" in problem.message_en and "cannot be timed" in problem.message_en
    assert "≤ 32768" in problem.message_vi
    assert load_station(write(tmp_path, BASE + "audio:\n  block_frames: 32768\n")).audio.block_frames == 32768


def test_audio_keys_left_out_take_the_audio_settings_defaults(tmp_path):
    assert load_station(write(tmp_path, BASE)).audio == AudioSettings()
    written = load_station(write(tmp_path, BASE + "audio:\n  fade_seconds: 0.2\n  block_frames: 4096\n")).audio
    assert (written.fade_seconds, written.block_frames) == (0.2, 4096)
    assert written.sample_rate == AudioSettings().sample_rate


def test_demo_config_shows_the_audio_defaults_as_comments_only():
    audio = load_station(ROOT / "config.yaml").audio
    assert audio == AudioSettings(output_devices=("default", "pulse"))  # the one audio key it sets


def test_demo_config_names_every_demo_category_in_vietnamese():
    station = load_station(ROOT / "config.yaml")
    demo_categories = {"ident", "bluezone", "khai-bao-y-te", "news", "covid-song"}  # scripts/demo_library.sh
    assert set(station.topics) >= demo_categories
    assert topic_name(station, "bluezone") == "Cài đặt ứng dụng Bluezone"
    assert topic_name(station, "khai-bao-y-te") == "Khai báo y tế điện tử"


def test_topic_name_falls_back_to_the_slug_for_an_unnamed_category(tmp_path):
    station = load_station(write(tmp_path, BASE + 'topics:\n  bluezone: "Cài đặt   Bluezone"\n'))
    assert topic_name(station, "bluezone") == "Cài đặt Bluezone"  # one line: runs of spaces folded
    assert topic_name(station, "covid-song") == "covid-song"
    assert topic_name({"news": "Tin tức"}, "news") == "Tin tức"
    assert topic_name(None, "news") == "news"


@pytest.mark.parametrize("bad, line, words", [
    ('topics:\n  Bluezone: "Cài đặt Bluezone"\n', 5, "invalid category slug 'Bluezone'"),
    ("topics:\n  bluezone:\n", 5, "must be text"),
    ('topics:\n  bluezone: ""\n', 5, "must be text"),
    ("topics:\n  bluezone: {name: x}\n", 5, "must be text"),
    ("topics: [bluezone]\n", 4, "must be a mapping"),
])
def test_bad_topic_entry_names_file_line_and_what_to_write(tmp_path, bad, line, words):
    with pytest.raises(BroadcasterError) as err:
        load_station(write(tmp_path, BASE + bad))
    problem = next(p for p in err.value.problems if words in p.message_en)
    assert problem.file.endswith("config.yaml") and problem.line == line
    assert problem.message_vi and problem.hint_vi and problem.hint_en


def test_two_topics_with_one_name_is_a_warning_naming_both(tmp_path):
    station = load_station(write(tmp_path, BASE + "topics:\n  a: Tin tức\n  b: Tin tức\n"))
    warning = next(w for w in station.warnings if w.field == "topics.b")
    assert "'a'" in warning.message_en and warning.line == 6
