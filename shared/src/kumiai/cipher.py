"""Encryption of personal fields at rest: AES-256-GCM with rotating keys.

A blob is: version byte (1), key id length byte, key id (ASCII), 12-byte
nonce, then the GCM ciphertext and tag. The caller's ``context`` (e.g. the
table, column and investor id) is the associated data, so a blob copied to
another row or column does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Mapping
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION: Final = 1
KEY_LENGTH: Final = 32
NONCE_LENGTH: Final = 12
TAG_LENGTH: Final = 16

_KEY_ID: Final = re.compile(r"[A-Za-z0-9_.-]{1,255}")

DEVELOPMENT_KEY_SETTING: Final = "dev:" + base64.b64encode(
    b"kumiai-development-only-key-0000"
).decode("ascii")
"""A well-known key for development only; never valid anywhere else."""


class DecryptionFailed(ValueError):
    """A blob cannot be decrypted: unknown key, wrong context, tampered or malformed."""


class FieldCipher:
    """Encrypts with the current key; decrypts with any key it holds."""

    def __init__(self, keys: Mapping[str, bytes], current: str) -> None:
        if not keys:
            raise ValueError("no encryption keys given")
        for key_id, key in keys.items():
            if not _KEY_ID.fullmatch(key_id):
                raise ValueError(f"key id {key_id!r} must be 1-255 of A-Z a-z 0-9 _ . -")
            if len(key) != KEY_LENGTH:
                raise ValueError(f"key {key_id!r} is {len(key)} bytes, expected {KEY_LENGTH}")
        if current not in keys:
            raise ValueError(f"current key id {current!r} is not among the keys")
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._fingerprints = {hashlib.sha256(key).digest() for key in keys.values()}
        self._current = current

    def shares_key_with(self, other: FieldCipher) -> bool:
        """Whether any key of this cipher is also a key of ``other`` (whatever its id)."""
        return bool(self._fingerprints & other._fingerprints)

    @classmethod
    def from_setting(cls, value: str) -> FieldCipher:
        """Parse ``id1:base64key1,id2:base64key2``; the first key is current."""
        if not value.strip():
            raise ValueError("encryption key setting is empty")
        keys: dict[str, bytes] = {}
        for number, entry in enumerate(value.split(","), start=1):
            key_id, colon, encoded = entry.strip().partition(":")
            if not colon or not key_id or not encoded:
                raise ValueError(f"encryption key entry {number} is not 'id:base64key'")
            if key_id in keys:
                raise ValueError(f"duplicate encryption key id {key_id!r}")
            try:
                keys[key_id] = base64.b64decode(encoded, validate=True)
            except ValueError:
                raise ValueError(f"encryption key {key_id!r} is not valid base64") from None
        return cls(keys, current=next(iter(keys)))

    @property
    def current_key_id(self) -> str:
        """The id of the key new blobs are encrypted with."""
        return self._current

    def encrypt(self, plaintext: bytes, *, context: bytes) -> bytes:
        """Encrypt ``plaintext`` bound to ``context`` under the current key."""
        key_id = self._current.encode("ascii")
        nonce = os.urandom(NONCE_LENGTH)
        ciphertext = self._ciphers[self._current].encrypt(nonce, plaintext, context)
        return bytes([VERSION, len(key_id)]) + key_id + nonce + ciphertext

    def decrypt(self, blob: bytes, *, context: bytes) -> bytes:
        """Decrypt a blob from :meth:`encrypt` given the same ``context``."""
        if len(blob) < 2 or blob[0] != VERSION:
            raise DecryptionFailed("not an encrypted field of a known version")
        start = 2 + blob[1]
        if len(blob) < start + NONCE_LENGTH + TAG_LENGTH:
            raise DecryptionFailed("encrypted field is truncated")
        key_id = blob[2:start].decode("ascii", errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise DecryptionFailed(f"unknown encryption key id {key_id!r}")
        nonce = blob[start : start + NONCE_LENGTH]
        try:
            return cipher.decrypt(nonce, blob[start + NONCE_LENGTH :], context)
        except InvalidTag:
            raise DecryptionFailed("encrypted field failed authentication") from None

    def encrypt_json(self, value: Mapping[str, Any], *, context: bytes) -> bytes:
        """Encrypt ``value`` as UTF-8 JSON with sorted keys."""
        text = json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)
        return self.encrypt(text.encode("utf-8"), context=context)

    def decrypt_json(self, blob: bytes, *, context: bytes) -> dict[str, Any]:
        """Decrypt a blob from :meth:`encrypt_json`."""
        plaintext = self.decrypt(blob, context=context)
        try:
            value = json.loads(plaintext.decode("utf-8"))
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise DecryptionFailed("encrypted field is not a JSON object")
        return value
