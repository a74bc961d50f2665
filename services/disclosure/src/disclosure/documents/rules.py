"""The rules of disclosure documents (pure): kinds, versions, review, and who reads what.

A document belongs to one fund. Its content lives in immutable versions: an edit is a
new version (title, body, visibility, attachments), keeping every earlier one with its
SHA-256, author and time. Workflow: draft -> in review -> published, or back to draft
with a reason; a published document may be revised (a new draft version; readers keep
seeing the published one until the revision is published) or retracted with a reason
(the record stays, its content is withheld from readers). The business drafts its own
fund news and notices; staff draft every kind, review and publish. Some kinds are made
by the service itself from what it knows (the offering document from the terms, sales
and annual reports from approved figures, distribution notices from the declared and
paid distributions) and are published as made.

Readers: public documents are for anyone; investor-only ones for staff, the business
and investors who hold or held units of that fund; staff-only ones for staff. Whoever
may not read a document is told it does not exist (404). Only staff and the business
see drafts.

The database holds some of these too (``disclosure.db.models.Document``):
``ck_documents_kind_known``, ``ck_documents_status_known``,
``ck_documents_visibility_known``, ``ck_documents_published_consistent``,
``ck_documents_retraction_reasoned``; versions are append-only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from kumiai.principal import Principal, Role
from kumiai.problems import Conflict, Forbidden, UnprocessableContent


class DocumentKind(StrEnum):
    """What a document is; ``ck_documents_kind_known`` lists the same."""

    OFFERING_DOCUMENT = "offering_document"
    CONTRACT = "contract"
    FUND_NEWS = "fund_news"
    SALES_REPORT = "sales_report"
    ANNUAL_REPORT = "annual_report"
    DISTRIBUTION_NOTICE = "distribution_notice"
    AUDIT_REPORT = "audit_report"
    NOTICE = "notice"


class Visibility(StrEnum):
    """Who may read a published document; ``ck_documents_visibility_known`` lists the same."""

    PUBLIC = "public"
    INVESTORS = "investors"
    STAFF = "staff"


class DocumentStatus(StrEnum):
    """Where a document stands; ``ck_documents_status_known`` lists the same."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    RETRACTED = "retracted"


class Action(StrEnum):
    """What can be done to a document's workflow."""

    SUBMIT = "submit"
    RETURN = "return"
    PUBLISH = "publish"
    RETRACT = "retract"


BUSINESS_KINDS = frozenset({DocumentKind.FUND_NEWS, DocumentKind.NOTICE})
"""What a business drafts itself."""

MADE_BY_THE_SERVICE = frozenset(
    {
        DocumentKind.OFFERING_DOCUMENT,
        DocumentKind.SALES_REPORT,
        DocumentKind.ANNUAL_REPORT,
        DocumentKind.DISTRIBUTION_NOTICE,
    }
)
"""Kinds the service makes from what it knows; nobody drafts them by hand."""


class DocumentRefused(Conflict):
    problem = "document-state"
    title = "The document is not in a state that allows this"


class DocumentRetracted(DocumentRefused):
    status = 410
    problem = "document-retracted"
    title = "The document was retracted"


# -- authoring ---------------------------------------------------------------------------


def check_author(principal: Principal, kind: DocumentKind, *, business: bool) -> None:
    """Staff draft any kind but those the service makes; the business its news and notices."""
    if kind in MADE_BY_THE_SERVICE:
        raise Forbidden(f"{kind.value} documents are made by the service from what it is told")
    if principal.is_staff():
        return
    if not business:
        raise Forbidden("only staff and the fund's business draft its documents")
    if kind not in BUSINESS_KINDS:
        raise Forbidden(f"a business drafts {', '.join(sorted(BUSINESS_KINDS))} only")


def check_editor(principal: Principal, *, business: bool) -> None:
    """The fund's business and staff change a document's content."""
    if not (principal.is_staff() or business):
        raise Forbidden("only staff and the fund's business change its documents")


def check_visibility_choice(principal: Principal, visibility: Visibility) -> None:
    """Only staff make a document staff-only (the business could not read it back)."""
    if visibility is Visibility.STAFF and not principal.is_staff():
        raise UnprocessableContent(
            "only staff make a document staff-only",
            invalid_params=[{"name": "body.visibility", "reason": "public or investors"}],
        )


def check_editable(status: DocumentStatus) -> DocumentStatus:
    """A draft is edited in place as new versions; a published document is revised (a new
    draft version); one in review must be returned first, a retracted one never changes.
    Returns the status after the edit."""
    if status in (DocumentStatus.DRAFT, DocumentStatus.PUBLISHED):
        return DocumentStatus.DRAFT
    raise DocumentRefused(f"the document is {status.value}; it cannot be edited")


MAX_VERSIONS = 200
"""Versions one document may have: a draft is edited, not rewritten without end."""

MAX_ATTACHMENTS = 20
"""Files one version may carry."""


class DocumentFull(DocumentRefused):
    problem = "document-full"
    title = "The document has no room for more"


