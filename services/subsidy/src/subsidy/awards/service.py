"""Awards: made in score order within the programme's budget (``SubsidyGranted``), revoked
by their owner or lapsed with their fund (``SubsidyRevoked``), paid by the municipality
(``SubsidyPaid`` from the ledger)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

import structlog

from kumiai.contracts.ledger import SubsidyPaid
from kumiai.contracts.onboarding import FundCancelled
from kumiai.contracts.subscription import FundClosed
from kumiai.contracts.subsidy import RevocationReason, SubsidyGranted, SubsidyRevoked
from kumiai.db import UnitOfWork
from kumiai.pagination import Page
from kumiai.principal import Principal
from kumiai.references import new_reference
from subsidy.applications import service as applications
from subsidy.applications.rules import ApplicationStatus
from subsidy.awards import rules, store
from subsidy.awards.rules import AwardStatus, Contender
from subsidy.awards.schemas import AwardOut
from subsidy.db.models import Award
from subsidy.facts import service as facts
from subsidy.facts.rules import FundStatus
from subsidy.programmes import service as programmes

log = structlog.get_logger(__name__)


def award_out(award: Award) -> AwardOut:
    return AwardOut(
        id=award.id,
        programme_id=award.programme_id,
        programme_application_id=award.programme_application_id,
        application_id=award.application_id,
        fund_id=award.fund_id,
        msme_id=award.msme_id,
        municipality_code=award.municipality_code,
        arrangement_fee=award.arrangement_fee,
        amount=award.amount,
        status=AwardStatus(award.status),
        payment_reference=award.payment_reference,
        granted_by=award.granted_by,
        granted_at=award.granted_at,
        revoked_by=award.revoked_by,
        revoked_at=award.revoked_at,
        revocation_note=award.revocation_note,
        lapsed_at=award.lapsed_at,
        paid_at=award.paid_at,
        value_date=award.value_date,
        deposit_id=award.deposit_id,
        repayment_due=award.repayment_due,
    )


# -- awarding ----------------------------------------------------------------------------


async def award(
    uow: UnitOfWork, *, programme_application_id: UUID, principal: Principal
) -> AwardOut:
    """Award a passed application in score order, once the window has closed, to its fund
    (open or formed, not yet subsidised), within the programme's budget and number of
    awards; announce it (``SubsidyGranted``)."""
    now = datetime.now(UTC)
    application = await applications.locked_for_award(
        uow, programme_application_id=programme_application_id, principal=principal
    )
    programme = await programmes.programme_of(uow, application.programme_id)
    rules.check_window_closed(programme.applications_close_at, now)
    score = rules.check_awardable(
        ApplicationStatus(application.status),
        score=application.score_centi,
        reviewers=application.reviewers,
        reviewers_required=programme.reviewers_required,
        pass_mark=programme.pass_mark,
    )
    others = await applications.contenders(uow, programme_id=programme.id, besides=application.id)
    rules.check_score_order(score, [Contender(ident, other) for ident, other in others])
    fund = rules.fund_to_subsidise(
        application.application_id,
        await facts.funds_of_application(uow, application.application_id),
    )
    assert fund.arrangement_fee is not None  # told by FundOpened v2, with the application
    amount = rules.award_amount(
        fund.arrangement_fee, programme.coverage_ppm, programme.cap_per_award
    )
    rules.check_amount(amount)
    rules.check_fund_free(
        fund.fund_id, has_live_award=await store.fund_has_live_award(uow.session, fund.fund_id)
    )
    rules.check_room(
        reserved=programme.reserved,
        awards_count=programme.awards_count,
        budget=programme.budget,
        max_awards=programme.max_awards,
        amount=amount,
    )
    row = Award(
        id=uuid.uuid4(),
        programme_id=programme.id,
        programme_application_id=application.id,
        application_id=application.application_id,
        fund_id=fund.fund_id,
        msme_id=application.msme_id,
        municipality_code=programme.municipality_code,
        arrangement_fee=fund.arrangement_fee,
        amount=amount,
        currency=programme.currency,
        status=AwardStatus.GRANTED.value,
        payment_reference=new_reference(),
        granted_by=principal.subject,
        granted_at=now,
    )
    refused = await store.insert_award(uow.session, row)
    if refused is not None:
        raise rules.refusal(refused)
    applications.mark_awarded(application)
    await uow.emit(
        SubsidyGranted(
            award_id=row.id,
            programme_id=programme.id,
            municipality_code=programme.municipality_code,
            fiscal_year=programme.fiscal_year,
            fund_id=row.fund_id,
            msme_id=row.msme_id,
            application_id=row.application_id,
            arrangement_fee=row.arrangement_fee,
            amount=row.amount,
            currency=row.currency,
            payment_reference=row.payment_reference,
            lapses_if_fund_fails=programme.lapses_if_fund_fails,
            granted_at=now,
        ),
        subject=str(row.fund_id),
    )
    return award_out(row)


# -- reading -----------------------------------------------------------------------------


async def get(uow: UnitOfWork, *, award_id: UUID, principal: Principal) -> AwardOut:
    """One award: for staff, the programme's municipality and the awarded business."""
    return award_out(await store.readable_award(uow.session, award_id, principal))


