"""Who may call what: the one table of the role x operation matrix.

For every operation of every service: the roles its gates admit (any other
role gets 403, no token 401), and the roles whose *other* tenants must not
even learn that the object exists (404). The role matrix test calls every
operation with no token, with each role, and with another tenant of each
owner role, and compares the answers with this table; the API fuzzer calls
each operation as a caller the table admits.
"""

from __future__ import annotations

from dataclasses import dataclass

from kumiai.auth import Role
from kumiai_tools.testing import bearer

STAFF_ = Role.STAFF
MSME = Role.MSME
INVESTOR = Role.INVESTOR
BANK = Role.BANK
MUNICIPALITY = Role.MUNICIPALITY


@dataclass(frozen=True)
class Access:
    admits: frozenset[Role]
    """Roles the operation's gates let through (anything but 401/403)."""
    owners: frozenset[Role] = frozenset()
    """Roles for which another tenant asking for the world's object gets 404."""
    public: bool = False
    """No token needed; a token changes nothing."""


def admit(*roles: Role, owners: tuple[Role, ...] = ()) -> Access:
    return Access(frozenset(roles), frozenset(owners))


PUBLIC = Access(frozenset(Role), public=True)
STAFF_ONLY = admit(STAFF_)

MATRIX: dict[tuple[str, str], Access] = {
    # -- every service ------------------------------------------------------------------
    **{
        (name, f"{name}_{probe}"): PUBLIC
        for name in ("onboarding", "subscription", "ledger", "disclosure", "subsidy")
        for probe in ("healthz", "readyz", "metrics")
    },
    # -- every service: the record of partners' calls (kumiai.partner_call_routes) ------
    **{
        (name, f"list_{name}_partner_calls"): STAFF_ONLY
        for name in ("onboarding", "subscription", "ledger", "disclosure", "subsidy")
    },
    # -- onboarding ---------------------------------------------------------------------
    ("onboarding", "register_msme"): admit(STAFF_, MSME, BANK),
    ("onboarding", "list_msmes"): admit(STAFF_, BANK),
    ("onboarding", "get_msme"): admit(STAFF_, MSME, BANK, owners=(MSME, BANK)),
    ("onboarding", "submit_application"): admit(STAFF_, MSME, BANK, owners=(MSME, BANK)),
    ("onboarding", "list_applications"): admit(STAFF_, MSME, BANK),
    ("onboarding", "get_application"): admit(STAFF_, MSME, BANK, owners=(MSME, BANK)),
    ("onboarding", "move_application"): admit(STAFF_, MSME, owners=(MSME,)),
    ("onboarding", "record_committee_decision"): STAFF_ONLY,
    ("onboarding", "upload_document"): admit(STAFF_, MSME, owners=(MSME,)),
    ("onboarding", "get_document_checklist"): admit(STAFF_, MSME, owners=(MSME,)),
    ("onboarding", "list_document_versions"): admit(STAFF_, MSME, owners=(MSME,)),
    ("onboarding", "review_document"): STAFF_ONLY,
    ("onboarding", "download_document"): admit(STAFF_, MSME, owners=(MSME,)),
    ("onboarding", "create_fund"): STAFF_ONLY,
    ("onboarding", "list_funds"): admit(STAFF_, MSME, BANK),
    ("onboarding", "replace_fund_terms"): STAFF_ONLY,
    ("onboarding", "publish_fund"): STAFF_ONLY,
    ("onboarding", "cancel_fund"): STAFF_ONLY,
    ("onboarding", "get_fund"): admit(STAFF_, MSME, BANK, owners=(MSME, BANK)),
    ("onboarding", "register_partner"): STAFF_ONLY,
    ("onboarding", "list_partners"): STAFF_ONLY,
    ("onboarding", "get_partner"): STAFF_ONLY,
    ("onboarding", "suspend_partner"): STAFF_ONLY,
    ("onboarding", "reinstate_partner"): STAFF_ONLY,
    ("onboarding", "list_audit_records"): STAFF_ONLY,
    # A bank reads its own referrals; another bank asking for them is told no such bank.
    ("onboarding", "list_bank_referrals"): admit(STAFF_, BANK, owners=(BANK,)),
    ("onboarding", "list_bank_referrals_csv"): admit(STAFF_, BANK, owners=(BANK,)),
    # A partner manages its own webhook endpoints (staff any partner's); another partner
    # asking is told there are none.
    **{
        ("onboarding", operation): admit(STAFF_, BANK, MUNICIPALITY, owners=(BANK, MUNICIPALITY))
        for operation in (
            "register_webhook_endpoint",
            "list_webhook_endpoints",
            "get_webhook_endpoint",
            "disable_webhook_endpoint",
            "enable_webhook_endpoint",
            "get_webhook_secret",
            "rotate_webhook_secret",
            "list_webhook_deliveries",
            "get_webhook_delivery",
            "redeliver_webhook",
        )
    },
    ("onboarding", "list_all_webhook_endpoints"): STAFF_ONLY,
    # -- subscription -------------------------------------------------------------------
    ("subscription", "list_offerings"): PUBLIC,
    ("subscription", "get_offering"): PUBLIC,
    ("subscription", "get_risk_notice"): PUBLIC,
    ("subscription", "cancel_offering"): STAFF_ONLY,
    ("subscription", "register_investor"): admit(INVESTOR),
    ("subscription", "get_investor"): admit(STAFF_, INVESTOR, BANK, owners=(INVESTOR, BANK)),
    ("subscription", "verify_investor"): admit(STAFF_, BANK, owners=(BANK,)),
    ("subscription", "acknowledge_risk_notice"): admit(INVESTOR, owners=(INVESTOR,)),
    ("subscription", "get_investor_payout_account"): admit(
        STAFF_, INVESTOR, BANK, owners=(INVESTOR, BANK)
    ),
    ("subscription", "subscribe"): admit(INVESTOR),
    ("subscription", "cancel_subscription"): admit(STAFF_, INVESTOR, owners=(INVESTOR,)),
    ("subscription", "get_subscription"): admit(STAFF_, INVESTOR, owners=(INVESTOR,)),
    ("subscription", "list_investor_subscriptions"): admit(STAFF_, INVESTOR, owners=(INVESTOR,)),
    ("subscription", "list_investor_payments_due"): admit(STAFF_, INVESTOR, owners=(INVESTOR,)),
    ("subscription", "list_investor_cancellations"): admit(STAFF_, INVESTOR, owners=(INVESTOR,)),
    ("subscription", "list_investor_holdings"): admit(STAFF_, INVESTOR, owners=(INVESTOR,)),
    ("subscription", "simulate_distributions"): PUBLIC,
    ("subscription", "list_investor_distributions"): admit(STAFF_, INVESTOR, owners=(INVESTOR,)),
    # The world declares no distribution: its investor may ask, and is told there is none.
    ("subscription", "get_investor_distribution"): admit(STAFF_, INVESTOR),
    ("subscription", "get_investor_distribution_statement_pdf"): admit(STAFF_, INVESTOR),
    # For a year that is over: an investor's record is there even when nothing was paid.
    ("subscription", "get_investor_payment_record"): admit(STAFF_, INVESTOR, owners=(INVESTOR,)),
    ("subscription", "get_investor_payment_record_pdf"): admit(
        STAFF_, INVESTOR, owners=(INVESTOR,)
    ),
    ("subscription", "export_payment_records"): STAFF_ONLY,
    # The world pays out no distribution: its bank may ask, and is told there is none (the
    # other bank's 404 and the file itself: tests/integration/test_distribution_transfers.py).
    ("subscription", "get_distribution_transfer_file"): admit(STAFF_, BANK),
    ("subscription", "list_subscription_audit_records"): STAFF_ONLY,
    # -- ledger -------------------------------------------------------------------------
    ("ledger", "post_entry"): STAFF_ONLY,
    ("ledger", "post_entry_batch"): STAFF_ONLY,
    ("ledger", "post_pending_entry"): STAFF_ONLY,
    ("ledger", "void_pending_entry"): STAFF_ONLY,
    ("ledger", "reverse_entry"): STAFF_ONLY,
    ("ledger", "get_entry"): STAFF_ONLY,
    ("ledger", "get_trial_balance"): STAFF_ONLY,
    **{
        ("ledger", op): admit(
            STAFF_, INVESTOR, BANK, MSME, MUNICIPALITY, owners=(INVESTOR, BANK, MSME, MUNICIPALITY)
        )
        for op in ("get_balance", "get_statement", "get_account")
    },
    ("ledger", "report_deposit"): admit(BANK),
    ("ledger", "list_deposits"): admit(STAFF_, BANK),
    ("ledger", "get_deposit"): admit(STAFF_, BANK, owners=(BANK,)),
    ("ledger", "list_suspense"): STAFF_ONLY,
    ("ledger", "match_suspense_deposit"): STAFF_ONLY,
    ("ledger", "get_segregation_report"): STAFF_ONLY,
    ("ledger", "list_fund_distributions"): admit(STAFF_, MSME, owners=(MSME,)),
    ("ledger", "instruct_payout"): admit(STAFF_, INVESTOR),
    ("ledger", "list_payouts"): admit(STAFF_, BANK),
    ("ledger", "confirm_payout"): admit(BANK, owners=(BANK,)),
    ("ledger", "fail_payout"): admit(BANK, owners=(BANK,)),
    ("ledger", "answer_payouts"): admit(BANK, owners=(BANK,)),
    ("ledger", "return_suspense_deposit"): STAFF_ONLY,
    # -- disclosure ---------------------------------------------------------------------
    ("disclosure", "create_document"): admit(STAFF_, MSME),
    ("disclosure", "list_fund_documents"): admit(STAFF_, MSME, INVESTOR),
    ("disclosure", "get_document"): admit(STAFF_, MSME, INVESTOR),
    ("disclosure", "edit_document"): admit(STAFF_, MSME),
    ("disclosure", "list_disclosure_document_versions"): admit(STAFF_, MSME),
    ("disclosure", "attach_file"): admit(STAFF_, MSME),
    ("disclosure", "detach_file"): admit(STAFF_, MSME),
    ("disclosure", "download_attachment"): admit(STAFF_, MSME, INVESTOR),
    ("disclosure", "render_document_pdf"): admit(STAFF_, MSME, INVESTOR),
    ("disclosure", "submit_document"): admit(STAFF_, MSME),
    ("disclosure", "return_document"): STAFF_ONLY,
    ("disclosure", "publish_document"): STAFF_ONLY,
    ("disclosure", "retract_document"): STAFF_ONLY,
    ("disclosure", "list_my_documents"): admit(INVESTOR),
    ("disclosure", "list_public_documents"): PUBLIC,
    ("disclosure", "fund_news_feed"): PUBLIC,
    ("disclosure", "get_public_document"): PUBLIC,
    ("disclosure", "render_public_document_pdf"): PUBLIC,
    ("disclosure", "download_public_attachment"): PUBLIC,
    ("disclosure", "submit_sales_report"): admit(STAFF_, MSME),
    ("disclosure", "list_sales_reports"): admit(STAFF_, MSME),
    ("disclosure", "get_sales_report"): admit(STAFF_, MSME),
    ("disclosure", "upload_sales_report_file"): admit(STAFF_, MSME),
    ("disclosure", "approve_sales_report"): STAFF_ONLY,
    ("disclosure", "return_sales_report"): STAFF_ONLY,
    ("disclosure", "get_disclosure_schedule"): admit(STAFF_, MSME),
    ("disclosure", "write_annual_report"): admit(STAFF_, MSME),
    ("disclosure", "get_annual_report"): admit(STAFF_, MSME),
    ("disclosure", "preview_annual_report_pdf"): admit(STAFF_, MSME),
    ("disclosure", "publish_annual_report"): STAFF_ONLY,
    ("disclosure", "list_deadlines"): STAFF_ONLY,
    ("disclosure", "list_disclosure_audit_records"): STAFF_ONLY,
    # -- subsidy ------------------------------------------------------------------------
    ("subsidy", "create_programme"): admit(STAFF_, MUNICIPALITY),
    ("subsidy", "list_programmes"): admit(STAFF_, MUNICIPALITY, MSME),
    ("subsidy", "get_programme"): admit(STAFF_, MUNICIPALITY, MSME, owners=(MUNICIPALITY,)),
    ("subsidy", "close_applications"): admit(STAFF_, MUNICIPALITY, owners=(MUNICIPALITY,)),
    # Any business may read a programme to apply; whose onboarding application it names is
    # checked on the body (another's is 422, tests/integration/test_subsidy.py).
    ("subsidy", "apply_to_programme"): admit(STAFF_, MSME),
    ("subsidy", "list_programme_applications"): admit(STAFF_, MUNICIPALITY, owners=(MUNICIPALITY,)),
    ("subsidy", "get_programme_application"): admit(
        STAFF_, MUNICIPALITY, MSME, owners=(MUNICIPALITY, MSME)
    ),
    ("subsidy", "review_programme_application"): admit(
        STAFF_, MUNICIPALITY, owners=(MUNICIPALITY,)
    ),
    ("subsidy", "decline_programme_application"): admit(
        STAFF_, MUNICIPALITY, owners=(MUNICIPALITY,)
    ),
    ("subsidy", "award_subsidy"): admit(STAFF_, MUNICIPALITY, owners=(MUNICIPALITY,)),
    ("subsidy", "list_awards"): admit(STAFF_, MUNICIPALITY, MSME),
    ("subsidy", "get_award"): admit(STAFF_, MUNICIPALITY, MSME, owners=(MUNICIPALITY, MSME)),
    ("subsidy", "revoke_award"): admit(STAFF_, MUNICIPALITY, owners=(MUNICIPALITY,)),
    ("subsidy", "get_programme_report"): admit(STAFF_, MUNICIPALITY, owners=(MUNICIPALITY,)),
    # A municipality's own figures are implied; asking for another's is 404 (test_subsidy.py).
    ("subsidy", "get_leverage"): admit(STAFF_, MUNICIPALITY),
    ("subsidy", "get_leverage_csv"): admit(STAFF_, MUNICIPALITY),
    ("subsidy", "get_leverage_chart"): admit(STAFF_, MUNICIPALITY),
}

# The tenants the test world gives each role (the owners of its objects), and others.
STAFF = bearer(Role.STAFF, "platform")


def caller_for(service: str, operation_id: str) -> dict[str, str] | None:
    """Headers of a caller the operation admits, for the fuzzer (staff where staff may).

    ``None`` for public operations. Tenant-scoped callers get well-known tenants;
    their objects rarely exist, which is what a fuzzer is for.
    """
    access = MATRIX.get((service, operation_id))
    if access is None or access.public:
        return None
    if Role.STAFF in access.admits:
        return STAFF
    role = sorted(access.admits)[0]
    tenant = {
        Role.BANK: "hokkaido-bank",
        Role.MUNICIPALITY: "012025",
        Role.INVESTOR: "6f1c2a9e-3b1d-4c55-9d61-2f8f0b7a1c11",
        Role.MSME: "0b1e5d3c-6a8f-4c2e-9f7d-1a2b3c4d5e6f",
    }[role]
    return bearer(role, tenant)
