"""Partners' webhooks (pure): what each kind of partner may hear, what a message says, whom
it goes to, how it is signed, and how failed deliveries are retried.

A webhook message is a notice about one event of the bus, in the Standard Webhooks
shape: ``{"type": "fund.closed", "timestamp": ..., "data": {...}}``, signed over the
raw body with every live secret of the endpoint (``webhook-signature`` holds one
``v1,<base64>`` per secret, so a partner verifies during a rotation with either).

- **Who hears what.** A bank hears about the funds of the businesses it referred
  (opened, cancelled, closed, released, distribution paid, disclosure overdue), the
  payouts it is instructed to send, and the deposits it reported that the ledger
  matched. A municipality hears its own grants (granted, revoked, paid) and, from the
  grant on, the fund it backs: its opening (told with the grant, since a grant needs an
  open fund), then closed, released, distribution paid, disclosure overdue.
- **No personal data.** Messages name businesses, funds, deposits, payouts and amounts;
  never an investor's id, a person's name, an account number or free text.
- **Delivery.** At least once, in order per endpoint and subject (a fund's messages
  wait behind its earliest undelivered one). A failed attempt is retried with
  exponential backoff and jitter; an endpoint failing for ``give_up_after`` (about
  three days), or answering 410 Gone, is disabled and staff are told. Its messages stay
  pending, nothing is dropped; enabling it again resumes them in order.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import random
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from standardwebhooks import Webhook

from kumiai.contracts.disclosure import DisclosureOverdue
from kumiai.contracts.ledger import (
    DistributionPaid,
    DistributionPayoutsInstructed,
    FundsReleased,
    PaymentReceived,
    PayoutBeneficiary,
    PayoutInstructed,
    SubsidyPaid,
)
from kumiai.contracts.onboarding import FundCancelled, FundOpenedV1, FundOpenedV2, PartnerKind
from kumiai.contracts.subscription import FundClosed
from kumiai.contracts.subsidy import SubsidyGranted, SubsidyRevoked
from kumiai.events import EventPayload
from kumiai.principal import Principal
from kumiai.problems import Conflict, NotFound, UnprocessableContent


class WebhookEventType(StrEnum):
    FUND_OPENED = "fund.opened"
    FUND_CANCELLED = "fund.cancelled"
    FUND_CLOSED = "fund.closed"
    FUND_RELEASED = "fund.released"
    DISTRIBUTION_PAID = "distribution.paid"
    DISCLOSURE_OVERDUE = "disclosure.overdue"
    PAYOUT_INSTRUCTED = "payout.instructed"
    DISTRIBUTION_PAYOUTS_INSTRUCTED = "distribution.payouts_instructed"
    DEPOSIT_MATCHED = "deposit.matched"
    SUBSIDY_GRANTED = "subsidy.granted"
    SUBSIDY_REVOKED = "subsidy.revoked"
    SUBSIDY_PAID = "subsidy.paid"


class EndpointStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"


class DisabledReason(StrEnum):
    FAILING = "failing"
    GONE = "gone"
    BY_PARTNER = "by_partner"
    BY_STAFF = "by_staff"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"


_FUND_NEWS = frozenset(
    {
        WebhookEventType.FUND_CLOSED,
        WebhookEventType.FUND_RELEASED,
        WebhookEventType.DISTRIBUTION_PAID,
        WebhookEventType.DISCLOSURE_OVERDUE,
    }
)

EVENT_TYPES: Mapping[PartnerKind, frozenset[WebhookEventType]] = {
    PartnerKind.BANK: _FUND_NEWS
    | {
        WebhookEventType.FUND_OPENED,
        WebhookEventType.FUND_CANCELLED,
        WebhookEventType.PAYOUT_INSTRUCTED,
        WebhookEventType.DISTRIBUTION_PAYOUTS_INSTRUCTED,
        WebhookEventType.DEPOSIT_MATCHED,
    },
    PartnerKind.MUNICIPALITY: _FUND_NEWS
    | {
        WebhookEventType.FUND_OPENED,
        WebhookEventType.SUBSIDY_GRANTED,
        WebhookEventType.SUBSIDY_REVOKED,
        WebhookEventType.SUBSIDY_PAID,
    },
}
"""The event types each kind of partner may subscribe to (and hears)."""

MAX_ENDPOINTS = 10
"""Endpoints one partner may have (enabled or not)."""

MAX_URL_LENGTH = 2_000

MAX_OVERLAP = timedelta(days=7)
"""The longest a replaced secret keeps signing after a rotation."""

SECRET_BYTES = 32
"""Random bytes of a signing secret (Standard Webhooks: 24 to 64)."""


class EndpointRefused(UnprocessableContent):
    problem = "webhook-endpoint-invalid"
    title = "The webhook endpoint cannot be registered as given"


class EventTypeNotAvailable(UnprocessableContent):
    problem = "webhook-event-type-not-available"
    title = "This kind of partner cannot subscribe to that event type"


class TooManyEndpoints(Conflict):
    problem = "webhook-endpoint-limit"
    title = "The partner already has the most webhook endpoints allowed"


class EndpointStatusConflict(Conflict):
    problem = "webhook-endpoint-status"
    title = "The endpoint already has that status"


class UnknownEndpoint(NotFound):
    problem = "not-found"
    title = "No such webhook endpoint"


class UnknownDelivery(NotFound):
    problem = "not-found"
    title = "No such webhook delivery"


class DeliveryNotRedeliverable(Conflict):
    problem = "webhook-delivery-not-redeliverable"
    title = "The delivery cannot be sent again now"


# -- who may manage a partner's endpoints ---------------------------------------------------


def may_manage(principal: Principal, partner_id: str) -> bool:
    """Staff manage every partner's endpoints; a partner only its own."""
    return principal.is_staff() or (
        principal.role.value in {PartnerKind.BANK.value, PartnerKind.MUNICIPALITY.value}
        and principal.tenant == partner_id
    )


