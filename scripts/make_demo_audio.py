"""Make the demo station's clips, true to the founding letter (Sở TT&TT Hải Dương, 02/2021).

Speech clips are Vietnamese text-to-speech (espeak-ng, voice `vi`) of the letter's Annex I how-to text, its
section 2, and the station's own ident; the 22 "Covid-prevention songs" are synthetic (chords, bass, melody and
a beat, made with numpy, MP3 128 kb/s); the bulletin chime is a two-note ding-dong. Each clip carries its title
as a tag, so `python main.py ingest` picks it up without `--title`. Output: `<out>/<category>/<name>.<ext>`.
Files already there are kept, and the output is deterministic, so running it again changes nothing and ingest
sees duplicates.

    python scripts/make_demo_audio.py [--out out/demo-audio]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np

RATE = 44100
SPEECH_LIMITS = (20.0, 90.0)  # seconds: a spot an operator can fit between songs
SONGS = 22  # enough that two 60-minute sessions fill without repeating a song within 2 hours

# (category, file stem, title, text, extension). Texts from the letter; the idents are the station's own.
SPEECH = [
    ("ident", "mo-dau", "Mở đầu chương trình", "wav",
     "Đây là Đài truyền thanh xã Cẩm Hưng, huyện Cẩm Giàng, tỉnh Hải Dương. Kính thưa toàn thể nhân dân trong xã. "
     "Thực hiện Chỉ thị số 06 ngày 20 tháng 2 năm 2021 của Ủy ban nhân dân tỉnh Hải Dương, Đài truyền thanh xã "
     "bắt đầu chương trình tuyên truyền phòng, chống dịch bệnh Covid-19, hướng dẫn cài đặt, sử dụng ứng dụng "
     "Bluezone và khai báo y tế điện tử. Mời bà con đón nghe."),
    ("ident", "ket-thuc", "Kết thúc chương trình", "wav",
     "Chương trình tuyên truyền phòng, chống dịch bệnh Covid-19 của Đài truyền thanh xã Cẩm Hưng đến đây là kết "
     "thúc. Đề nghị bà con có điện thoại thông minh cài đặt, sử dụng ứng dụng Bluezone, bật Bluetooth, khai báo "
     "y tế điện tử và nhắc người thân cùng thực hiện. Cảm ơn bà con đã chú ý lắng nghe. Xin chào và hẹn gặp lại."),
    ("bluezone", "huong-dan-cai-dat", "Hướng dẫn cài đặt Bluezone", "mp3",
     "Hướng dẫn cài đặt và sử dụng Bluezone. Bước 1: Vào khu ứng dụng Google Play, với các thiết bị sử dụng hệ "
     "điều hành Android, hoặc App Store, với các thiết bị sử dụng hệ điều hành iOS. Gõ từ khóa Bluezone trong mục "
     "tìm kiếm. Chọn ứng dụng Bluezone, Khẩu trang điện tử, của Cục tin học hóa, Bộ Thông tin và Truyền thông, rồi "
     "cài đặt. Bước 2: Nhập số điện thoại để xác thực, sau đó nhấn Tiếp tục. Bước 3: Mở ứng dụng và tại giao diện "
     "chính, Bluezone yêu cầu quyền truy cập Bluetooth, nhấn Đồng ý."),
    ("bluezone", "quet-xung-quanh", "Bluezone: quét xung quanh", "mp3",
     "Sử dụng Bluezone. Sau khi cài đặt, mở ứng dụng, chọn mục Quét xung quanh. Sau vài giây, nếu bạn đã tiếp xúc "
     "gần với các trường hợp nhiễm F0, hoặc các ca F1, F2 mà có dùng ứng dụng Bluezone thì hệ thống sẽ thông báo "
     "để người sử dụng biết được và có biện pháp cách ly, phòng ngừa lây lan ra cộng đồng. Hãy luôn bật "
     "Bluetooth để Bluezone hoạt động."),
    ("bluezone", "loi-keu-goi", "Lời kêu gọi cài đặt Bluezone", "mp3",
     "Đề nghị toàn thể nhân dân có sử dụng điện thoại thông minh cài đặt, sử dụng ứng dụng Bluezone, bật "
     "Bluetooth, khai báo y tế điện tử và yêu cầu người thân cùng thực hiện. Việc mỗi người dân đều cài đặt, sử "
     "dụng ứng dụng Bluezone và khai báo y tế điện tử sẽ giúp thu hẹp phạm vi cách ly, giảm hiện tượng cách ly "
     "nhầm hoặc cách ly phạm vi rộng, từ đó giúp xã hội duy trì được hoạt động bình thường. Để nhanh chóng đẩy "
     "lùi dịch bệnh, từng người dân hãy tuân thủ cài đặt, hướng dẫn người thân cài đặt và yêu cầu người tiếp xúc "
     "với mình cùng cài đặt."),
    ("khai-bao-y-te", "ncovi", "Khai báo y tế trên ứng dụng NCOVI", "mp3",
     "Hướng dẫn khai báo y tế điện tử trên ứng dụng NCOVI. Bước 1: Tải ứng dụng NCOVI trên thiết bị di động, qua "
     "CH Play trên Android và App Store trên iOS. Kích vào phần cài đặt để cài đặt. Bước 2: Sau khi cài đặt xong, "
     "mở ứng dụng lên và thực hiện khai báo các thông tin theo yêu cầu. Trên ứng dụng Bluezone cũng đã tích hợp "
     "khai báo y tế trực tuyến: mở ứng dụng Bluezone, chọn mục Khai báo y tế và thực hiện khai báo thông tin theo "
     "yêu cầu."),
    ("khai-bao-y-te", "tokhaiyte", "Khai báo y tế trên tokhaiyte.vn", "mp3",
     "Hướng dẫn khai báo y tế trên trang tờ khai y tế chấm v n. Bước 1: Truy cập vào địa chỉ tờ khai y tế chấm "
     "v n. Bước 2: Vào mục Khai báo toàn dân và thực hiện khai báo nội dung theo yêu cầu của tờ khai. Tất cả các "
     "cách khai báo đều được tích hợp chung vào một cơ sở dữ liệu. Đề nghị bà con khai báo y tế điện tử và nhắc "
     "người thân cùng thực hiện."),
    ("khai-bao-y-te", "smart-hai-duong", "Khai báo y tế trên Smart Hải Dương", "mp3",
     "Hướng dẫn khai báo y tế trên ứng dụng Smart Hải Dương. Bước 1: Cài đặt và mở ứng dụng Smart Hải Dương. "
     "Bước 2: Vào mục Khai báo y tế và chọn các hình thức: NCOVI, Bluezone, Tờ khai y tế để thực hiện khai báo. "
     "Bà con cũng có thể khai báo trên trang Zalo Chính quyền điện tử tỉnh Hải Dương: truy cập trang Zalo, vào mục "
     "Khai báo y tế và chọn các hình thức để thực hiện khai báo."),
    ("news", "tin-chi-dao", "Tin chỉ đạo phòng chống dịch", "mp3",
     "Tin chỉ đạo phòng, chống dịch. Sở Thông tin và Truyền thông tỉnh Hải Dương đề nghị tiếp tục tăng cường công "
     "tác tuyên truyền về công tác lãnh đạo, chỉ đạo, điều hành của lãnh đạo tỉnh, của các cấp ủy, chính quyền "
     "địa phương và công tác phòng, chống dịch bệnh Covid-19; cung cấp thông tin đầy đủ, kịp thời, thường xuyên, "
     "liên tục, chính xác cho người dân để người dân không chủ quan, lơ là và nâng cao tinh thần cảnh giác trong "
     "công tác phòng, chống dịch Covid-19. Bà con theo dõi thông tin trên Fanpage Trang tin Hải Dương, trang Zalo "
     "Chính quyền điện tử tỉnh Hải Dương, ứng dụng Smart Hải Dương và trang tin covid chấm hai dương chấm gov "
     "chấm v n."),
]


def make_speech(out: Path, category: str, stem: str, title: str, ext: str, text: str) -> Path:
    path = out / category / f"{stem}.{ext}"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "tts.wav"
        subprocess.run(["espeak-ng", "-v", "vi", "-s", "150", "-w", str(raw), text], check=True)
        codec = ["-c:a", "pcm_s16le"] if ext == "wav" else ["-c:a", "libmp3lame", "-b:a", "64k"]
        # A little room before and after the voice, as a real recorded spot has, and mastered like one: raw
        # espeak peaks at full scale, so without this the -1 dBFS peak cap would leave speech ~5 LU under songs.
        _encode(["-i", str(raw), "-af", "adelay=300,apad=pad_dur=0.7,loudnorm=I=-16:TP=-1.5:LRA=11",
                 "-ar", "22050", *codec], title, path)
    return path


# -- synthetic songs ------------------------------------------------------------------------------------------

MAJOR, MINOR = (0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10)
PROGRESSIONS = ((0, 4, 5, 3), (5, 3, 0, 4), (0, 5, 3, 4), (1, 4, 0, 5), (0, 3, 4, 3), (5, 4, 3, 4))


def song_plan(index: int) -> dict:
    """Everything that makes song `index` distinct: key, mode, tempo, chords, length."""
    return {"title": f"Bài hát phòng chống Covid số {index + 1}", "stem": f"bai-hat-{index + 1:02d}",
            "root": 110 * 2 ** (((index * 5) % 12) / 12), "scale": MAJOR if index % 3 else MINOR,
            "bpm": 84 + (index * 7) % 60, "progression": PROGRESSIONS[index % len(PROGRESSIONS)],
            "seconds": 140 + (index * 53) % 121, "seed": 2021 + index}


@lru_cache(maxsize=512)  # a song repeats its few dozen notes hundreds of times
def _note(freq: float, n: int, decay: float, harmonics: tuple[float, ...] = (1.0,)) -> np.ndarray:
    t = np.arange(n, dtype=np.float32) / RATE
    wave = sum(a * np.sin(2 * np.pi * freq * (k + 1) * t, dtype=np.float32) for k, a in enumerate(harmonics))
    attack = np.minimum(1.0, t / 0.01)
    return (wave * attack * np.exp(-t / decay)).astype(np.float32)


def _degree(plan: dict, degree: int, octave: int = 0) -> float:
    scale = plan["scale"]
    semis = scale[degree % 7] + 12 * (degree // 7 + octave)
    return plan["root"] * 2 ** (semis / 12)


def synth_song(plan: dict) -> np.ndarray:
    """Stereo float32 (n, 2): per bar a chord pad, a bass line, a melody phrase and a drum pattern."""
    rng = np.random.default_rng(plan["seed"])
    beat = int(RATE * 60 / plan["bpm"])
    bar = 4 * beat
    total = int(plan["seconds"] * RATE)
    song = np.zeros((total + bar, 2), np.float32)
    kick = _note(55, beat, 0.12) * 0.9
    snare = (rng.standard_normal(beat // 2).astype(np.float32) * np.exp(-np.arange(beat // 2) / (0.05 * RATE))
             ).astype(np.float32) * 0.35
    hat = (rng.standard_normal(beat // 4).astype(np.float32) * np.exp(-np.arange(beat // 4) / (0.01 * RATE))
           ).astype(np.float32) * 0.12
    # Two melodic phrases (verse A, chorus B), each one bar of eighth notes per chord, in the form A A B A.
    phrases = [rng.integers(-2, 6, size=(4, 8)) for _ in range(2)]
    rests = [rng.random((4, 8)) < 0.25 for _ in range(2)]
    form = (0, 0, 1, 0)
    for b, start in enumerate(range(0, total, bar)):
        chord = plan["progression"][b % 4]
        section = form[(b // 4) % 4]
        for k, detune in ((0, 1.0), (2, 1.002), (4, 0.998)):  # triad pad, slightly spread across the stereo field
            tone = _note(_degree(plan, chord + k, 1) * detune, bar, 1.5, (0.5, 0.2, 0.1)) * 0.18
            song[start:start + bar, 0] += tone * (1.1 if k == 2 else 0.9)
            song[start:start + bar, 1] += tone * (0.9 if k == 2 else 1.1)
        for i in range(4):  # bass on every beat, root and fifth
            tone = _note(_degree(plan, chord + (4 if i % 2 else 0), -1), beat, 0.25, (1.0, 0.4)) * 0.35
            song[start + i * beat:start + (i + 1) * beat] += tone[:, None]
        for i in range(8):  # melody in eighth notes
            if rests[section][b % 4, i]:
                continue
            degree = chord + int(phrases[section][b % 4, i])
            tone = _note(_degree(plan, degree, 2), beat // 2, 0.3, (1.0, 0.3, 0.15)) * 0.22
            song[start + i * (beat // 2):start + (i + 1) * (beat // 2)] += tone[:, None]
        for i in range(4):  # drums: kick on 1 and 3, snare on 2 and 4, hats on every eighth
            at = start + i * beat
            (song[at:at + beat] if i % 2 == 0 else song[at:at + beat // 2]).__iadd__(
                (kick if i % 2 == 0 else snare)[:, None])
            for h in (0, beat // 2):
                song[at + h:at + h + beat // 4, 0] += hat * 0.7
                song[at + h:at + h + beat // 4, 1] += hat
    song = song[:total]
    fade = np.linspace(0, 1, RATE, dtype=np.float32)
    song[:RATE] *= fade[:, None]
    song[-3 * RATE:] *= np.linspace(1, 0, 3 * RATE, dtype=np.float32)[:, None]
    return song * (0.89 / np.abs(song).max())  # peak at -1 dBFS, as a mastered record would be


def make_song(out: str, index: int) -> str:
    plan = song_plan(index)
    path = Path(out) / "covid-song" / f"{plan['stem']}.mp3"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pcm = synth_song(plan)
        _encode(["-f", "f32le", "-ar", str(RATE), "-ac", "2", "-i", "pipe:0", "-c:a", "libmp3lame", "-b:a", "128k",
                 "-compression_level", "9"],  # fastest LAME search: synthetic tones need no more
                plan["title"], path, pcm.tobytes())
    return str(path)


def make_chime(out: Path) -> Path:
    """The station's bulletin chime (chuông thông báo): a two-note ding-dong, 1.6 s, that opens each bulletin."""
    path = out / "chuong" / "chuong-thong-bao.wav"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        t = np.arange(int(0.8 * RATE)) / RATE
        notes = [sum(np.sin(2 * np.pi * f * k * t) / k for k in (1, 2, 3)) * np.exp(-4 * t) for f in (784.0, 622.3)]
        pcm = np.concatenate(notes).astype(np.float32)
        pcm *= 0.7 / np.abs(pcm).max()
        _encode(["-f", "f32le", "-ar", str(RATE), "-ac", "1", "-i", "pipe:0", "-c:a", "pcm_s16le"],
                "Chuông thông báo", path, pcm.tobytes())
    return path


