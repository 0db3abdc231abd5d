"""Vietnamese text normalisation before speech: each written form and the reading expected for it."""

from __future__ import annotations

import pytest

from broadcaster.bulletins.text import Abbreviations, check_speakable, normalise, say_integer
from broadcaster.problems import BroadcasterError

READINGS = [
    # numbers: '.' groups thousands, ',' is the decimal mark
    ("1.234 người", "một nghìn hai trăm ba mươi bốn người."),
    ("2,5 tấn", "hai phẩy năm tấn."),
    ("2,05 tấn", "hai phẩy không năm tấn."),
    ("1.000.500 đồng", "một triệu năm trăm đồng."),
    ("năm 2021", "năm hai nghìn không trăm hai mươi mốt."),
    ("năm 2005", "năm hai nghìn không trăm lẻ năm."),
    ("105 hộ", "một trăm lẻ năm hộ."),
    ("50.000đ", "năm mươi nghìn đồng."),
    # dates
    ("17/02/2021", "ngày mười bảy tháng hai năm hai nghìn không trăm hai mươi mốt."),
    ("từ ngày 17/02/2021", "từ ngày mười bảy tháng hai năm hai nghìn không trăm hai mươi mốt."),
    ("ngày 5/4/2021", "ngày mùng năm tháng tư năm hai nghìn không trăm hai mươi mốt."),
    ("ngày 17-02-2021", "ngày mười bảy tháng hai năm hai nghìn không trăm hai mươi mốt."),
    ("đến 13/03", "đến ngày mười ba tháng ba."),
    ("tháng 02/2021", "tháng hai năm hai nghìn không trăm hai mươi mốt."),
    ("32/13/2021", "ba mươi hai, mười ba, hai nghìn không trăm hai mươi mốt."),  # not a date: numbers
    # times and ranges
    ("lúc 7h30", "lúc bảy giờ ba mươi."),
    ("lúc 07:30", "lúc bảy giờ ba mươi phút."),
    ("lúc 14h", "lúc mười bốn giờ."),
    ("từ 7h30–11h30", "từ bảy giờ ba mươi đến mười một giờ ba mươi."),
    ("3-5 lần", "ba đến năm lần."),
    # phone numbers, digit by digit, pausing where the writer grouped them
    ("gọi 0220 3891 234", "gọi không hai hai không, ba tám chín một, hai ba bốn."),
    ("gọi 0912.345.678", "gọi không chín một hai, ba bốn năm, sáu bảy tám."),
    ("gọi 0912345678", "gọi không chín một hai ba bốn năm sáu bảy tám."),
    # abbreviations (abbreviations.yaml)
    ("UBND xã", "Ủy ban nhân dân xã."),
    ("HĐND huyện", "Hội đồng nhân dân huyện."),
    ("Sở TT&TT", "Sở Thông tin và Truyền thông."),
    ("BCĐ phòng chống dịch", "Ban chỉ đạo phòng chống dịch."),
    ("dịch Covid-19", "dịch Cô-vít mười chín."),
    ("các ca F0/F1", "các ca ép không, ép một."),
    # units
    ("cách 3 km", "cách ba ki-lô-mét."),
    ("đạt 2,5%", "đạt hai phẩy năm phần trăm."),
    ("60 km/h", "sáu mươi ki-lô-mét trên giờ."),
    # Roman numerals in headings and after 'Phụ lục', 'Chương'
    ("II. HƯỚNG DẪN", "Phần hai. HƯỚNG DẪN."),
    ("IV) Tổ chức", "Phần bốn. Tổ chức."),
    ("xem Phụ lục II", "xem Phụ lục hai."),
]


@pytest.mark.parametrize(("written", "spoken"), READINGS, ids=[w for w, _ in READINGS])
def test_written_form_is_read_as_expected(written, spoken):
    assert normalise(written) == [spoken]


@pytest.mark.parametrize(("number", "words"), [
    (0, "không"), (15, "mười lăm"), (21, "hai mươi mốt"), (1005, "một nghìn không trăm lẻ năm"),
    (10500, "mười nghìn năm trăm"), (2000021, "hai triệu không trăm hai mươi mốt"),
])
def test_integers_read_with_zero_hundreds_inside(number, words):
    assert say_integer(number) == words


def test_blank_lines_make_paragraphs_and_lines_end_with_a_pause():
    assert normalise("THÔNG BÁO\n\nDòng một\ndòng hai\n\n\nCuối") == ["THÔNG BÁO.", "Dòng một. dòng hai.", "Cuối."]


def test_station_dictionary_extends_and_overrides_the_packaged_one(tmp_path):
    own = tmp_path / "tu-viet-tat.yaml"
    own.write_text("HTX: hợp tác xã\nUBND: U bê en đê\n", encoding="utf-8")
    words = Abbreviations.load(own)
    assert normalise("HTX và UBND, HĐND", words) == ["hợp tác xã và U bê en đê, Hội đồng nhân dân."]


def test_station_dictionary_with_a_key_twice_names_the_line(tmp_path):
    own = tmp_path / "tu-viet-tat.yaml"
    own.write_text("HTX: hợp tác xã\nHTX: khác\n", encoding="utf-8")
    with pytest.raises(BroadcasterError) as err:
        Abbreviations.load(own)
    assert str(own) in str(err.value) and "2" in str(err.value)


@pytest.mark.parametrize(("text", "vi", "en"), [
    ("", "trống", "empty"),
    ("  \n\n ", "trống", "empty"),
    ("x" * 101, "quá giới hạn 100", "over the limit of 100"),
    ("Chào bà con 😀", "U+1F600", "cannot say"),
    ("Dòng một\nThông báo 通知", "U+901A", "cannot say"),
])
def test_text_the_engine_cannot_say_is_refused_in_both_languages(text, vi, en):
    with pytest.raises(BroadcasterError) as err:
        check_speakable(text, "tb.txt", max_chars=100)
    message = str(err.value)
    assert vi in message and en in message and "tb.txt" in message


def test_refused_character_names_its_line():
    with pytest.raises(BroadcasterError) as err:
        check_speakable("Dòng một\nThông báo 通知", "tb.txt", max_chars=100)
    assert err.value.problems[0].line == 2


def test_vietnamese_letters_and_punctuation_are_speakable():
    check_speakable("Ủy ban “xã” Cẩm Hưng: 7h30–11h30, 2,5% (F0/F1)… Đồng ý!", "tb.txt", max_chars=200)
