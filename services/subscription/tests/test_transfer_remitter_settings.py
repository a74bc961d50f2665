"""The account transfer files are sent from: a real bank and branch, a name banks can write,
and never the development one in production."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pydantic import ValidationError

from subscription.settings import (
    DEVELOPMENT_REMITTER_ACCOUNT,
    DEVELOPMENT_REMITTER_CODE,
    Settings,
)

PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "jwt_jwks_url": "https://id.example/protocol/openid-connect/certs",
    "data_keys": "k1:" + base64.b64encode(bytes(range(32))).decode(),
}
REMITTER: dict[str, str] = {
    "code": "1234567890",
    "name": "ｶ)ｸﾐｱｲ",
    "bank_code": "0116",
    "branch_code": "101",
    "account_type": "current",
    "account_number": "7654321",
}


def test_development_and_tests_fall_back_to_the_development_remitter() -> None:
    remitter = Settings(environment="test").payout_remitter()
    assert remitter is not None
    assert (remitter.code, remitter.account_number) == (
        DEVELOPMENT_REMITTER_CODE,
        DEVELOPMENT_REMITTER_ACCOUNT,
    )


def test_production_uses_only_a_remitter_set_in_full() -> None:
    assert Settings(**PRODUCTION).payout_remitter() is None
    remitter = Settings(**PRODUCTION, transfer_remitter=REMITTER).payout_remitter()
    assert remitter is not None
    assert (remitter.code, remitter.bank_code, remitter.account_type) == (
        "1234567890",
        "0116",
        "current",
    )


@pytest.mark.parametrize(
    ("remitter", "message"),
    [
        ({"code": "1234567890"}, "account_number, account_type, bank_code, branch_code, name"),
        ({**REMITTER, "code": DEVELOPMENT_REMITTER_CODE}, "the code is the development one"),
        ({**REMITTER, "account_number": DEVELOPMENT_REMITTER_ACCOUNT}, "account number"),
    ],
)
def test_production_refuses_the_development_remitter(
    remitter: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**PRODUCTION, transfer_remitter=remitter)


@pytest.mark.parametrize(
    ("remitter", "message"),
    [
        ({**REMITTER, "branch_code": "001"}, "'001' is not a branch of bank 0116"),
        ({**REMITTER, "bank_code": "9999"}, "'9999' is not a bank code"),
        ({**REMITTER, "name": "鈴木商店"}, "cannot be written in Zengin kana"),
        ({**REMITTER, "account_type": "savings"}, "account_type"),
        ({**REMITTER, "code": "12345"}, "code"),
    ],
)
def test_a_remitter_the_bank_would_refuse_is_refused_at_start(
    remitter: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(environment="development", transfer_remitter=remitter)


def test_each_field_is_read_from_its_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for field, value in REMITTER.items():
        monkeypatch.setenv(f"SUBSCRIPTION_TRANSFER_REMITTER__{field.upper()}", value)
    settings = Settings(**PRODUCTION)
    assert settings.transfer_remitter is not None
    assert settings.transfer_remitter.model_dump() == REMITTER
