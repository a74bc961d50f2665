"""MSMEs, applications and their pipeline, documents, fund terms and the audit trail.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from kumiai.migrations import append_only_v1

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("actor_role", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("entity_type", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        "ix_audit_log_entity", "audit_log", ["entity_type", "entity_id", "id"], unique=False
    )
    op.create_table(
        "msmes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("corporate_number", sa.Text(), nullable=False),
        sa.Column("company_name", sa.Text(), nullable=False),
        sa.Column("prefecture_code", sa.Text(), nullable=False),
        sa.Column("municipality_code", sa.Text(), nullable=False),
        sa.Column("industry", sa.Text(), nullable=False),
        sa.Column("head_office_address", sa.Text(), nullable=False),
        sa.Column("representative_name", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.Text(), nullable=False),
        sa.Column("contact_email", sa.Text(), nullable=False),
        sa.Column("contact_phone", sa.Text(), nullable=False),
        sa.Column("referred_by_bank", sa.Text(), nullable=True),
        sa.Column("registered_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "corporate_number ~ '^[0-9]{13}$'", name=op.f("ck_msmes_corporate_number_digits")
        ),
        sa.CheckConstraint(
            "municipality_code LIKE prefecture_code || '%'", name=op.f("ck_msmes_municipality_in")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_msmes")),
        sa.UniqueConstraint("corporate_number", name=op.f("uq_msmes_corporate_number")),
    )
    op.create_index(
        op.f("ix_msmes_municipality_code"), "msmes", ["municipality_code"], unique=False
    )
    op.create_index(op.f("ix_msmes_prefecture_code"), "msmes", ["prefecture_code"], unique=False)
    op.create_index(op.f("ix_msmes_referred_by_bank"), "msmes", ["referred_by_bank"], unique=False)
    op.create_table(
        "applications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("msme_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("amount_sought", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("use_of_funds", sa.Text(), nullable=False),
        sa.Column("business_plan_summary", sa.Text(), nullable=False),
        sa.Column("municipality_code", sa.Text(), nullable=False),
        sa.Column("referred_by", sa.Text(), nullable=True),
        sa.Column("referrer_id", sa.Text(), nullable=True),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("step_entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("amount_sought > 0", name=op.f("ck_applications_amount_positive")),
        sa.ForeignKeyConstraint(
            ["msme_id"], ["msmes.id"], name=op.f("fk_applications_msme_id_msmes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
    )
    op.create_index(op.f("ix_applications_msme_id"), "applications", ["msme_id"], unique=False)
    op.create_index(
        op.f("ix_applications_municipality_code"),
        "applications",
        ["municipality_code"],
        unique=False,
    )
    op.create_index(
        op.f("ix_applications_referrer_id"), "applications", ["referrer_id"], unique=False
    )
    op.create_index(
        "ix_applications_step_entered", "applications", ["step", "step_entered_at"], unique=False
    )
    op.create_table(
        "application_steps",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("from_step", sa.Text(), nullable=True),
        sa.Column("to_step", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("actor_role", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_steps_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_steps")),
    )
    op.create_index(
        op.f("ix_application_steps_application_id"),
        "application_steps",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "committee_votes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("member", sa.Text(), nullable=False),
        sa.Column("vote", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "vote IN ('approve', 'reject', 'abstain')", name=op.f("ck_committee_votes_vote_known")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_committee_votes_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_committee_votes")),
        sa.UniqueConstraint("application_id", "member", name="uq_committee_votes_member"),
    )
    op.create_index(
        op.f("ix_committee_votes_application_id"),
        "committee_votes",
        ["application_id"],
        unique=False,
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("storage_key", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.Text(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column(
            "uploaded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('submitted', 'accepted', 'rejected', 'superseded')",
            name=op.f("ck_documents_status_known"),
        ),
        sa.CheckConstraint("size > 0", name=op.f("ck_documents_size_positive")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_documents_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("application_id", "kind", "version", name="uq_documents_version"),
    )
    op.create_index(
        op.f("ix_documents_application_id"), "documents", ["application_id"], unique=False
    )
    # Funds published before applications existed cannot be tied to one; the
    # table is rebuilt (no deployment holds such funds).
    op.drop_table("funds")
    op.create_table(
        "funds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("msme_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("terms", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("target_amount", sa.BigInteger(), nullable=False),
        sa.Column("offering_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offering_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("terms_digest", sa.Text(), nullable=True),
        sa.Column("amount_raised", sa.BigInteger(), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_by", sa.Text(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'scheduled', 'open', 'cancelled', 'closed_succeeded', "
            "'closed_failed')",
            name=op.f("ck_funds_status_known"),
        ),
        sa.CheckConstraint("target_amount > 0", name=op.f("ck_funds_target_positive")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_funds_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(["msme_id"], ["msmes.id"], name=op.f("fk_funds_msme_id_msmes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funds")),
        sa.UniqueConstraint("application_id", name=op.f("uq_funds_application_id")),
    )
    op.create_index(op.f("ix_funds_msme_id"), "funds", ["msme_id"])
    op.create_index(op.f("ix_funds_status"), "funds", ["status"])
    op.create_index(
        "ix_funds_due", "funds", ["offering_start"], postgresql_where="status = 'scheduled'"
    )
    append_only_v1("application_steps", "committee_votes", "audit_log")


def downgrade() -> None:
    for table in ("funds", "documents", "committee_votes", "application_steps", "applications"):
        op.drop_table(table)
    op.drop_table("msmes")
    op.drop_table("audit_log")
    op.execute("DROP FUNCTION kumiai_refuse_change()")
    # The funds table of revision 0001 (empty).
    op.create_table(
        "funds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("msme_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("handling_fee_per_unit", sa.BigInteger(), nullable=False),
        sa.Column("units_offered", sa.Integer(), nullable=False),
        sa.Column("formation_threshold_units", sa.Integer(), nullable=False),
        sa.Column("max_units_per_investor", sa.Integer(), nullable=False),
        sa.Column("offering_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offering_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("published_by", sa.Text(), nullable=False),
        sa.Column(
            "published_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funds")),
    )
    op.create_index(op.f("ix_funds_msme_id"), "funds", ["msme_id"])
