"""Disclosure documents: who drafts what, the review workflow, and who reads what (pure)."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import CheckConstraint

from disclosure.db.models import metadata
from disclosure.documents.rules import (
    MAX_ATTACHMENTS,
    MAX_VERSIONS,
    Action,
    DocumentFull,
    DocumentKind,
    DocumentRefused,
    DocumentStatus,
    Reader,
    Visibility,
    check_actor,
    check_author,
    check_editable,
    check_reason,
    check_room_for_attachment,
    check_visibility_choice,
    digest,
    may_read_published,
    may_read_working,
    next_version,
    read_is_recorded,
    sees_content,
    transition,
)
from kumiai.principal import Principal, Role
from kumiai.problems import Forbidden, UnprocessableContent

BUSINESS_ID = "6f1c1a52-0000-4000-8000-00000000000a"


def _principal(role: Role, tenant: str) -> Principal:
    return Principal(subject=f"{role.value}:{tenant}", role=role, tenant=tenant)


STAFF = _principal(Role.STAFF, "kumiai")
BUSINESS = _principal(Role.MSME, BUSINESS_ID)
OTHER_BUSINESS = _principal(Role.MSME, "6f1c1a52-0000-4000-8000-00000000000b")
INVESTOR = _principal(Role.INVESTOR, "investor-1")
BANK = _principal(Role.BANK, "bank-1")
MUNICIPALITY = _principal(Role.MUNICIPALITY, "131016")
SERVICE = _principal(Role.SERVICE, "subscription")

NOT_STAFF = (OTHER_BUSINESS, INVESTOR, BANK, MUNICIPALITY, SERVICE)
"""Callers that neither are staff nor act for the fund's business."""

MADE_BY_THE_SERVICE = (
    DocumentKind.OFFERING_DOCUMENT,
    DocumentKind.SALES_REPORT,
    DocumentKind.ANNUAL_REPORT,
    DocumentKind.DISTRIBUTION_NOTICE,
)
HAND_DRAFTED = set(DocumentKind) - set(MADE_BY_THE_SERVICE)


def _constraint_values(table: str, name: str) -> set[str]:
    for constraint in metadata.tables[table].constraints:
        if isinstance(constraint, CheckConstraint) and str(constraint.name).endswith(name):
            return set(re.findall(r"'(\w+)'", str(constraint.sqltext)))
    raise AssertionError(f"no constraint {name}")


def test_kinds_statuses_and_visibilities_are_the_ones_the_database_accepts() -> None:
    assert _constraint_values("documents", "kind_known") == {k.value for k in DocumentKind}
    assert _constraint_values("documents", "status_known") == {s.value for s in DocumentStatus}
    assert _constraint_values("documents", "visibility_known") == {v.value for v in Visibility}
    versions = _constraint_values("document_versions", "visibility_known")
    assert versions == {v.value for v in Visibility}


# -- authoring -----------------------------------------------------------------------------


def test_the_business_drafts_fund_news_and_notices_and_staff_every_hand_made_kind() -> None:
    for kind in DocumentKind:
        if kind in HAND_DRAFTED:
            check_author(STAFF, kind, business=False)
        else:
            with pytest.raises(Forbidden):
                check_author(STAFF, kind, business=False)
        if kind in (DocumentKind.FUND_NEWS, DocumentKind.NOTICE):
            check_author(BUSINESS, kind, business=True)
        else:
            with pytest.raises(Forbidden):
                check_author(BUSINESS, kind, business=True)
        for caller in NOT_STAFF:
            with pytest.raises(Forbidden):
                check_author(caller, kind, business=False)


def test_nobody_drafts_the_documents_the_service_makes() -> None:
    for kind in MADE_BY_THE_SERVICE:
        for caller, business in ((STAFF, False), (STAFF, True), (BUSINESS, True)):
            with pytest.raises(Forbidden) as caught:
                check_author(caller, kind, business=business)
            assert caught.value.status == 403
            assert "made by the service" in str(caught.value.detail)


def test_only_staff_make_a_document_staff_only() -> None:
    for visibility in Visibility:
        check_visibility_choice(STAFF, visibility)
    for caller in (BUSINESS, *NOT_STAFF):
        check_visibility_choice(caller, Visibility.PUBLIC)
        check_visibility_choice(caller, Visibility.INVESTORS)
        with pytest.raises(UnprocessableContent) as caught:
            check_visibility_choice(caller, Visibility.STAFF)
        assert caught.value.status == 422
        assert caught.value.extra["invalid_params"][0]["name"] == "body.visibility"


