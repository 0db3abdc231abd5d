"""Ed25519 keys and signatures for the district feed.

The district keeps the private key (a PKCS#8 PEM file, mode 0600); communes pin the public key (a PEM file)
in their config. A key is named by its key id: the first 16 hex digits of the SHA-256 of the raw public key,
so a manifest says which key signed it and a commune can tell "another district's key" from "a forged
signature". Signatures cover a fixed context prefix plus the exact manifest bytes, so a signature made for
something else with the same key can never pass as a manifest signature.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from broadcaster.problems import fail

CONTEXT = b"broadcaster-feed-manifest-v1\x00"  # domain separation for manifest signatures
ROOT_CONTEXT = b"broadcaster-feed-root-v1\x00"  # root metadata: a manifest signature never passes as one
PRIVATE_NAME = "district.key"
PUBLIC_NAME = "district.pub"


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate(out_dir: Path) -> tuple[Path, Path]:
    """Write a new key pair into out_dir; never overwrites an existing key."""
    out_dir.mkdir(parents=True, exist_ok=True)
    private_path, public_path = out_dir / PRIVATE_NAME, out_dir / PUBLIC_NAME
    for path in (private_path, public_path):
        if path.exists():
            raise fail(str(path), "khóa đã có, không ghi đè", "a key already exists here; not overwriting it",
                       hint_vi="chọn thư mục khác cho --out", hint_en="choose another --out folder")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    # O_EXCL + 0600 at creation: the private key is never readable by others, not even for a moment.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public_path.write_bytes(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return private_path, public_path


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except FileNotFoundError:
        raise fail(str(path), "không tìm thấy khóa bí mật", "private key file not found",
                   hint_vi="tạo khóa bằng 'district keygen'", hint_en="make one with 'district keygen'") from None
    except (ValueError, TypeError):
        raise fail(str(path), "tệp không phải khóa bí mật Ed25519", "not an Ed25519 private key (PEM)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise fail(str(path), "khóa không phải Ed25519", "the key is not an Ed25519 key")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except FileNotFoundError:
        raise fail(str(path), "không tìm thấy khóa công khai của huyện", "district public key file not found",
                   hint_vi="chép tệp district.pub từ đài huyện và ghi đường dẫn vào feed.public_key",
                   hint_en="copy district.pub from the district and set feed.public_key") from None
    except (ValueError, TypeError):
        raise fail(str(path), "tệp không phải khóa công khai Ed25519", "not an Ed25519 public key (PEM)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise fail(str(path), "khóa không phải Ed25519", "the key is not an Ed25519 key")
    return key


def sign(private: Ed25519PrivateKey, payload: bytes, context: bytes = CONTEXT) -> bytes:
    return private.sign(context + payload)


def verify(public: Ed25519PublicKey, signature: bytes, payload: bytes, context: bytes = CONTEXT) -> bool:
    try:
        public.verify(signature, context + payload)
    except InvalidSignature:
        return False
    return True


def raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def from_raw(data: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(data)
