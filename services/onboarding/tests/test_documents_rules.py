"""The documents' rules: checklist, versions, review, who handles them, what is uploaded (pure)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.files import (
    CSV,
    DOCX,
    GIF,
    JPEG,
    PDF,
    PNG,
    WEBP,
    XLSX,
    ContentTypeRefused,
    accepted_type,
)
from kumiai.principal import Principal, Role
from kumiai.problems import Forbidden, UnprocessableContent
from onboarding.applications.rules import Step
from onboarding.documents.rules import (
    ALLOWED_CONTENT_TYPES,
    CHECKLIST,
    KINDS,
    DocumentRefused,
    DocumentStatus,
    ReviewRefused,
    UnknownDocumentKind,
    check_kind,
    check_open,
    check_rejection_reason,
    check_replacement,
    check_review,
    check_reviewer,
    may_read,
    missing_documents,
    next_version,
)

REQUIRED = [item.kind for item in CHECKLIST if item.required]


def _principal(role: Role, tenant: str) -> Principal:
    return Principal(subject=f"{role.value}:{tenant}", role=role, tenant=tenant)


# -- The checklist -------------------------------------------------------------------------


def test_every_required_kind_is_missing_until_accepted() -> None:
    assert missing_documents({}) == REQUIRED
    accepted = dict.fromkeys(KINDS, DocumentStatus.ACCEPTED)
    assert missing_documents(accepted) == []
    assert missing_documents(dict.fromkeys(REQUIRED, DocumentStatus.ACCEPTED)) == []
    assert "bank_book" not in REQUIRED, "the bank book is asked for only as needed"


@given(st.dictionaries(st.sampled_from(list(KINDS)), st.sampled_from(list(DocumentStatus))))
def test_a_kind_is_missing_exactly_when_required_and_not_accepted(
    current: dict[str, DocumentStatus],
) -> None:
    missing = missing_documents(current)
    for kind in KINDS:
        expected = KINDS[kind].required and current.get(kind) is not DocumentStatus.ACCEPTED
        assert (kind in missing) is expected


def test_an_unknown_kind_is_not_found_with_the_kinds_that_are() -> None:
    assert check_kind("tax_returns") == "tax_returns"
    with pytest.raises(UnknownDocumentKind) as caught:
        check_kind("selfie")
    assert caught.value.status == 404
    assert caught.value.extra == {"kinds": list(KINDS)}


# -- Versions and review -------------------------------------------------------------------


@pytest.mark.parametrize("step", list(Step))
def test_documents_are_uploaded_only_while_the_application_runs(step: Step) -> None:
    if step.terminal:
        with pytest.raises(DocumentRefused, match=f"the application is {step.value}"):
            check_open(step)
    else:
        check_open(step)


def test_an_accepted_version_is_never_replaced() -> None:
    for status in (None, DocumentStatus.SUBMITTED, DocumentStatus.REJECTED):
        check_replacement(status)
    with pytest.raises(ReviewRefused, match="accepted document is not replaced") as caught:
        check_replacement(DocumentStatus.ACCEPTED)
    assert caught.value.status == 409


@given(st.one_of(st.none(), st.integers(min_value=1, max_value=10_000)))
def test_a_new_version_follows_the_latest(latest: int | None) -> None:
    assert next_version(latest) == (1 if latest is None else latest + 1)


@pytest.mark.parametrize("status", list(DocumentStatus))
def test_only_a_submitted_version_is_reviewed(status: DocumentStatus) -> None:
    if status is DocumentStatus.SUBMITTED:
        check_review(status)
    else:
        with pytest.raises(ReviewRefused, match="only a submitted one is reviewed"):
            check_review(status)


def test_a_rejection_needs_a_reason_and_only_staff_review() -> None:
    check_rejection_reason(DocumentStatus.ACCEPTED, None)
    check_rejection_reason(DocumentStatus.REJECTED, "The tax return is unsigned")
    for reason in (None, "", "no", "   "):
        with pytest.raises(UnprocessableContent, match="reason the business can act on"):
            check_rejection_reason(DocumentStatus.REJECTED, reason)
    check_reviewer(_principal(Role.STAFF, "platform"))
    with pytest.raises(Forbidden):
        check_reviewer(_principal(Role.MSME, str(uuid.uuid4())))


# -- Who handles documents -----------------------------------------------------------------


@given(
    role=st.sampled_from(list(Role)),
    own=st.booleans(),
)
def test_documents_are_for_the_business_and_staff_never_a_bank(role: Role, own: bool) -> None:
    msme_id = uuid.uuid4()
    application = SimpleNamespace(msme_id=msme_id)
    caller = _principal(role, str(msme_id) if own else "hokkaido-bank")
    assert may_read(caller, application) is (role is Role.STAFF or (role is Role.MSME and own))


# -- What may be uploaded -----------------------------------------------------------------


def test_only_pdf_images_csv_and_office_documents_are_accepted() -> None:
    assert {PDF, JPEG, PNG, CSV, XLSX, DOCX} == ALLOWED_CONTENT_TYPES
    assert accepted_type("Application/PDF; charset=binary", ALLOWED_CONTENT_TYPES) == PDF
    for refused in ("application/x-msdownload", GIF, WEBP, "text/html"):
        with pytest.raises(ContentTypeRefused) as caught:
            accepted_type(refused, ALLOWED_CONTENT_TYPES)
        assert caught.value.extra == {"accepted": sorted(ALLOWED_CONTENT_TYPES)}