def check_event_types(kind: PartnerKind, wanted: frozenset[WebhookEventType]) -> None:
    """Refuse event types ``kind`` may not hear, naming them and the ones it may."""
    refused = sorted(wanted - EVENT_TYPES[kind])
    if refused:
        allowed = ", ".join(sorted(EVENT_TYPES[kind]))
        raise EventTypeNotAvailable(
            f"a {kind.value} cannot subscribe to {', '.join(refused)}; it may subscribe to "
            f"{allowed}"
        )


def check_room(existing: int) -> None:
    if existing >= MAX_ENDPOINTS:
        raise TooManyEndpoints(f"a partner has at most {MAX_ENDPOINTS} webhook endpoints")


def check_status_change(current: EndpointStatus, wanted: EndpointStatus) -> None:
    if current is wanted:
        raise EndpointStatusConflict(f"the endpoint is already {wanted.value}")


# -- the endpoint's address -----------------------------------------------------------------


def _private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def is_private_address(text: str) -> bool:
    """Whether ``text`` is an IP address the platform must never send to from production
    (loopback, private, link-local, reserved...)."""
    try:
        return _private(ipaddress.ip_address(text.split("%", 1)[0]))
    except ValueError:
        return False


def check_url(url: str, *, production: bool) -> str:
    """The endpoint's URL as it will be called; refused with the reason otherwise.

    Production sends only over https and never to a private or loopback address named
    in the URL (the address a name resolves to is checked at each delivery).
    """
    problems: list[str] = []
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EndpointRefused(f"the URL is not valid: {exc}") from None
    host = parts.hostname or ""
    if parts.scheme not in {"https", "http"}:
        problems.append("the URL must be https (or http outside production)")
    elif production and parts.scheme != "https":
        problems.append("production sends webhooks over https only")
    if not host:
        problems.append("the URL names no host")
    if parts.username is not None or parts.password is not None:
        problems.append("credentials in the URL are not accepted")
    if parts.fragment:
        problems.append("the URL must not have a fragment")
    if port == 0:
        problems.append("port 0 is not a port")
    if production and (
        host == "localhost" or host.endswith(".localhost") or is_private_address(host)
    ):
        problems.append("production does not send to private or loopback addresses")
    if problems:
        raise EndpointRefused("; ".join(problems))
    return url


# -- signing --------------------------------------------------------------------------------


