"""Encryption of personal fields at rest (pure)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.cipher import DEVELOPMENT_KEY_SETTING, DecryptionFailed, FieldCipher

OLD_KEY = bytes(range(32))
NEW_KEY = bytes(range(32, 64))
CONTEXT = b"investors.bank_account:investor-1"
CIPHER = FieldCipher({"k1": OLD_KEY}, current="k1")


def _setting(*entries: tuple[str, bytes]) -> str:
    return ",".join(f"{key_id}:{base64.b64encode(key).decode()}" for key_id, key in entries)


def _key_id(blob: bytes) -> str:
    return blob[2 : 2 + blob[1]].decode("ascii")


@given(st.binary(), st.binary())
def test_round_trip(plaintext: bytes, context: bytes) -> None:
    blob = CIPHER.encrypt(plaintext, context=context)
    assert CIPHER.decrypt(blob, context=context) == plaintext


def test_blob_layout() -> None:
    blob = CIPHER.encrypt(b"secret", context=CONTEXT)
    assert blob[0] == 1
    assert blob[1] == 2
    assert blob[2:4] == b"k1"
    assert len(blob) == 1 + 1 + 2 + 12 + len(b"secret") + 16
    assert b"secret" not in blob


def test_json_round_trip() -> None:
    value = {"name": "山田 花子", "account": {"bank": "0001", "number": "1234567"}, "age": 41}
    blob = CIPHER.encrypt_json(value, context=CONTEXT)
    assert CIPHER.decrypt_json(blob, context=CONTEXT) == value
    plaintext = CIPHER.decrypt(blob, context=CONTEXT)
    assert plaintext.decode("utf-8").startswith('{"account": {"bank": "0001"')
    assert "山田 花子".encode() in plaintext


def test_decrypt_json_refuses_a_blob_that_is_not_a_json_object() -> None:
    for plaintext in [b"[1, 2]", b"not json", b"\xff"]:
        blob = CIPHER.encrypt(plaintext, context=CONTEXT)
        with pytest.raises(DecryptionFailed, match="not a JSON object"):
            CIPHER.decrypt_json(blob, context=CONTEXT)


def test_wrong_context_fails() -> None:
    blob = CIPHER.encrypt(b"1234567", context=b"investors.bank_account:investor-1")
    for other in [b"investors.bank_account:investor-2", b"investors.name:investor-1", b""]:
        with pytest.raises(DecryptionFailed, match="failed authentication"):
            CIPHER.decrypt(blob, context=other)


@given(st.data())
def test_tampering_with_any_byte_fails(data: st.DataObject) -> None:
    blob = CIPHER.encrypt(b"1234567", context=CONTEXT)
    position = data.draw(st.integers(0, len(blob) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = bytearray(blob)
    tampered[position] ^= flip
    with pytest.raises(DecryptionFailed):
        CIPHER.decrypt(bytes(tampered), context=CONTEXT)


def test_tampering_with_every_byte_fails() -> None:
    blob = CIPHER.encrypt(b"1234567", context=CONTEXT)
    for position in range(len(blob)):
        tampered = bytearray(blob)
        tampered[position] ^= 0x01
        with pytest.raises(DecryptionFailed):
            CIPHER.decrypt(bytes(tampered), context=CONTEXT)


def test_truncated_or_extended_blobs_fail() -> None:
    blob = CIPHER.encrypt(b"1234567", context=CONTEXT)
    for length in range(len(blob)):
        with pytest.raises(DecryptionFailed):
            CIPHER.decrypt(blob[:length], context=CONTEXT)
    with pytest.raises(DecryptionFailed):
        CIPHER.decrypt(blob + b"\x00", context=CONTEXT)


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"", "known version"),
        (b"\x02\x02k1" + bytes(40), "known version"),
        (b"\x01\x02k1" + bytes(27), "truncated"),
        (b"\x01\x09k1", "truncated"),
        (b"\x01\x00" + bytes(28), "unknown encryption key id ''"),
        (b"\x01\x02\xff\xfe" + bytes(28), "unknown encryption key id"),
        (b"\x01\x02k1" + bytes(28), "failed authentication"),
    ],
)
def test_malformed_blobs_fail(blob: bytes, message: str) -> None:
    with pytest.raises(DecryptionFailed, match=message):
        CIPHER.decrypt(blob, context=CONTEXT)


def test_decryption_failed_is_a_value_error() -> None:
    assert issubclass(DecryptionFailed, ValueError)


def test_key_rotation() -> None:
    before = FieldCipher.from_setting(_setting(("k1", OLD_KEY)))
    old_blob = before.encrypt(b"old", context=CONTEXT)
    after = FieldCipher.from_setting(_setting(("k2", NEW_KEY), ("k1", OLD_KEY)))
    assert after.current_key_id == "k2"
    assert after.decrypt(old_blob, context=CONTEXT) == b"old"
    new_blob = after.encrypt(b"new", context=CONTEXT)
    assert _key_id(old_blob) == "k1"
    assert _key_id(new_blob) == "k2"
    assert after.decrypt(new_blob, context=CONTEXT) == b"new"
    with pytest.raises(DecryptionFailed, match="unknown encryption key id 'k2'"):
        before.decrypt(new_blob, context=CONTEXT)


def test_unknown_key_id_fails() -> None:
    blob = FieldCipher({"retired": OLD_KEY}, current="retired").encrypt(b"x", context=CONTEXT)
    with pytest.raises(DecryptionFailed, match="unknown encryption key id 'retired'"):
        CIPHER.decrypt(blob, context=CONTEXT)


def test_same_id_with_a_different_key_fails() -> None:
    blob = FieldCipher({"k1": NEW_KEY}, current="k1").encrypt(b"x", context=CONTEXT)
    with pytest.raises(DecryptionFailed, match="failed authentication"):
        CIPHER.decrypt(blob, context=CONTEXT)


def test_nonces_differ() -> None:
    first = CIPHER.encrypt(b"same", context=CONTEXT)
    second = CIPHER.encrypt(b"same", context=CONTEXT)
    assert first[4:16] != second[4:16]
    assert first != second
    assert CIPHER.decrypt(first, context=CONTEXT) == CIPHER.decrypt(second, context=CONTEXT)


def test_development_key_setting() -> None:
    key_id, _, encoded = DEVELOPMENT_KEY_SETTING.partition(":")
    assert key_id == "dev"
    assert len(base64.b64decode(encoded, validate=True)) == 32
    cipher = FieldCipher.from_setting(DEVELOPMENT_KEY_SETTING)
    assert cipher.current_key_id == "dev"
    assert cipher.decrypt(cipher.encrypt(b"x", context=CONTEXT), context=CONTEXT) == b"x"


def test_setting_tolerates_spaces_around_entries() -> None:
    spaced = " " + _setting(("k2", NEW_KEY)) + " , " + _setting(("k1", OLD_KEY)) + " "
    cipher = FieldCipher.from_setting(spaced)
    assert cipher.current_key_id == "k2"
    old_blob = CIPHER.encrypt(b"x", context=CONTEXT)
    assert cipher.decrypt(old_blob, context=CONTEXT) == b"x"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("", "setting is empty"),
        ("  ", "setting is empty"),
        ("k1", "entry 1 is not 'id:base64key'"),
        (_setting(("k1", OLD_KEY)) + ",", "entry 2 is not 'id:base64key'"),
        (":" + base64.b64encode(OLD_KEY).decode(), "entry 1 is not 'id:base64key'"),
        ("k1:", "entry 1 is not 'id:base64key'"),
        ("k1:not base64!", "key 'k1' is not valid base64"),
        ("k1:\uff4b\uff45\uff59", "key 'k1' is not valid base64"),
        (_setting(("k1", bytes(16))), "key 'k1' is 16 bytes, expected 32"),
        (_setting(("k1", bytes(33))), "key 'k1' is 33 bytes, expected 32"),
        (_setting(("k1", OLD_KEY), ("k1", NEW_KEY)), "duplicate encryption key id 'k1'"),
        (_setting(("k 1", OLD_KEY)), "key id 'k 1' must be"),
        (_setting(("\uff4b1", OLD_KEY)), "key id '\uff4b1' must be"),
        (_setting(("k" * 256, OLD_KEY)), "must be 1-255"),
    ],
)
def test_bad_settings_are_refused(setting: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FieldCipher.from_setting(setting)


def test_bad_settings_never_echo_key_material() -> None:
    encoded = base64.b64encode(bytes(range(100, 116))).decode()
    with pytest.raises(ValueError, match="16 bytes") as raised:
        FieldCipher.from_setting(f"k1:{encoded}")
    assert encoded not in str(raised.value)


def test_constructor_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="no encryption keys"):
        FieldCipher({}, current="k1")
    with pytest.raises(ValueError, match="current key id 'k2' is not among the keys"):
        FieldCipher({"k1": OLD_KEY}, current="k2")
    with pytest.raises(ValueError, match="key 'k1' is 31 bytes"):
        FieldCipher({"k1": OLD_KEY[:31]}, current="k1")


def test_production_refuses_the_development_key_under_any_id() -> None:
    from pydantic import ValidationError

    from subscription.settings import Settings

    development_key = DEVELOPMENT_KEY_SETTING.split(":", 1)[1]
    real = base64.b64encode(bytes(range(32))).decode()
    for setting in (DEVELOPMENT_KEY_SETTING, f"k2:{real},old:{development_key}"):
        with pytest.raises(ValidationError, match="development key"):
            Settings(
                environment="production", data_keys=setting, jwt_jwks_url="https://id.example/certs"
            )
    allowed = Settings(
        environment="production", data_keys=f"k2:{real}", jwt_jwks_url="https://id.example/certs"
    )
    assert allowed.data_keys.get_secret_value() == f"k2:{real}"