async def list_awards(
    uow: UnitOfWork,
    *,
    principal: Principal,
    programme_id: UUID | None,
    status: AwardStatus | None,
    cursor: str | None,
    limit: int,
) -> Page[AwardOut]:
    """Awards, oldest first: every one for staff, a municipality's programmes' for it, a
    business's own for it."""
    return await store.page(
        uow.session,
        principal=principal,
        programme_id=programme_id,
        status=status,
        cursor=cursor,
        limit=limit,
        item=award_out,
    )


async def of_programme(uow: UnitOfWork, programme_id: UUID) -> list[Award]:
    """Every award of the programme, oldest first."""
    return await store.of_programme(uow.session, programme_id)


# -- ending ------------------------------------------------------------------------------


async def revoke(uow: UnitOfWork, *, award_id: UUID, note: str, principal: Principal) -> AwardOut:
    """Withdraw an award: before payment its budget is released; after payment the business
    owes the amount back to the municipality (``SubsidyRevoked``)."""
    row = await store.managed_award(uow.session, award_id, principal)
    ended = rules.revoked_status(AwardStatus(row.status))
    now = datetime.now(UTC)
    row.status = ended.value
    row.revoked_by = principal.subject
    row.revoked_at = now
    row.revocation_note = note
    if ended is AwardStatus.REPAYMENT_DUE:
        row.repayment_due = row.amount
    await _announce_end(uow, row, RevocationReason.REVOKED, now)
    return award_out(row)


async def _announce_end(
    uow: UnitOfWork, row: Award, reason: RevocationReason, at: datetime
) -> None:
    await uow.emit(
        SubsidyRevoked(
            award_id=row.id,
            programme_id=row.programme_id,
            municipality_code=row.municipality_code,
            fund_id=row.fund_id,
            msme_id=row.msme_id,
            amount=row.amount,
            currency=row.currency,
            reason=reason,
            revoked_at=at,
        ),
        subject=str(row.fund_id),
    )


async def fund_closed(uow: UnitOfWork, *, event: FundClosed) -> None:
    """Learn a fund's outcome; a failed fund lapses its granted award when the programme
    says grants lapse then (``SubsidyRevoked`` lapsed)."""
    fund = await facts.record_closing(uow, event=event)
    if fund.status is not FundStatus.FAILED:
        return
    for row in await store.locked_of_fund(uow.session, event.fund_id):
        programme = await programmes.programme_of(uow, row.programme_id)
        if rules.lapses_when_fund_fails(
            AwardStatus(row.status), lapses_if_fund_fails=programme.lapses_if_fund_fails
        ):
            await _lapse(uow, row, event.closed_at)


async def fund_cancelled(uow: UnitOfWork, *, event: FundCancelled) -> None:
    """Learn that a fund was cancelled; its granted award lapses (``SubsidyRevoked``)."""
    await facts.record_cancellation(uow, event=event)
    for row in await store.locked_of_fund(uow.session, event.fund_id):
        if rules.lapses_when_fund_cancelled(AwardStatus(row.status)):
            await _lapse(uow, row, event.cancelled_at)


async def _lapse(uow: UnitOfWork, row: Award, at: datetime) -> None:
    row.status = AwardStatus.LAPSED.value
    row.lapsed_at = at
    await _announce_end(uow, row, RevocationReason.LAPSED, at)


async def record_payment(uow: UnitOfWork, *, event: SubsidyPaid) -> None:
    """The municipality's transfer settled an award: a granted award is paid; one revoked
    or lapsed meanwhile stays so, and the business owes the amount back."""
    row = await store.locked_award(uow.session, event.award_id)
    if row is None:
        log.warning("payment of an unknown award ignored", award_id=str(event.award_id))
        return
    effect = rules.payment_effect(AwardStatus(row.status), already_paid=row.paid_at is not None)
    if not effect.recorded:
        return
    row.status = effect.status.value
    row.paid_at = event.paid_at
    row.value_date = event.value_date
    row.deposit_id = event.deposit_id
    if effect.repayment_due:
        row.repayment_due = row.amount