def test_a_draft_is_edited_a_published_document_revised_and_nothing_else_changes() -> None:
    assert check_editable(DocumentStatus.DRAFT) is DocumentStatus.DRAFT
    assert check_editable(DocumentStatus.PUBLISHED) is DocumentStatus.DRAFT
    for status in (DocumentStatus.IN_REVIEW, DocumentStatus.RETRACTED):
        with pytest.raises(DocumentRefused) as caught:
            check_editable(status)
        assert caught.value.status == 409
        assert caught.value.problem == "document-state"


# -- the workflow --------------------------------------------------------------------------

ALLOWED: dict[tuple[DocumentStatus, Action], DocumentStatus] = {
    (DocumentStatus.DRAFT, Action.SUBMIT): DocumentStatus.IN_REVIEW,
    (DocumentStatus.IN_REVIEW, Action.RETURN): DocumentStatus.DRAFT,
    (DocumentStatus.IN_REVIEW, Action.PUBLISH): DocumentStatus.PUBLISHED,
    (DocumentStatus.PUBLISHED, Action.RETRACT): DocumentStatus.RETRACTED,
    (DocumentStatus.DRAFT, Action.RETRACT): DocumentStatus.RETRACTED,
    (DocumentStatus.IN_REVIEW, Action.RETRACT): DocumentStatus.RETRACTED,
}
"""Every move the workflow allows; a retraction only of a document that was published."""


@pytest.mark.parametrize("ever_published", [False, True])
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("status", list(DocumentStatus))
def test_the_workflow_allows_exactly_its_moves(
    status: DocumentStatus, action: Action, ever_published: bool
) -> None:
    after = ALLOWED.get((status, action))
    if action is Action.RETRACT and not ever_published:
        after = None
    if after is None:
        with pytest.raises(DocumentRefused) as caught:
            transition(status, action, ever_published=ever_published)
        assert caught.value.status == 409
        assert caught.value.problem == "document-state"
    else:
        assert transition(status, action, ever_published=ever_published) is after


def test_a_document_never_published_cannot_be_retracted() -> None:
    for status in DocumentStatus:
        with pytest.raises(DocumentRefused):
            transition(status, Action.RETRACT, ever_published=False)
    assert (
        transition(DocumentStatus.DRAFT, Action.RETRACT, ever_published=True)
        is DocumentStatus.RETRACTED
    ), "a revision in progress of a published document"


def test_the_business_or_staff_submit_and_only_staff_return_publish_and_retract() -> None:
    for action in Action:
        check_actor(STAFF, action, business=False)
    check_actor(BUSINESS, Action.SUBMIT, business=True)
    for action in (Action.RETURN, Action.PUBLISH, Action.RETRACT):
        with pytest.raises(Forbidden):
            check_actor(BUSINESS, action, business=True)
    for caller in NOT_STAFF:
        for action in Action:
            with pytest.raises(Forbidden):
                check_actor(caller, action, business=False)


def test_returning_and_retracting_say_why() -> None:
    for action in (Action.RETURN, Action.RETRACT):
        assert check_reason(action, "typo in the figures") == "typo in the figures"
        assert check_reason(action, "abc") == "abc"
        for reason in (None, "", "  ", "ab", "  ab  "):
            with pytest.raises(UnprocessableContent) as caught:
                check_reason(action, reason)
            assert caught.value.extra["invalid_params"][0]["name"] == "body.reason"
    for action in (Action.SUBMIT, Action.PUBLISH):
        assert check_reason(action, None) is None
        assert check_reason(action, "not kept") is None


# -- who reads what ------------------------------------------------------------------------

READERS: dict[str, Reader] = {
    "anonymous": Reader(None),
    "staff": Reader(STAFF),
    "business": Reader(BUSINESS, business=True),
    "holder": Reader(INVESTOR, holder=True),
    "other investor": Reader(_principal(Role.INVESTOR, "investor-2")),
    "bank": Reader(BANK),
}

