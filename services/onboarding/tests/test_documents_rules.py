"""The documents' rules: checklist, versions, review, who handles them, names and content (pure)."""

from __future__ import annotations

import unicodedata
import uuid
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kumiai.principal import Principal, Role
from kumiai.problems import Forbidden, UnprocessableContent
from onboarding.applications.rules import Step
from onboarding.documents.rules import (
    ALLOWED_CONTENT_TYPES,
    CHECKLIST,
    KINDS,
    ContentTypeRefused,
    DocumentRefused,
    DocumentStatus,
    DocumentTooLarge,
    EmptyDocument,
    InvalidFilename,
    ReviewRefused,
    TooLarge,
    UnknownDocumentKind,
    UnsupportedType,
    accepted_type,
    check_content,
    check_filename,
    check_kind,
    check_not_empty,
    check_open,
    check_rejection_reason,
    check_replacement,
    check_review,
    check_reviewer,
    check_size,
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


# -- Content -------------------------------------------------------------------------------


def test_the_declared_type_is_normalised_and_must_be_accepted() -> None:
    assert accepted_type("Application/PDF; charset=binary") == "application/pdf"
    with pytest.raises(ContentTypeRefused, match="not an accepted document type") as caught:
        accepted_type("application/x-msdownload")
    assert isinstance(caught.value, UnsupportedType)
    assert caught.value.status == 415
    assert caught.value.extra == {"accepted": sorted(ALLOWED_CONTENT_TYPES)}


def test_the_first_bytes_must_match_the_declared_type() -> None:
    check_content("application/pdf", b"%PDF-1.7", complete=True)
    with pytest.raises(ContentTypeRefused, match="first bytes"):
        check_content("image/png", b"%PDF-1.7", complete=True)
    with pytest.raises(ContentTypeRefused, match="NUL"):
        check_content("text/csv", b"a,b\x00", complete=True)
    check_content("text/csv", "名前,金額".encode()[:4], complete=False)
    with pytest.raises(ContentTypeRefused, match="UTF-8"):
        check_content("text/csv", "名前,金額".encode()[:4], complete=True)


@given(received=st.integers(min_value=0, max_value=10_000), limit=st.integers(0, 10_000))
def test_a_document_is_at_most_the_limit_inclusive(received: int, limit: int) -> None:
    if received <= limit:
        check_size(received, limit)
    else:
        with pytest.raises(DocumentTooLarge) as caught:
            check_size(received, limit)
        assert isinstance(caught.value, TooLarge)
        assert (caught.value.status, caught.value.extra) == (413, {"limit": limit})


def test_an_empty_document_is_refused() -> None:
    check_not_empty(1)
    with pytest.raises(EmptyDocument, match="0 bytes") as caught:
        check_not_empty(0)
    assert (caught.value.status, caught.value.problem) == (422, "unprocessable")


# -- File names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["tax return 2025.pdf", "決算書.pdf", "ceo_cv (v2).docx", ".profile.csv"]
)
def test_a_plain_file_name_is_kept_as_given(name: str) -> None:
    assert check_filename(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a" * 201,
        "../etc/passwd",
        "C:\\boot.ini",
        "report\x00.pdf",
        "report\x7f.pdf",
        "invoice\u202efdp.exe",  # right-to-left override: shows as "invoiceexe.pdf"
        "zero\u200bwidth.pdf",
        " padded.pdf",
        "..",
    ],
)
def test_a_file_name_with_folders_or_hidden_characters_is_refused(name: str) -> None:
    with pytest.raises(InvalidFilename):
        check_filename(name)


@given(st.text(min_size=1, max_size=200))
def test_an_accepted_file_name_is_printable_and_has_no_folder(name: str) -> None:
    try:
        check_filename(name)
    except InvalidFilename:
        return
    assert not {"/", "\\"} & set(name)
    assert all(unicodedata.category(c)[0] != "C" for c in name)