def _encode(args: list[str], title: str, path: Path, stdin: bytes | None = None) -> None:
    """Encode with ffmpeg into a temp name, then rename, so an interrupted run never leaves half a file."""
    tmp = path.with_name(f".{path.name}.part{path.suffix}")
    subprocess.run(["ffmpeg", "-nostdin" if stdin is None else "-hide_banner", "-v", "error", "-y", *args,
                    "-metadata", f"title={title}", "-metadata", "artist=Đài truyền thanh xã Cẩm Hưng (demo)",
                    str(tmp)], input=stdin, check=True)
    tmp.replace(path)


def duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return float(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/demo-audio", help="output folder (default: out/demo-audio)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    made = [make_speech(out, *clip) for clip in SPEECH]
    make_chime(out)
    for path in made:
        seconds = duration(path)
        if not SPEECH_LIMITS[0] <= seconds <= SPEECH_LIMITS[1]:
            print(f"{path}: {seconds:.1f} s is outside {SPEECH_LIMITS} s; edit its text", file=sys.stderr)
            return 1
    with ProcessPoolExecutor() as pool:  # LAME is single-threaded: one song per core
        songs = list(pool.map(make_song, [str(out)] * SONGS, range(SONGS)))
    print(f"{len(made)} speech clips, {len(songs)} songs in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
