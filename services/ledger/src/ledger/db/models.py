"""Ledger tables: accounts (with running totals), immutable entries and postings.

The migrations add what the database itself enforces: balanced entries, no
update or delete of entries and postings, running totals kept by trigger (in
slots, see ``account_balances``), balance conditions and the escrow
segregation rule.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kumiai.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ACCOUNT_CODE_IN_CHART = (
    f"code ~ '^(fund/{_UUID}/escrow|fund/{_UUID}/distribution|msme/{_UUID}/receivable"
    f"|investor/{_UUID}/wallet|msme/{_UUID}/payable"
    "|municipality/[0-9]{6}/subsidy|municipality/[0-9]{6}/receivable|bank/[A-Za-z0-9][A-Za-z0-9._:-]{0,99}/clearing"
    "|platform/fees|tax/withholding|suspense)$'"
)
"""The shapes of ``ledger.books.rules.chart_of_accounts`` (which also checks what the ids
name: a registered bank, a local government code's check digit)."""


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        # Values of ledger.books.rules.AccountKind.
        CheckConstraint(
            "kind IN ('asset', 'liability', 'equity', 'revenue', 'expense')", name="kind_known"
        ),
        # Rule: ledger.books.rules.chart_of_accounts (accounts opened before this
        # check existed are not re-validated: the migration adds it NOT VALID).
        CheckConstraint(ACCOUNT_CODE_IN_CHART, name="code_in_chart"),
        # The segregation checks of the postings_apply trigger find a fund's money
        # by this flag, so it cannot be left off a fund's account.
        CheckConstraint("segregated = (code LIKE 'fund/%')", name="fund_accounts_segregated"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    kind: Mapped[str] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(Text)
    owner_type: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str | None] = mapped_column(Text)
    segregated: Mapped[bool] = mapped_column(Boolean, default=False)
    debits_must_not_exceed_credits: Mapped[bool] = mapped_column(Boolean, default=False)
    credits_must_not_exceed_debits: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AccountBalance(Base):
    """A slot of an account's running totals; the balance is the sum of its slots."""

    __tablename__ = "account_balances"

    account_id: Mapped[UUID] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    posted_debits: Mapped[int] = mapped_column(BigInteger)
    posted_credits: Mapped[int] = mapped_column(BigInteger)
    pending_debits: Mapped[int] = mapped_column(BigInteger)
    pending_credits: Mapped[int] = mapped_column(BigInteger)


class JournalEntry(Base):
    __tablename__ = "journal_entries"
    __table_args__ = (
        # Values of ledger.books.rules.EntryType.
        CheckConstraint(
            "entry_type IN ('standard', 'pending', 'post_pending', 'void_pending', 'reversal')",
            name="entry_type_known",
        ),
        CheckConstraint(
            "(entry_type IN ('post_pending', 'void_pending')) = (pending_entry_id IS NOT NULL)",
            name="resolution_names_its_pending_entry",
        ),
        CheckConstraint(
            "(entry_type = 'reversal') = (reverses_entry_id IS NOT NULL)",
            name="reversal_names_its_original",
        ),
        CheckConstraint("origin IN ('manual', 'flow')", name="origin_known"),
        # Rule: ledger.books.rules.recorded_reason.
        CheckConstraint(
            "(origin = 'manual') = (reason IS NOT NULL)", name="manual_entries_give_a_reason"
        ),
        # Rule: ledger.books.rules.check_manual_entry (MANUAL_PURPOSES).
        CheckConstraint(
            "origin = 'flow' OR purpose IN ('adjustment', 'transfer', 'reversal')",
            name="manual_purposes",
        ),
        # Once per subscription and per fund, whatever the idempotency key says
        # (rule: ledger.books.rules.check_segregation).
        Index(
            "uq_journal_entries_payment_once",
            "reference_id",
            unique=True,
            postgresql_where=text("purpose = 'deposit' AND reference_type = 'subscription'"),
        ),
        Index(
            "uq_journal_entries_refund_once",
            "reference_id",
            unique=True,
            postgresql_where=text("purpose = 'refund'"),
        ),
        Index(
            "uq_journal_entries_release_once",
            "reference_id",
            unique=True,
            postgresql_where=text("purpose = 'release'"),
        ),
        # Once per distribution: the business's payment (rule: check_distribution).
        Index(
            "uq_journal_entries_distribution_payment_once",
            "reference_id",
            unique=True,
            postgresql_where=text("purpose = 'deposit' AND reference_type = 'distribution'"),
        ),
        # Once per grant: the municipality's payment (rule: ledger.grants.rules.payment_entry).
        Index(
            "uq_journal_entries_grant_payment_once",
            "reference_id",
            unique=True,
            postgresql_where=text("purpose = 'deposit' AND reference_type = 'grant'"),
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), unique=True)
    idempotency_key: Mapped[str] = mapped_column(Text, unique=True)
    request_hash: Mapped[str] = mapped_column(Text)
    entry_type: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(Text)
    effective_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    reference_type: Mapped[str | None] = mapped_column(Text)
    reference_id: Mapped[str | None] = mapped_column(Text)
    # Unique: a pending entry is posted or voided once; an entry is reversed once
    # (rules: ledger.books.rules.check_pending, check_reversible).
    pending_entry_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("journal_entries.id"), unique=True
    )
    reverses_entry_id: Mapped[UUID | None] = mapped_column(
        ForeignKey("journal_entries.id"), unique=True
    )
    created_by: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(Text)
    """manual (staff, ``POST /entries``) or flow (a deposit, refund, release, payout)."""
    reason: Mapped[str | None] = mapped_column(Text)
    """Why staff booked a manual entry; flow entries have none."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Posting(Base):
    __tablename__ = "postings"
    __table_args__ = (
        # Rule: ledger.books.rules.validate_legs (a positive amount).
        CheckConstraint("amount > 0", name="amount_positive"),
        # Values of ledger.books.rules.Direction and PostingStatus.
        CheckConstraint("direction IN ('debit', 'credit')", name="direction_known"),
        CheckConstraint("status IN ('posted', 'pending', 'release')", name="status_known"),
        Index("ix_postings_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    entry_id: Mapped[UUID] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    account_id: Mapped[UUID] = mapped_column(ForeignKey("accounts.id"))
    currency: Mapped[str] = mapped_column(Text)
    direction: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(Text)


metadata = Base.metadata


class Fund(Base):
    """A fund the ledger has heard of (from ``FundOpened``)."""

    __tablename__ = "funds"
    __table_args__ = (
        CheckConstraint("arrangement_fee >= 0", name="arrangement_fee_not_negative"),
        # Values of ledger.books.rules.FundStatus.
        CheckConstraint(
            "status IN ('open', 'formed', 'released', 'closed_failed', 'release_held')",
            name="status_known",
        ),
    )

    fund_id: Mapped[UUID] = mapped_column(primary_key=True)
    msme_id: Mapped[UUID] = mapped_column()
    currency: Mapped[str] = mapped_column(Text)
    arrangement_fee: Mapped[int] = mapped_column(BigInteger, server_default="0")
    status: Mapped[str] = mapped_column(Text)
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ExpectedPayment(Base):
    """A subscription's amount due, awaited from the investor's bank (``SubscriptionPlaced``)."""

    __tablename__ = "expected_payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # Values of ledger.books.rules.PaymentStatus.
        CheckConstraint(
            "status IN ('expected', 'paid', 'cancelled', 'refunded', 'released')",
            name="status_known",
        ),
    )

    subscription_id: Mapped[UUID] = mapped_column(primary_key=True)
    fund_id: Mapped[UUID] = mapped_column(index=True)
    investor_id: Mapped[UUID] = mapped_column()
    amount: Mapped[int] = mapped_column(BigInteger)
    fee_amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    payment_reference: Mapped[str] = mapped_column(Text, unique=True)
    payment_deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(Text)
    deposit_id: Mapped[UUID | None] = mapped_column()


class Deposit(Base):
    """Money a partner bank reported as received; matched to a payment or held in suspense."""

    __tablename__ = "deposits"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # Values of ledger.deposits.rules.DepositStatus.
        CheckConstraint(
            "status IN ('matched', 'suspense', 'returning', 'returned')", name="status_known"
        ),
        # Rule: ledger.deposits.rules.check_same_report (one deposit per bank transaction).
        UniqueConstraint("bank_id", "bank_transaction_id", name="uq_deposits_bank_id"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    bank_id: Mapped[str] = mapped_column(Text)
    bank_transaction_id: Mapped[str] = mapped_column(Text)
    request_hash: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    value_date: Mapped[date] = mapped_column(Date)
    payment_reference: Mapped[str] = mapped_column(Text)
    """As the payer wrote it."""
    reference_normalised: Mapped[str] = mapped_column(Text, index=True)
    """``kumiai.references.normalise_reference`` of it: what expected payments are matched on."""
    status: Mapped[str] = mapped_column(Text, index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    subscription_id: Mapped[UUID | None] = mapped_column()
    fund_id: Mapped[UUID | None] = mapped_column()
    """With ``period_number``: the distribution a business's payment paid in."""
    period_number: Mapped[int | None] = mapped_column(Integer)
    entry_id: Mapped[UUID] = mapped_column(ForeignKey("journal_entries.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Payout(Base):
    """Money instructed to leave through a partner bank; pending until the bank answers."""

    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # Values of ledger.payouts.rules.PayoutStatus.
        CheckConstraint("status IN ('instructed', 'confirmed', 'failed')", name="status_known"),
        CheckConstraint(
            "beneficiary IN ('investor', 'business', 'payer')", name="beneficiary_known"
        ),
        # Rule: ledger.payouts.rules.payout_beneficiary (suspense pays only a returned deposit).
        CheckConstraint(
            "(beneficiary = 'investor' AND account = 'investor/' || beneficiary_id || '/wallet')"
            " OR (beneficiary = 'business' AND account = 'msme/' || beneficiary_id || '/payable')"
            " OR (beneficiary = 'payer' AND account = 'suspense'"
            " AND deposit_id IS NOT NULL AND beneficiary_id = deposit_id::text)",
            name="paid_from_the_beneficiarys_account",
        ),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(Text, unique=True)
    bank_id: Mapped[str] = mapped_column(Text, index=True)
    account: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(Text)
    beneficiary: Mapped[str] = mapped_column(Text)
    """investor, business or payer (``kumiai.contracts.ledger.PayoutBeneficiary``)."""
    beneficiary_id: Mapped[str] = mapped_column(Text)
    """The investor's or business's id; for a returned deposit, the deposit's id."""
    fund_id: Mapped[UUID | None] = mapped_column()
    """The fund a refund's payout belongs to."""
    deposit_id: Mapped[UUID | None] = mapped_column()
    pending_entry_id: Mapped[UUID] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    resolution_entry_id: Mapped[UUID | None] = mapped_column()
    settled_in_batch: Mapped[bool] = mapped_column(Boolean, server_default="false")
    """Held with the other payouts of its batch in one pending entry, posted once the bank
    answered them all (a distribution's payouts)."""
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Distribution(Base):
    """A declared distribution (``DividendDeclared``): awaited from the business, then paid
    out batch by batch (``ledger.distributions.rules.DistributionStatus``)."""

    __tablename__ = "distributions"
    __table_args__ = (
        CheckConstraint("status IN ('declared', 'funded', 'paid')", name="status_known"),
        CheckConstraint(
            "business_owes = fees_total + total_gross + success_fee", name="owes_adds_up"
        ),
        CheckConstraint("total_gross - total_tax = total_net", name="net_is_gross_less_tax"),
        CheckConstraint("batches_posted BETWEEN 0 AND batches", name="batches_posted_in_range"),
        CheckConstraint(
            "(payment_reference IS NULL) = (business_owes = 0)", name="reference_when_owed"
        ),
    )

    fund_id: Mapped[UUID] = mapped_column(primary_key=True)
    period_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    msme_id: Mapped[UUID] = mapped_column()
    currency: Mapped[str] = mapped_column(Text)
    business_owes: Mapped[int] = mapped_column(BigInteger)
    fees_total: Mapped[int] = mapped_column(BigInteger)
    success_fee: Mapped[int] = mapped_column(BigInteger)
    total_gross: Mapped[int] = mapped_column(BigInteger)
    total_tax: Mapped[int] = mapped_column(BigInteger)
    total_net: Mapped[int] = mapped_column(BigInteger)
    investor_count: Mapped[int] = mapped_column(Integer)
    batches: Mapped[int] = mapped_column(Integer)
    payment_reference: Mapped[str | None] = mapped_column(Text)
    reference_normalised: Mapped[str | None] = mapped_column(Text, unique=True)
    """What deposits are matched on (``kumiai.references.normalise_reference``)."""
    payment_due: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text)
    deposit_id: Mapped[UUID | None] = mapped_column()
    bank_id: Mapped[str | None] = mapped_column(Text)
    """The partner bank the business paid through; the payouts go through it."""
    batches_posted: Mapped[int] = mapped_column(Integer, server_default="0")
    payout_count: Mapped[int] = mapped_column(Integer, server_default="0")
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    funded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DistributionFee(Base):
    """An operation or audit fee booked as receivable from the business, once per fund,
    kind and fiscal year."""

    __tablename__ = "distribution_fees"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    fund_id: Mapped[UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(Text, primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_number: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[UUID] = mapped_column(ForeignKey("journal_entries.id"))


class DistributionBatch(Base):
    """A ``DistributionAllocated`` batch received: its lines are in ``distribution_lines``."""

    __tablename__ = "distribution_batches"

    fund_id: Mapped[UUID] = mapped_column(primary_key=True)
    period_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch: Mapped[int] = mapped_column(Integer, primary_key=True)
    lines: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class DistributionLine(Base):
    """One investor's share of a distribution: what its wallet is credited and paid out."""

    __tablename__ = "distribution_lines"
    __table_args__ = (
        CheckConstraint(
            "gross - tax = net AND net >= 0 AND tax >= 0", name="net_is_gross_less_tax"
        ),
        Index("ix_distribution_lines_batch", "fund_id", "period_number", "batch"),
    )

    fund_id: Mapped[UUID] = mapped_column(primary_key=True)
    period_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    investor_id: Mapped[UUID] = mapped_column(primary_key=True)
    batch: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    gross: Mapped[int] = mapped_column(BigInteger)
    tax: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)


class Grant(Base):
    """A municipality's grant of part of a fund's arrangement fee (``SubsidyGranted``)."""

    __tablename__ = "grants"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # Values of ledger.grants.rules.GrantStatus.
        CheckConstraint(
            "status IN ('granted', 'booked', 'paid', 'lapsed', 'revoked')", name="status_known"
        ),
        CheckConstraint(
            "(status IN ('booked', 'paid')) <= (booked_entry_id IS NOT NULL)",
            name="booked_with_its_entry",
        ),
        CheckConstraint(
            "(status = 'paid') = (paid_entry_id IS NOT NULL)", name="paid_with_its_entry"
        ),
    )

    award_id: Mapped[UUID] = mapped_column(primary_key=True)
    fund_id: Mapped[UUID] = mapped_column(unique=True)
    """One grant per fund: the release books at most one municipality's share."""
    msme_id: Mapped[UUID] = mapped_column()
    municipality_code: Mapped[str] = mapped_column(Text)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(Text)
    payment_reference: Mapped[str] = mapped_column(Text)
    reference_normalised: Mapped[str] = mapped_column(Text, unique=True)
    """What the municipality's transfer is matched on (``normalise_reference``)."""
    lapses_if_fund_fails: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(Text)
    booked_entry_id: Mapped[UUID | None] = mapped_column(ForeignKey("journal_entries.id"))
    paid_entry_id: Mapped[UUID | None] = mapped_column(ForeignKey("journal_entries.id"))
    deposit_id: Mapped[UUID | None] = mapped_column()
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    booked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
