"""Money as an integer count of a currency's minor unit.

No floats anywhere: amounts are ``int`` and every division names its rounding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# ISO 4217 minor-unit exponents for the currencies the platform may book.
MINOR_UNITS: dict[str, int] = {"JPY": 0, "USD": 2, "EUR": 2}

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", examples=["JPY"])]


class CurrencyMismatchError(ValueError):
    """Two amounts of different currencies were combined."""


class Money(BaseModel):
    """An exact amount: integer minor units of an ISO 4217 currency (JPY has none)."""

    model_config = ConfigDict(frozen=True)

    amount: int = Field(description="Integer count of the currency's minor unit", examples=[10000])
    currency: CurrencyCode = "JPY"

    @field_validator("amount", mode="before")
    @classmethod
    def _integers_only(cls, value: Any) -> Any:
        # bool is an int subclass and float would silently round: both are refused.
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("amount must be an integer count of minor units")
        return value

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in MINOR_UNITS:
            raise ValueError(f"unsupported currency {value!r}")
        return value

    @classmethod
    def zero(cls, currency: str = "JPY") -> Money:
        return cls(amount=0, currency=currency)

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatchError(f"{self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def times(self, factor: int) -> Money:
        """Multiply by a whole number (units, for example)."""
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("factor must be an integer")
        return Money(amount=self.amount * factor, currency=self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Split into parts proportional to ``weights`` that add up exactly.

        Each part is first rounded down; the yen left over go one each to the
        parts with the largest remainders (earliest first on ties), so the sum
        always equals the original amount.
        """
        return [Money(amount=a, currency=self.currency) for a in allocate(self.amount, weights)]


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Largest-remainder split of an integer amount by non-negative integer weights."""
    if not weights:
        raise ValueError("weights must not be empty")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    total = sum(weights)
    if total == 0:
        raise ValueError("weights must not all be zero")
    sign = -1 if amount < 0 else 1
    magnitude = abs(amount)
    floors = [magnitude * w // total for w in weights]
    remainders = [magnitude * w % total for w in weights]
    left = magnitude - sum(floors)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * part for part in floors]


@dataclass(frozen=True)
class Rate:
    """A rate in parts per million, exact: 20.42 % is ``Rate(204_200)``."""

    parts_per_million: int

    def apply_floor(self, amount: int) -> int:
        """``amount x rate``, fractions of the minor unit dropped (Japanese tax practice)."""
        if amount < 0:
            raise ValueError("rates apply to non-negative amounts")
        return amount * self.parts_per_million // 1_000_000