def next_version(current: int) -> int:
    """The number of the next version, if the document has room for one."""
    if current >= MAX_VERSIONS:
        raise DocumentFull(f"a document has at most {MAX_VERSIONS} versions; start a new one")
    return current + 1


def check_room_for_attachment(attached: int) -> None:
    """Refuse a file beyond the version's limit, before its bytes are kept."""
    if attached >= MAX_ATTACHMENTS:
        raise DocumentFull(f"a document carries at most {MAX_ATTACHMENTS} files")


def digest(body: str) -> str:
    """A version's SHA-256: of its body as UTF-8 (attachments carry their own)."""
    return hashlib.sha256(body.encode()).hexdigest()


# -- the workflow ------------------------------------------------------------------------

_TRANSITIONS: dict[tuple[DocumentStatus, Action], DocumentStatus] = {
    (DocumentStatus.DRAFT, Action.SUBMIT): DocumentStatus.IN_REVIEW,
    (DocumentStatus.IN_REVIEW, Action.RETURN): DocumentStatus.DRAFT,
    (DocumentStatus.IN_REVIEW, Action.PUBLISH): DocumentStatus.PUBLISHED,
    (DocumentStatus.PUBLISHED, Action.RETRACT): DocumentStatus.RETRACTED,
    # A revision in progress may be retracted too: what readers see is the published one.
    (DocumentStatus.DRAFT, Action.RETRACT): DocumentStatus.RETRACTED,
    (DocumentStatus.IN_REVIEW, Action.RETRACT): DocumentStatus.RETRACTED,
}


def transition(status: DocumentStatus, action: Action, *, ever_published: bool) -> DocumentStatus:
    """The status after ``action``, or 409 when the workflow does not allow it."""
    after = _TRANSITIONS.get((status, action))
    if after is None or (action is Action.RETRACT and not ever_published):
        raise DocumentRefused(f"a {status.value} document cannot be {_PAST[action]}")
    return after


_PAST = {
    Action.SUBMIT: "submitted for review",
    Action.RETURN: "returned to draft",
    Action.PUBLISH: "published",
    Action.RETRACT: "retracted",
}


def check_actor(principal: Principal, action: Action, *, business: bool) -> None:
    """The business or staff submit; staff return, publish and retract."""
    if principal.is_staff():
        return
    if action is Action.SUBMIT and business:
        return
    raise Forbidden(f"only staff may {action.value} a document")


def needs_reason(action: Action) -> bool:
    """Returning a draft and retracting a document say why."""
    return action in (Action.RETURN, Action.RETRACT)


def check_reason(action: Action, reason: str | None) -> str | None:
    if needs_reason(action) and not (reason and len(reason.strip()) >= 3):
        raise UnprocessableContent(
            f"to {action.value} a document, say why",
            invalid_params=[{"name": "body.reason", "reason": "required (3 characters or more)"}],
        )
    return reason if needs_reason(action) else None


# -- who reads what ----------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """What the access rules need to know of the caller and the document's fund."""

    principal: Principal | None
    business: bool = False
    """The caller acts for the fund's business."""
    holder: bool = False
    """The caller is an investor who holds or held units of the fund."""

    @property
    def staff(self) -> bool:
        return self.principal is not None and self.principal.is_staff()


def may_read_published(reader: Reader, visibility: Visibility) -> bool:
    """Whether the reader may read a published version of that visibility."""
    if visibility is Visibility.PUBLIC:
        return True
    if visibility is Visibility.INVESTORS:
        return reader.staff or reader.business or reader.holder
    return reader.staff


def may_read_working(reader: Reader, visibility: Visibility) -> bool:
    """Whether the reader may read drafts and every version (staff, and the business unless
    staff made it staff-only)."""
    return reader.staff or (reader.business and visibility is not Visibility.STAFF)


def sees_content(reader: Reader, status: DocumentStatus) -> bool:
    """A retracted document's content is withheld from everyone but staff and the business."""
    return status is not DocumentStatus.RETRACTED or reader.staff or reader.business


def read_is_recorded(reader: Reader, visibility: Visibility) -> bool:
    """Every read of an investor-only document is recorded, and every investor's read (the
    unread markers of My page)."""
    if reader.principal is None:
        return False
    return visibility is Visibility.INVESTORS or reader.principal.role is Role.INVESTOR


KIND_NAMES: dict[DocumentKind, tuple[str, str]] = {
    DocumentKind.OFFERING_DOCUMENT: ("募集要項", "Offering document"),
    DocumentKind.CONTRACT: ("匿名組合契約書", "Contract"),
    DocumentKind.FUND_NEWS: ("ファンドニュース", "Fund news"),
    DocumentKind.SALES_REPORT: ("売上報告", "Sales report"),
    DocumentKind.ANNUAL_REPORT: ("年次報告書", "Annual report"),
    DocumentKind.DISTRIBUTION_NOTICE: ("分配のお知らせ", "Distribution notice"),
    DocumentKind.AUDIT_REPORT: ("監査報告", "Audit report"),
    DocumentKind.NOTICE: ("お知らせ", "Notice"),
}
"""Each kind's name in Japanese and English (rendered documents, feeds)."""
