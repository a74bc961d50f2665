"""Fund terms and the rules they must satisfy before a fund is published (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


class InvalidFundTerms(ValueError):
    """The terms break a rule; ``problems`` maps each field to what is wrong."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


@dataclass(frozen=True)
class FundTerms:
    msme_id: UUID
    name: str
    currency: str
    unit_price: int
    handling_fee_per_unit: int
    units_offered: int
    formation_threshold_units: int
    max_units_per_investor: int
    offering_start: datetime
    offering_end: datetime

    @property
    def target_amount(self) -> int:
        """Upper limit raised if every unit sells (unit price only, fees excluded)."""
        return self.unit_price * self.units_offered


@dataclass(frozen=True)
class TermLimits:
    min_unit_price: int = 10_000
    max_unit_price: int = 50_000


def validate_terms(terms: FundTerms, limits: TermLimits) -> None:
    """Refuse terms that break a rule, naming every field at fault at once."""
    problems: dict[str, str] = {}
    if not limits.min_unit_price <= terms.unit_price <= limits.max_unit_price:
        problems["unit_price"] = (
            f"must be between {limits.min_unit_price} and {limits.max_unit_price}"
        )
    if terms.handling_fee_per_unit < 0:
        problems["handling_fee_per_unit"] = "must not be negative"
    if terms.units_offered <= 0:
        problems["units_offered"] = "must be positive"
    if not 0 < terms.formation_threshold_units <= terms.units_offered:
        problems["formation_threshold_units"] = "must be between 1 and units_offered"
    if not 0 < terms.max_units_per_investor <= terms.units_offered:
        problems["max_units_per_investor"] = "must be between 1 and units_offered"
    if terms.offering_start.tzinfo is None or terms.offering_end.tzinfo is None:
        problems["offering_start"] = "offering window must carry a timezone"
    elif terms.offering_end <= terms.offering_start:
        problems["offering_end"] = "must be after offering_start"
    if problems:
        raise InvalidFundTerms(problems)