def new_secret() -> str:
    """A signing secret as partners' libraries expect it: ``whsec_`` + base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def signature(secrets_in_force: list[str], *, message_id: str, at: datetime, body: str) -> str:
    """The ``webhook-signature`` header: one ``v1,...`` per secret in force, space-separated."""
    if not secrets_in_force:
        raise ValueError("an endpoint always has a current secret")
    return " ".join(
        Webhook(secret).sign(msg_id=message_id, timestamp=at, data=body)
        for secret in secrets_in_force
    )


def check_overlap(overlap: timedelta) -> None:
    if overlap < timedelta(0) or overlap > MAX_OVERLAP:
        raise EndpointRefused(
            f"the overlap must be between 0 and {MAX_OVERLAP.days} days (in seconds)"
        )


# -- retries --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(hours=6)
    give_up_after: timedelta = timedelta(days=3)


def next_attempt_delay(
    policy: RetryPolicy, failures: int, draw: Callable[[], float] = random.random
) -> timedelta:
    """Exponential backoff with equal jitter: after the n-th failure of a delivery, wait
    between half and all of min(cap, base x 2^(n-1))."""
    exponent = min(max(failures, 1) - 1, 32)
    ceiling: timedelta = min(policy.cap, policy.base * (2**exponent))
    delay: timedelta = ceiling / 2 + ceiling / 2 * draw()
    return delay


def succeeded(status_code: int | None) -> bool:
    """Only a 2xx answer is a delivery; redirects are not followed."""
    return status_code is not None and 200 <= status_code < 300


def disable_reason(
    policy: RetryPolicy, *, status_code: int | None, failing_since: datetime, now: datetime
) -> DisabledReason | None:
    """After a failed attempt: whether the endpoint is disabled now, and why."""
    if status_code == 410:
        return DisabledReason.GONE
    if now - failing_since >= policy.give_up_after:
        return DisabledReason.FAILING
    return None


# -- what an event tells partners -----------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """One message an event gives rise to, and whom it goes to."""

    type: WebhookEventType
    data: dict[str, Any]
    fund_id: UUID | None = None
    """The fund whose followers (its business's referring bank, its backers) hear it."""
    partners: frozenset[str] = field(default_factory=frozenset)
    """Partners told directly (the bank that acts, the municipality that pays)."""


_NAMESPACE = UUID("6f2a4c2e-8f0b-4f3e-9d55-2b8f2d7c1a10")


def message_id(event_id: UUID, event_type: WebhookEventType) -> str:
    """The ``webhook-id`` of the message an event gives of one type: the same on every
    retry, so a partner drops a message it has already handled."""
    return "msg_" + uuid.uuid5(_NAMESPACE, f"{event_id}:{event_type.value}").hex


def _pick(payload: EventPayload, *names: str) -> dict[str, Any]:
    plain = payload.model_dump(mode="json")
    return {name: plain[name] for name in names}


OPENING_FIELDS = (
    "name",
    "currency",
    "unit_price",
    "units_offered",
    "formation_threshold_units",
    "offering_start",
    "offering_end",
)
"""What ``fund.opened`` tells of the fund's terms."""


def backer_opening(
    fund_id: UUID, msme_id: UUID, terms: Mapping[str, Any], municipality: str
) -> Notice:
    """The fund's opening, told to a municipality with its grant: a grant needs an open
    fund, so the municipality was not yet backing it when the fund opened. ``terms`` are
    the fund's terms as JSON."""
    data = {"fund_id": str(fund_id), "msme_id": str(msme_id)}
    data |= {name: terms[name] for name in OPENING_FIELDS}
    return Notice(WebhookEventType.FUND_OPENED, data, partners=frozenset({municipality}))


def notices(payload: EventPayload) -> list[Notice]:
    """What an event tells partners; nothing for events partners do not hear."""
    if isinstance(payload, FundOpenedV1 | FundOpenedV2):
        data = _pick(payload, "fund_id", "msme_id", *OPENING_FIELDS)
        return [Notice(WebhookEventType.FUND_OPENED, data, fund_id=payload.fund_id)]
    if isinstance(payload, FundCancelled):
        data = _pick(payload, "fund_id", "msme_id", "cancelled_at")
        return [Notice(WebhookEventType.FUND_CANCELLED, data, fund_id=payload.fund_id)]
    if isinstance(payload, FundClosed):
        data = _pick(
            payload,
            "fund_id",
            "msme_id",
            "outcome",
            "units_confirmed",
            "amount_raised",
            "currency",
            "investor_count",
            "closed_at",
        )
        return [Notice(WebhookEventType.FUND_CLOSED, data, fund_id=payload.fund_id)]
    if isinstance(payload, FundsReleased):
        data = _pick(
            payload,
            "fund_id",
            "msme_id",
            "gross_amount",
            "fees_amount",
            "net_amount",
            "currency",
            "released_at",
        )
        return [Notice(WebhookEventType.FUND_RELEASED, data, fund_id=payload.fund_id)]
    if isinstance(payload, DistributionPaid):
        data = _pick(
            payload,
            "fund_id",
            "msme_id",
            "period_number",
            "investor_count",
            "payout_count",
            "total_gross",
            "total_tax",
            "total_net",
            "currency",
            "paid_on",
            "paid_at",
        )
        paying = frozenset({payload.bank_id}) if payload.bank_id else frozenset()
        return [
            Notice(
                WebhookEventType.DISTRIBUTION_PAID, data, fund_id=payload.fund_id, partners=paying
            )
        ]
    if isinstance(payload, DisclosureOverdue):
        data = _pick(
            payload,
            "fund_id",
            "msme_id",
            "item",
            "number",
            "covers_from",
            "covers_to",
            "due_on",
            "overdue_at",
        )
        return [Notice(WebhookEventType.DISCLOSURE_OVERDUE, data, fund_id=payload.fund_id)]
    return _money_notices(payload)


def _money_notices(payload: EventPayload) -> list[Notice]:
    if isinstance(payload, PayoutInstructed):
        data = _pick(
            payload, "payout_id", "fund_id", "beneficiary", "amount", "currency", "instructed_at"
        )
        # An investor's id is personal; the bank reads the account from its keeper.
        data["beneficiary_id"] = (
            None if payload.beneficiary is PayoutBeneficiary.INVESTOR else payload.beneficiary_id
        )
        return [
            Notice(WebhookEventType.PAYOUT_INSTRUCTED, data, partners=frozenset({payload.bank_id}))
        ]
    if isinstance(payload, DistributionPayoutsInstructed):
        data = _pick(payload, "fund_id", "period_number", "batch", "currency", "instructed_at")
        data["payout_count"] = len(payload.payouts)
        data["amount_total"] = sum(p.amount for p in payload.payouts)
        return [
            Notice(
                WebhookEventType.DISTRIBUTION_PAYOUTS_INSTRUCTED,
                data,
                partners=frozenset({payload.bank_id}),
            )
        ]
    if isinstance(payload, PaymentReceived):
        data = _pick(
            payload,
            "deposit_id",
            "fund_id",
            "subscription_id",
            "amount",
            "currency",
            "value_date",
            "received_at",
        )
        return [
            Notice(WebhookEventType.DEPOSIT_MATCHED, data, partners=frozenset({payload.bank_id}))
        ]
    return _subsidy_notices(payload)


def _subsidy_notices(payload: EventPayload) -> list[Notice]:
    if isinstance(payload, SubsidyGranted):
        data = _pick(
            payload,
            "award_id",
            "programme_id",
            "municipality_code",
            "fiscal_year",
            "fund_id",
            "msme_id",
            "arrangement_fee",
            "amount",
            "currency",
            "payment_reference",
            "lapses_if_fund_fails",
            "granted_at",
        )
        to = frozenset({payload.municipality_code})
        return [Notice(WebhookEventType.SUBSIDY_GRANTED, data, partners=to)]
    if isinstance(payload, SubsidyRevoked):
        data = _pick(
            payload,
            "award_id",
            "programme_id",
            "municipality_code",
            "fund_id",
            "msme_id",
            "amount",
            "currency",
            "reason",
            "revoked_at",
        )
        to = frozenset({payload.municipality_code})
        return [Notice(WebhookEventType.SUBSIDY_REVOKED, data, partners=to)]
    if isinstance(payload, SubsidyPaid):
        paid = _pick(
            payload,
            "award_id",
            "fund_id",
            "municipality_code",
            "amount",
            "currency",
            "value_date",
            "paid_at",
        )
        deposit = _pick(payload, "deposit_id", "fund_id", "amount", "currency", "value_date")
        deposit["received_at"] = paid["paid_at"]
        deposit["subscription_id"] = None
        return [
            Notice(
                WebhookEventType.SUBSIDY_PAID,
                paid,
                partners=frozenset({payload.municipality_code}),
            ),
            Notice(
                WebhookEventType.DEPOSIT_MATCHED, deposit, partners=frozenset({payload.bank_id})
            ),
        ]
    return []


def audience(
    notice: Notice,
    *,
    referring_bank: str | None,
    backers: frozenset[str],
    kinds: Mapping[str, PartnerKind],
) -> frozenset[str]:
    """The partners a notice goes to: those told directly, and the fund's followers (its
    business's referring bank and the municipalities backing it), each only if its kind
    may hear the notice's type. ``kinds`` maps the registered partners among them."""
    wanted = set(notice.partners)
    if notice.fund_id is not None:
        wanted |= backers | ({referring_bank} if referring_bank else set())
    return frozenset(
        partner
        for partner in wanted
        if partner in kinds and notice.type in EVENT_TYPES[kinds[partner]]
    )


def body(notice: Notice, *, at: datetime) -> str:
    """The message's raw body as sent and signed (compact JSON, keys in a fixed order)."""
    return json.dumps(
        {"type": notice.type.value, "timestamp": at.isoformat(), "data": notice.data},
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=False,
    )
