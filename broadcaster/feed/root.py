"""The district's offline root key and the online key(s) it certifies, with The Update Framework's root semantics.

A feed folder may hold `root/<n>.root.json` (n = 1, 2, …): signed root metadata. Root n names the root keys (kept
off the server, on a USB stick) and the online keys (on the district PC) that may sign manifests, each with a
threshold, and an expiry. A commune pins the first root key (`feed.public_key`) and then follows the chain as
TUF's client does (specification 5.3):

- root n+1 is taken only if a threshold of root n's root keys AND a threshold of its own root keys signed it, and
  its version is exactly n+1 (so a root is rotated by the old root signing the new one);
- the newest root must not have expired (an attacker replaying old metadata cannot freeze a commune for longer);
- a manifest counts only if a threshold of the trusted root's online keys signed it;
- when the online keys change, the version accepted so far is forgotten (TUF's fast-forward recovery: an
  attacker who held the old online key may have signed version 10⁹).

So a stolen online key is revoked by one offline signature (`district root rotate`), without visiting the
communes; a commune whose feed has no root/ folder keeps the plain pinned-key mode (its pinned key signs the
manifests itself). Once a commune has trusted a root it never goes back to plain mode.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from broadcaster.feed import signing
from broadcaster.feed.errors import feed_error
from broadcaster.feed.manifest import DISTRICT_ID, check_signed, load_json, parse_utc, seal_with, utc_iso

ROOT_ENVELOPE = "broadcaster-feed-root-envelope/1"
ROOT_FORMAT = "broadcaster-feed-root/1"
ROOT_DIR = "root"
MAX_ROOT_DAYS = 731
MAX_ROOTS_PER_SYNC = 64


@dataclass(frozen=True)
class Role:
    keys: dict[str, Ed25519PublicKey]
    threshold: int

    def to_json(self) -> dict:
        return {"keys": {k: base64.b64encode(signing.raw(v)).decode() for k, v in sorted(self.keys.items())},
                "threshold": self.threshold}


@dataclass(frozen=True)
class Root:
    district: str
    version: int
    expires: str
    root: Role
    online: Role
    envelope: bytes = b""

    def to_json(self) -> dict:
        return {"format": ROOT_FORMAT, "district": self.district, "version": self.version, "expires": self.expires,
                "root": self.root.to_json(), "online": self.online.to_json()}

    def is_expired(self, now: datetime) -> bool:
        return now >= parse_utc(self.expires)


def file_name(version: int) -> str:
    return f"{version}.root.json"


def role_of(publics: list[Ed25519PublicKey], threshold: int = 1) -> Role:
    return Role({signing.key_id(p): p for p in publics}, threshold)


def seal_root(root: Root, signers: list[Ed25519PrivateKey]) -> bytes:
    return seal_with(root.to_json(), signers, ROOT_ENVELOPE, signing.ROOT_CONTEXT)


def new_root(district: str, version: int, root_keys: list[Ed25519PublicKey], online_keys: list[Ed25519PublicKey],
             days: float, now: datetime | None = None) -> Root:
    if not 0 < days <= MAX_ROOT_DAYS:
        raise feed_error("bad-expiry", "--expires-days", f"hạn của root phải từ 0 đến {MAX_ROOT_DAYS} ngày",
                         f"a root's lifetime must be more than 0 and at most {MAX_ROOT_DAYS} days")
    now = now or datetime.now(UTC)
    return Root(district, version, utc_iso(now + timedelta(days=days)), role_of(root_keys), role_of(online_keys))


def parse_root(data: bytes, signer: Root | None, pinned: Ed25519PublicKey | None, where: str) -> Root:
    """Root metadata checked against the root before it (`signer`), or, for the first, the pinned key; then
    against its own root keys (a new root proves it holds its keys)."""
    keys = signer.root.keys if signer else {signing.key_id(pinned): pinned}
    threshold = signer.root.threshold if signer else 1
    payload, _ = check_signed(data, keys, threshold, where, ROOT_ENVELOPE, signing.ROOT_CONTEXT)
    root = _parse(payload, where)
    check_signed(data, root.root.keys, root.root.threshold, where, ROOT_ENVELOPE, signing.ROOT_CONTEXT)
    expected = signer.version + 1 if signer else 1
    if root.version != expected:
        raise _bad(where, f"version {root.version}, expected {expected}")
    if signer and root.district != signer.district:
        raise _bad(where, f"district '{root.district}' differs from '{signer.district}'")
    return Root(root.district, root.version, root.expires, root.root, root.online, data)


def _parse(payload: bytes, where: str) -> Root:
    raw = load_json(payload, where, "malformed")
    if not isinstance(raw, dict) or raw.get("format") != ROOT_FORMAT:
        raise _bad(where, f"format is not {ROOT_FORMAT}")
    version, district = raw.get("version"), raw.get("district")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _bad(where, "version must be a whole number ≥ 1")
    if not isinstance(district, str) or not DISTRICT_ID.fullmatch(district):
        raise _bad(where, "district id missing or not a plain name")
    try:
        parse_utc(raw["expires"])
    except (KeyError, TypeError, ValueError):
        raise _bad(where, "expires missing or not an ISO time") from None
    return Root(district, version, raw["expires"], _role(raw.get("root"), "root", where),
                _role(raw.get("online"), "online", where))


def _role(raw: object, name: str, where: str) -> Role:
    if not isinstance(raw, dict) or not isinstance(raw.get("keys"), dict) or not raw["keys"]:
        raise _bad(where, f"{name}: keys missing")
    keys = {}
    for keyid, text in list(raw["keys"].items())[:16]:
        try:
            key = signing.from_raw(base64.b64decode(str(text), validate=True))
        except ValueError:
            raise _bad(where, f"{name}: a key is not a raw Ed25519 key") from None
        if signing.key_id(key) != keyid:
            raise _bad(where, f"{name}: key id does not match its key")
        keys[keyid] = key
    threshold = raw.get("threshold")
    if not isinstance(threshold, int) or isinstance(threshold, bool) or not 1 <= threshold <= len(keys):
        raise _bad(where, f"{name}: threshold must be 1 to the number of keys")
    return Role(keys, threshold)


def expired(root: Root, where: str) -> Exception:
    return feed_error("expired", where, f"root của huyện đã hết hạn lúc {root.expires}",
                      f"the district's root metadata expired at {root.expires}",
                      "báo đài huyện ký root mới bằng khóa gốc (district root rotate)",
                      "ask the district to sign a new root with its root key (district root rotate)")


def _bad(where: str, detail: str) -> Exception:
    return feed_error("malformed", where, f"root sai cấu trúc: {detail}", f"malformed root metadata: {detail}",
                      "không dùng; báo đài huyện", "nothing was used; tell the district")


def load_trusted(data: bytes, where: str) -> Root:
    """A root this commune verified before, from its own state."""
    payload, _ = check_signed(data, _self_keys(data, where), 1, where, ROOT_ENVELOPE, signing.ROOT_CONTEXT)
    root = _parse(payload, where)
    return Root(root.district, root.version, root.expires, root.root, root.online, data)


def _self_keys(data: bytes, where: str) -> dict[str, Ed25519PublicKey]:
    envelope = load_json(data, where)
    signed = envelope.get("signed", "") if isinstance(envelope, dict) else ""
    return _parse(str(signed).encode("utf-8"), where).root.keys
