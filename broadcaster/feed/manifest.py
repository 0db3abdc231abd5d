"""The feed manifest: what a district offers its communes, and the signed envelope that carries it.

`manifest.json` in a feed folder is one JSON envelope (like TUF's signed metadata, or apt's InRelease):

    {"format": "broadcaster-feed-envelope/1",
     "signed": "<the manifest, as JSON text>",
     "signatures": [{"keyid": "<16 hex>", "alg": "ed25519", "sig": "<base64>"}]}

The signature covers the exact UTF-8 bytes of "signed" — no re-serialising, no canonical-JSON pitfalls — and
manifest and signature travel in one file, so one atomic rename publishes both and no web cache can pair a new
manifest with an old signature. The manifest inside is described in docs/cli.md ("District feed").
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from broadcaster.feed import signing
from broadcaster.feed.errors import feed_error
from broadcaster.model import CATEGORY, LEVELS, Level

ENVELOPE_FORMAT = "broadcaster-feed-envelope/1"
MANIFEST_FORMAT = "broadcaster-feed/1"
AUDIO_EXTENSIONS = ("mp3", "wav", "ogg", "flac", "m4a", "opus")
# Names are checked with fullmatch only (`$` also matches before a trailing newline).
# A clip's name is fully determined by its hash: nothing in a manifest can point outside clips/.
_CLIP_NAME = re.compile(r"clips/([0-9a-f]{64})\.(" + "|".join(AUDIO_EXTENSIONS) + r")")
_SHA = re.compile(r"[0-9a-f]{64}")
DISTRICT_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
# An envelope nests 3 deep and a manifest 4; anything deeper is refused before the parser sees it.
MAX_DEPTH = 16
MAX_SIGNATURES = 16
MAX_REASON = 300
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("time without zone")
    return moment


@dataclass(frozen=True)
class Clip:
    """One clip offered by the district."""

    sha256: str
    size: int
    file: str  # clips/<sha256>.<ext>, relative to the feed folder
    category: str
    title: str
    priority: str = Level.NORMAL
    valid_from: str | None = None  # YYYY-MM-DD, station's local date
    valid_until: str | None = None
    plays_per_day_min: int | None = None
    plays_per_day_max: int | None = None
    targets: tuple[str, ...] | str = "all"  # "all" or commune ids (station.id)
    published: str = ""
    reason: str = ""  # why the district sends it: the break-in's reason in the commune's as-run rows
    override_blackout: bool = False  # an emergency that may air inside a commune's blackout (signed decision)

    def targets_station(self, station_id: str) -> bool:
        return self.targets == "all" or station_id in self.targets

    def to_json(self) -> dict:
        data = asdict(self)
        data["targets"] = self.targets if self.targets == "all" else list(self.targets)
        for key in ("reason", "override_blackout"):  # left out when unset: older communes' manifests unchanged
            if not data[key]:
                del data[key]
        return data


@dataclass(frozen=True)
class Revocation:
    sha256: str
    revoked: str  # UTC ISO time
    title: str = ""


@dataclass(frozen=True)
class Manifest:
    district: str
    version: int
    issued: str  # UTC ISO
    expires: str
    clips: tuple[Clip, ...] = ()
    revoked: tuple[Revocation, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        return {"format": MANIFEST_FORMAT, "district": self.district, "version": self.version,
                "issued": self.issued, "expires": self.expires, "clips": [c.to_json() for c in self.clips],
                "revoked": [asdict(r) for r in self.revoked]}

    def is_expired(self, now: datetime) -> bool:
        return now >= parse_utc(self.expires)

    def days_left(self, now: datetime) -> float:
        return (parse_utc(self.expires) - now).total_seconds() / 86400


@dataclass(frozen=True)
class Verified:
    """A manifest whose signature checked out, with the exact envelope bytes it came in."""

    manifest: Manifest
    envelope: bytes
    keyid: str


def seal(manifest: Manifest, private: Ed25519PrivateKey) -> bytes:
    """The envelope bytes for a manifest, signed."""
    signed = json.dumps(manifest.to_json(), ensure_ascii=False, indent=1)
    sig = signing.sign(private, signed.encode("utf-8"))
    envelope = {"format": ENVELOPE_FORMAT, "signed": signed, "signatures": [
        {"keyid": signing.key_id(private.public_key()), "alg": "ed25519", "sig": base64.b64encode(sig).decode()}]}
    return (json.dumps(envelope, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def load_json(data: bytes, where: str, code: str = "not-json") -> object:
    """json.loads, after checking the nesting depth without recursion (a file of 200,000 '[' is refused in a
    few milliseconds instead of raising RecursionError from the parser)."""
    import numpy as np

    skeleton = np.frombuffer(_STRING.sub(b'""', data), dtype=np.uint8)
    steps = (skeleton == ord("[")).astype(np.int32) + (skeleton == ord("{")) - (skeleton == ord("]")) \
        - (skeleton == ord("}"))
    if steps.size and int(np.cumsum(steps).max()) > MAX_DEPTH:
        raise feed_error(code, where, f"danh mục lồng nhau quá sâu (trên {MAX_DEPTH} mức)",
                         f"nested deeper than {MAX_DEPTH} levels: not a feed manifest", "không dùng; báo đài huyện",
                         "nothing was used; tell the district")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise feed_error(code, where, "danh mục tin bài không đọc được (không phải JSON)",
                         f"the manifest is not valid JSON ({str(err)[:80]})", "kiểm tra địa chỉ feed.url",
                         "check feed.url") from None


def short(text: object, limit: int = 40) -> str:
    """Untrusted text for a message: cut, so a hostile file cannot flood the log."""
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "…"


def open_envelope(data: bytes, public: Ed25519PublicKey | dict[str, Ed25519PublicKey], where: str, *,
                  threshold: int = 1, strict_times: bool = True) -> Verified:
    """Check the envelope's signature with the pinned key (or `threshold` of the online keys a trusted root
    names), then parse and check the manifest inside.

    Order matters: nothing inside "signed" is looked at before its signature checks out."""
    keys = public if isinstance(public, dict) else {signing.key_id(public): public}
    payload, signers = check_signed(data, keys, threshold, where, ENVELOPE_FORMAT, signing.CONTEXT)
    return Verified(parse_manifest(payload, where, strict_times=strict_times), data, signers[0])


def check_signed(data: bytes, keys: dict[str, Ed25519PublicKey], threshold: int, where: str, fmt: str,
                 context: bytes) -> tuple[bytes, list[str]]:
    """The signed payload of an envelope once `threshold` distinct keys of `keys` have signed it, and their ids."""
    head = data[:200].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<")):
        raise feed_error("not-json", where, "máy chủ trả về trang HTML chứ không phải danh mục tin bài",
                         "the server returned an HTML page, not a feed manifest",
                         "kiểm tra địa chỉ feed.url (có thể bị cổng đăng nhập Wi-Fi chặn)",
                         "check feed.url (a Wi-Fi login page or proxy may be in the way)")
    envelope = load_json(data, where)
    if not isinstance(envelope, dict) or envelope.get("format") != fmt or not isinstance(envelope.get("signed"), str):
        raise feed_error("not-json", where, "tệp không phải danh mục tin bài đã ký của huyện",
                         "this is not a signed district feed file")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise feed_error("missing-signature", where, "danh mục tin bài không có chữ ký", "the manifest is not signed",
                         "báo đài huyện ký lại (district publish/refresh)", "ask the district to re-sign it")
    if len(signatures) > MAX_SIGNATURES:
        raise feed_error("malformed", where, f"quá nhiều chữ ký ({len(signatures)})",
                         f"too many signatures ({len(signatures)}, at most {MAX_SIGNATURES})",
                         "không dùng; báo đài huyện", "nothing was used; tell the district")
    mine = [s for s in signatures if isinstance(s, dict) and s.get("keyid") in keys]
    if not mine:
        others = ", ".join(short(s.get("keyid"), 20) for s in signatures[:3] if isinstance(s, dict))
        wanted = ", ".join(sorted(keys))
        raise feed_error("wrong-key", where, f"danh mục được ký bằng khóa khác ({others}), không phải khóa huyện "
                         f"đã cài ({wanted})", f"the manifest is signed by another key ({others}), not the pinned "
                         f"district key ({wanted})", "kiểm tra feed.url và feed.public_key",
                         "check feed.url and feed.public_key")
    payload = envelope["signed"].encode("utf-8")
    good: list[str] = []
    for entry in mine:
        keyid = entry["keyid"]
        try:
            sig = base64.b64decode(str(entry.get("sig", ""))[:200], validate=True)
        except ValueError:
            continue
        if keyid not in good and signing.verify(keys[keyid], sig, payload, context):
            good.append(keyid)
    if len(good) < max(1, threshold):
        raise feed_error("bad-signature", where, "chữ ký sai: danh mục đã bị sửa hoặc giả mạo",
                         "bad signature: the manifest was altered or forged", "không dùng; báo đài huyện",
                         "nothing was used; tell the district")
    return payload, good


def seal_with(payload: dict, privates: list[Ed25519PrivateKey], fmt: str, context: bytes) -> bytes:
    """An envelope of `fmt` over the JSON of payload, signed by each key."""
    signed = json.dumps(payload, ensure_ascii=False, indent=1)
    signatures = [{"keyid": signing.key_id(p.public_key()), "alg": "ed25519",
                   "sig": base64.b64encode(signing.sign(p, signed.encode("utf-8"), context)).decode()}
                  for p in privates]
    return (json.dumps({"format": fmt, "signed": signed, "signatures": signatures}, ensure_ascii=False, indent=1)
            + "\n").encode("utf-8")


def parse_manifest(payload: bytes, where: str, *, strict_times: bool = True) -> Manifest:
    """The manifest inside a checked envelope. strict_times=False lets the district read back its own manifest
    when its times are wrong (signed already expired), so that it can always publish a newer version."""
    raw = load_json(payload, where, "malformed")
    if not isinstance(raw, dict) or raw.get("format") != MANIFEST_FORMAT:
        raise _malformed(where, f"format is not {MANIFEST_FORMAT}")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _malformed(where, "version must be a whole number ≥ 1")
    district = raw.get("district")
    if not isinstance(district, str) or not DISTRICT_ID.fullmatch(district):
        raise _malformed(where, "district id missing or not a plain name")
    try:
        issued, expires = parse_utc(raw["issued"]), parse_utc(raw["expires"])
    except (KeyError, TypeError, ValueError):
        raise _malformed(where, "issued/expires missing or not ISO times") from None
    if strict_times and expires <= issued:
        raise _malformed(where, "expires is not after issued")
    clips, seen = [], set()
    for index, item in enumerate(raw.get("clips") or []):
        clip = _parse_clip(item, f"clips[{index}]", where)
        if clip.sha256 in seen:
            raise _malformed(where, f"clips[{index}]: clip listed twice")
        seen.add(clip.sha256)
        clips.append(clip)
    revoked = []
    for index, item in enumerate(raw.get("revoked") or []):
        if not isinstance(item, dict) or not _SHA.fullmatch(str(item.get("sha256", ""))):
            raise _malformed(where, f"revoked[{index}]: sha256 missing")
        revoked.append(Revocation(item["sha256"], str(item.get("revoked", "")), str(item.get("title", ""))))
    return Manifest(district, version, raw["issued"], raw["expires"], tuple(clips), tuple(revoked))


def _parse_clip(item: object, name: str, where: str) -> Clip:
    if not isinstance(item, dict):
        raise _malformed(where, f"{name} is not a mapping")
    sha, file = str(item.get("sha256", "")), str(item.get("file", ""))
    if not _SHA.fullmatch(sha):
        raise _malformed(where, f"{name}: sha256 is not 64 hex digits")
    match = _CLIP_NAME.fullmatch(file)
    if not match or match.group(1) != sha:
        raise _malformed(where, f"{name}: file name {file!r} is not clips/<sha256>.<audio ext> (unsafe or wrong)")
    size = item.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise _malformed(where, f"{name}: size must be a positive whole number")
    if item.get("priority", Level.NORMAL) not in LEVELS:
        raise _malformed(where, f"{name}: priority must be one of {', '.join(LEVELS)}")
    for key in ("valid_from", "valid_until"):
        if item.get(key) is not None:
            try:
                date.fromisoformat(str(item[key]))
            except ValueError:
                raise _malformed(where, f"{name}: {key} is not a date") from None
    quota = [item.get("plays_per_day_min"), item.get("plays_per_day_max")]
    if any(q is not None and (not isinstance(q, int) or isinstance(q, bool) or q < 0) for q in quota):
        raise _malformed(where, f"{name}: plays per day must be whole numbers")
    targets = item.get("targets", "all")
    if targets != "all":
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            raise _malformed(where, f"{name}: targets must be 'all' or a list of commune ids")
        targets = tuple(targets)
    reason, override = item.get("reason", ""), item.get("override_blackout", False)
    if not isinstance(reason, str) or len(reason) > MAX_REASON or not isinstance(override, bool):
        raise _malformed(where, f"{name}: reason must be text (≤ {MAX_REASON}), override_blackout true/false")
    if override and item.get("priority") != Level.EMERGENCY:
        raise _malformed(where, f"{name}: only an emergency clip may override a blackout")
    category, title = item.get("category"), item.get("title")
    if not isinstance(category, str) or not CATEGORY.fullmatch(category) or not isinstance(title, str):
        raise _malformed(where, f"{name}: category (lower-case ASCII, digits, '-') and title are required")
    return Clip(sha, size, file, category, title, item.get("priority", Level.NORMAL), item.get("valid_from"),
                item.get("valid_until"), quota[0], quota[1], targets, str(item.get("published", "")), reason,
                override)


def _malformed(where: str, detail: str):
    return feed_error("malformed", where, f"danh mục tin bài sai cấu trúc: {detail}",
                      f"malformed manifest: {detail}", "không dùng; báo đài huyện",
                      "nothing was used; tell the district")