V = Visibility
PUBLISHED_MATRIX: dict[str, dict[Visibility, bool]] = {
    "anonymous": {V.PUBLIC: True, V.INVESTORS: False, V.STAFF: False},
    "staff": {V.PUBLIC: True, V.INVESTORS: True, V.STAFF: True},
    "business": {V.PUBLIC: True, V.INVESTORS: True, V.STAFF: False},
    "holder": {V.PUBLIC: True, V.INVESTORS: True, V.STAFF: False},
    "other investor": {V.PUBLIC: True, V.INVESTORS: False, V.STAFF: False},
    "bank": {V.PUBLIC: True, V.INVESTORS: False, V.STAFF: False},
}
WORKING_MATRIX: dict[str, dict[Visibility, bool]] = {
    "anonymous": {V.PUBLIC: False, V.INVESTORS: False, V.STAFF: False},
    "staff": {V.PUBLIC: True, V.INVESTORS: True, V.STAFF: True},
    "business": {V.PUBLIC: True, V.INVESTORS: True, V.STAFF: False},
    "holder": {V.PUBLIC: False, V.INVESTORS: False, V.STAFF: False},
    "other investor": {V.PUBLIC: False, V.INVESTORS: False, V.STAFF: False},
    "bank": {V.PUBLIC: False, V.INVESTORS: False, V.STAFF: False},
}
RECORDED_MATRIX: dict[str, dict[Visibility, bool]] = {
    "anonymous": {V.PUBLIC: False, V.INVESTORS: False, V.STAFF: False},
    "staff": {V.PUBLIC: False, V.INVESTORS: True, V.STAFF: False},
    "business": {V.PUBLIC: False, V.INVESTORS: True, V.STAFF: False},
    "holder": {V.PUBLIC: True, V.INVESTORS: True, V.STAFF: True},
    "other investor": {V.PUBLIC: True, V.INVESTORS: True, V.STAFF: True},
    "bank": {V.PUBLIC: False, V.INVESTORS: True, V.STAFF: False},
}
SEES_RETRACTED = {"staff", "business"}


def test_published_documents_are_read_by_their_visibilitys_audience() -> None:
    seen = {
        name: {v: may_read_published(reader, v) for v in Visibility}
        for name, reader in READERS.items()
    }
    assert seen == PUBLISHED_MATRIX


def test_only_staff_and_the_business_read_drafts_and_the_business_no_staff_only_one() -> None:
    seen = {
        name: {v: may_read_working(reader, v) for v in Visibility}
        for name, reader in READERS.items()
    }
    assert seen == WORKING_MATRIX


def test_a_retracted_documents_content_is_withheld_from_all_but_staff_and_the_business() -> None:
    for name, reader in READERS.items():
        for status in DocumentStatus:
            expected = status is not DocumentStatus.RETRACTED or name in SEES_RETRACTED
            assert sees_content(reader, status) is expected, (name, status)


def test_reads_of_investor_only_documents_and_every_investors_read_are_recorded() -> None:
    seen = {
        name: {v: read_is_recorded(reader, v) for v in Visibility}
        for name, reader in READERS.items()
    }
    assert seen == RECORDED_MATRIX


def test_whoever_reads_working_versions_reads_the_published_one() -> None:
    for reader in READERS.values():
        for visibility in Visibility:
            if may_read_working(reader, visibility):
                assert may_read_published(reader, visibility)
                assert all(sees_content(reader, s) for s in DocumentStatus)


# -- versions ------------------------------------------------------------------------------


def test_a_versions_digest_is_the_sha256_of_its_body_in_utf8() -> None:
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert digest("") == empty
    assert digest("売上報告") == hashlib.sha256("売上報告".encode()).hexdigest()
    assert digest("売上報告") != hashlib.sha256("売上報告".encode("utf-16")).hexdigest()


@given(st.text())
def test_every_body_digests_to_its_utf8_sha256(body: str) -> None:
    value = digest(body)
    assert value == hashlib.sha256(body.encode("utf-8")).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", value), "ck_document_versions_sha256_hex"


def test_a_document_has_room_for_so_many_versions_and_files() -> None:
    assert next_version(MAX_VERSIONS - 1) == MAX_VERSIONS
    with pytest.raises(DocumentFull):
        next_version(MAX_VERSIONS)
    check_room_for_attachment(MAX_ATTACHMENTS - 1)
    with pytest.raises(DocumentFull):
        check_room_for_attachment(MAX_ATTACHMENTS)
