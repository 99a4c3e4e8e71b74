"""Personal data sealed at rest with AES-256-GCM, key rotation, and HMAC blind indexes.

A sealed value is ``0x01 | len(key_id) | key_id | nonce(12) | ciphertext+tag``. The header
(version, id length, key id) followed by the caller's context is the AES-GCM associated data,
so a value only opens under the key id and context it was sealed with.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "CryptoError",
    "KeyConfigError",
    "KeyRing",
    "TamperedValue",
    "UnknownKey",
    "Vault",
]

VERSION = 0x01
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
INDEX_BYTES = 16

_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,16}")
# Either base64 alphabet (standard or url-safe), optional padding.
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")
_TO_URLSAFE = str.maketrans("+/", "-_")


class CryptoError(Exception):
    """Base class for every error raised by this module."""


class UnknownKey(CryptoError):
    """A sealed value names a key id that the key ring does not hold."""


class TamperedValue(CryptoError):
    """A sealed value failed authentication or is malformed."""


class KeyConfigError(CryptoError):
    """Bad key settings; the message is one line and never contains key material."""


def _check_key_id(key_id: str, label: str) -> None:
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        # The rejected text is not echoed: a mangled entry may be key material.
        raise KeyConfigError(f"{label}: key id must be 1-16 characters of A-Z, a-z, 0-9, _ or -")


def _decode_key(text: str, label: str) -> bytes:
    compact = text.strip()
    if not compact:
        raise KeyConfigError(f"{label} is empty")
    if not _BASE64.fullmatch(compact) or len(compact.rstrip("=")) % 4 == 1:
        raise KeyConfigError(f"{label} is not valid base64")
    unpadded = compact.rstrip("=").translate(_TO_URLSAFE)
    try:
        key = base64.b64decode(unpadded + "=" * (-len(unpadded) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise KeyConfigError(f"{label} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyConfigError(f"{label} must decode to {KEY_BYTES} bytes, got {len(key)}")
    return key


def _encode_key(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class KeyRing:
    """Data keys (first one current, the rest only for opening) and the blind-index key."""

    keys: tuple[tuple[str, bytes], ...]
    index_key: bytes

    def __post_init__(self) -> None:
        """Validate the keys so that a ring, however built, is always usable."""
        if not all(isinstance(key, bytes | bytearray) for _, key in self.keys):
            raise KeyConfigError("data keys must be bytes")
        if not isinstance(self.index_key, bytes | bytearray):
            raise KeyConfigError("index key must be bytes")
        keys = tuple((key_id, bytes(key)) for key_id, key in self.keys)
        if not keys:
            raise KeyConfigError("key ring has no data keys")
        seen: set[str] = set()
        for key_id, key in keys:
            _check_key_id(key_id, "data key")
            if key_id in seen:
                raise KeyConfigError(f"duplicate data key id {key_id!r}")
            seen.add(key_id)
            if len(key) != KEY_BYTES:
                raise KeyConfigError(f"data key {key_id!r} must be {KEY_BYTES} bytes")
        index_key = bytes(self.index_key)
        if len(index_key) != KEY_BYTES:
            raise KeyConfigError(f"index key must be {KEY_BYTES} bytes")
        if any(hmac.compare_digest(index_key, key) for _, key in keys):
            raise KeyConfigError("index key must differ from every data key")
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "index_key", index_key)

    def __repr__(self) -> str:
        """Show the key ids only, never key material."""
        ids = ", ".join(key_id for key_id, _ in self.keys)
        return f"KeyRing(keys=[{ids}], index_key=<hidden>)"

    @classmethod
    def parse(cls, data_keys: str, index_key: str) -> KeyRing:
        """Build a ring from ``"id:base64,id:base64"`` (current first) and a base64 index key."""
        return cls._parse(data_keys, index_key, "DATA_KEYS", "INDEX_KEY")

    @classmethod
    def _parse(cls, data_keys: str, index_key: str, keys_label: str, index_label: str) -> KeyRing:
        if not isinstance(data_keys, str) or not data_keys.strip():
            raise KeyConfigError(f"{keys_label} is empty")
        keys: list[tuple[str, bytes]] = []
        for number, entry in enumerate(data_keys.split(","), start=1):
            label = f"{keys_label} entry {number}"
            if not entry.strip():
                raise KeyConfigError(f"{label} is empty")
            key_id, colon, encoded = entry.strip().partition(":")
            if not colon:
                raise KeyConfigError(f"{label} must look like id:base64key")
            _check_key_id(key_id, label)
            if any(key_id == known for known, _ in keys):
                raise KeyConfigError(f"{keys_label} has duplicate key id {key_id!r}")
            keys.append((key_id, _decode_key(encoded, f"{label} (key {key_id!r})")))
        if not isinstance(index_key, str):
            raise KeyConfigError(f"{index_label} is empty")
        ring_index_key = _decode_key(index_key, index_label)
        try:
            return cls(keys=tuple(keys), index_key=ring_index_key)
        except KeyConfigError as error:
            raise KeyConfigError(f"{keys_label}/{index_label}: {error}") from None

    @classmethod
    def generate(cls, key_id: str = "k1") -> KeyRing:
        """Create a ring with one fresh random data key and a fresh index key."""
        _check_key_id(key_id, "new key")
        return cls(
            keys=((key_id, secrets.token_bytes(KEY_BYTES)),),
            index_key=secrets.token_bytes(KEY_BYTES),
        )

    def to_env(self) -> dict[str, str]:
        """Return ``DATA_KEYS`` and ``INDEX_KEY`` in the format ``parse()`` reads."""
        return {
            "DATA_KEYS": ",".join(f"{key_id}:{_encode_key(key)}" for key_id, key in self.keys),
            "INDEX_KEY": _encode_key(self.index_key),
        }

    def rotated(self, new_key_id: str) -> KeyRing:
        """Return a ring whose current key is a fresh one; old keys still open old values."""
        _check_key_id(new_key_id, "new key")
        if any(new_key_id == key_id for key_id, _ in self.keys):
            raise KeyConfigError(f"key id {new_key_id!r} is already in the key ring")
        return KeyRing(
            keys=((new_key_id, secrets.token_bytes(KEY_BYTES)), *self.keys),
            index_key=self.index_key,
        )


class Vault:
    """Seals and opens values with a key ring, and computes blind indexes."""

    def __init__(self, ring: KeyRing) -> None:
        """Prepare one cipher per key, since building an AESGCM object is not free."""
        self._ring = ring
        self._current_id = ring.keys[0][0]
        self._ciphers: dict[bytes, tuple[bytes, AESGCM]] = {}
        for key_id, key in ring.keys:
            raw_id = key_id.encode("ascii")
            header = bytes((VERSION, len(raw_id))) + raw_id
            self._ciphers[raw_id] = (header, AESGCM(key))
        self._current = self._ciphers[self._current_id.encode("ascii")]
        self._index_mac = hmac.new(ring.index_key, digestmod=hashlib.sha256)

    @property
    def current_key_id(self) -> str:
        """The id of the key new values are sealed with."""
        return self._current_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        """The ids of every key this vault can open values with, the current one first."""
        return tuple(key_id for key_id, _ in self._ring.keys)

    def reseal(self, sealed: bytes, *, context: bytes = b"") -> bytes:
        """The same plaintext sealed again under the current key (UnknownKey/TamperedValue)."""
        return self.seal(self.open(sealed, context=context), context=context)

    def seal(self, plaintext: bytes, *, context: bytes = b"") -> bytes:
        """Encrypt and authenticate ``plaintext`` with the current key, bound to ``context``."""
        header, cipher = self._current
        nonce = os.urandom(NONCE_BYTES)
        return header + nonce + cipher.encrypt(nonce, plaintext, header + context)

    def open(self, sealed: bytes, *, context: bytes = b"") -> bytes:
        """Decrypt a sealed value; raise UnknownKey or TamperedValue if that is not possible."""
        raw_id, body_start = self._split_header(sealed)
        entry = self._ciphers.get(raw_id)
        if entry is None:
            raise UnknownKey(f"value sealed with unknown key id {raw_id.decode('ascii')!r}")
        header, cipher = entry
        nonce_end = body_start + NONCE_BYTES
        nonce = sealed[body_start:nonce_end]
        try:
            return cipher.decrypt(nonce, sealed[nonce_end:], header + context)
        except InvalidTag:
            raise TamperedValue(
                "sealed value failed authentication (tampered or wrong context)"
            ) from None

    def seal_json(self, value: Any, *, context: bytes = b"") -> bytes:
        """Seal ``value`` as compact UTF-8 JSON."""
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return self.seal(text.encode("utf-8"), context=context)

    def open_json(self, sealed: bytes, *, context: bytes = b"") -> Any:
        """Open a value sealed by ``seal_json`` and decode its JSON."""
        plaintext = self.open(sealed, context=context)
        try:
            return json.loads(plaintext.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise TamperedValue("sealed value does not hold JSON") from None

    def key_id_of(self, sealed: bytes) -> str:
        """Return the id of the key a value was sealed with."""
        raw_id, _ = self._split_header(sealed)
        return raw_id.decode("ascii")

    def needs_reseal(self, sealed: bytes) -> bool:
        """Tell whether a value was sealed with a key other than the current one."""
        return self.key_id_of(sealed) != self._current_id

    def blind_index(self, kind: str, value: str) -> str:
        """Return a keyed, deterministic lookup hash of ``value`` in the namespace ``kind``."""
        if not kind or "\x00" in kind:
            # The NUL separator keeps kinds apart only if no kind contains it.
            raise ValueError("blind index kind must be non-empty and contain no NUL")
        mac = self._index_mac.copy()
        mac.update(f"{kind}\x00{value}".encode())
        return mac.digest()[:INDEX_BYTES].hex()

    @staticmethod
    def _split_header(sealed: bytes) -> tuple[bytes, int]:
        """Return the raw key id and the offset of the nonce, or raise TamperedValue."""
        if len(sealed) < 2 or sealed[0] != VERSION:
            raise TamperedValue("sealed value is malformed or of an unknown version")
        id_end = 2 + sealed[1]
        raw_id = bytes(sealed[2:id_end])
        if len(sealed) < id_end + NONCE_BYTES + TAG_BYTES or not _KEY_ID.fullmatch(
            raw_id.decode("latin-1")
        ):
            raise TamperedValue("sealed value is malformed")
        return raw_id, id_end
