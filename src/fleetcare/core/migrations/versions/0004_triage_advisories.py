"""triage advisories

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 05:56:45.220786
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import fleetcare.core.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "advisories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("tlp", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("disclosure_at", fleetcare.core.db.UTCDateTime(), nullable=True),
        sa.Column("initial_release_date", fleetcare.core.db.UTCDateTime(), nullable=True),
        sa.Column("current_release_date", fleetcare.core.db.UTCDateTime(), nullable=True),
        sa.Column("published_json", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("sha512", sa.String(length=128), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=300), nullable=False),
        sa.Column("created_at", fleetcare.core.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", fleetcare.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisories")),
        sa.UniqueConstraint("tracking_id", name=op.f("uq_advisories_tracking_id")),
    )
    with op.batch_alter_table("advisories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_advisories_status"), ["status"], unique=False)

    op.create_table(
        "imported_advisories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publisher", sa.String(length=300), nullable=False),
        sa.Column("publisher_namespace", sa.String(length=500), nullable=False),
        sa.Column("tracking_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("proposals", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=300), nullable=False),
        sa.Column("imported_at", fleetcare.core.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imported_advisories")),
        sa.UniqueConstraint(
            "publisher_namespace",
            "tracking_id",
            "version",
            name=op.f("uq_imported_advisories_publisher_namespace"),
        ),
    )

    op.create_table(
        "advisory_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advisory_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("date", fleetcare.core.db.UTCDateTime(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("published_by", sa.String(length=300), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["advisories.id"],
            name=op.f("fk_advisory_revisions_advisory_id_advisories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_revisions")),
        sa.UniqueConstraint(
            "advisory_id", "number", name=op.f("uq_advisory_revisions_advisory_id")
        ),
    )
    op.create_table(
        "advisory_vulnerabilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advisory_id", sa.Integer(), nullable=False),
        sa.Column("vulnerability_id", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisory_id"],
            ["advisories.id"],
            name=op.f("fk_advisory_vulnerabilities_advisory_id_advisories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisory_vulnerabilities")),
        sa.UniqueConstraint(
            "advisory_id", "vulnerability_id", name=op.f("uq_advisory_vulnerabilities_advisory_id")
        ),
    )
    with op.batch_alter_table("advisory_vulnerabilities", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_advisory_vulnerabilities_advisory_id"), ["advisory_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_advisory_vulnerabilities_vulnerability_id"),
            ["vulnerability_id"],
            unique=False,
        )

    op.create_table(
        "triage_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("vex_status", sa.String(length=24), nullable=False),
        sa.Column("justification", sa.String(length=60), nullable=True),
        sa.Column("impact_statement", sa.Text(), nullable=False),
        sa.Column("action_statement", sa.Text(), nullable=False),
        sa.Column("fixed_release_id", sa.Integer(), nullable=True),
        sa.Column("carried_over_from", sa.Integer(), nullable=True),
        sa.Column("reopened_reason", sa.String(length=200), nullable=False),
        sa.Column("decided_on", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=300), nullable=False),
        sa.Column("decided_at", fleetcare.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["carried_over_from"],
            ["findings.id"],
            name=op.f("fk_triage_decisions_carried_over_from_findings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["findings.id"],
            name=op.f("fk_triage_decisions_finding_id_findings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["fixed_release_id"],
            ["releases.id"],
            name=op.f("fk_triage_decisions_fixed_release_id_releases"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_decisions")),
        sa.UniqueConstraint("finding_id", name=op.f("uq_triage_decisions_finding_id")),
    )
    with op.batch_alter_table("triage_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_triage_decisions_vex_status"), ["vex_status"], unique=False
        )

    op.create_table(
        "triage_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("vex_status", sa.String(length=24), nullable=False),
        sa.Column("justification", sa.String(length=60), nullable=True),
        sa.Column("impact_statement", sa.Text(), nullable=False),
        sa.Column("action_statement", sa.Text(), nullable=False),
        sa.Column("fixed_release_id", sa.Integer(), nullable=True),
        sa.Column("carried_over", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("at", fleetcare.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["findings.id"],
            name=op.f("fk_triage_history_finding_id_findings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_history")),
    )
    with op.batch_alter_table("triage_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_triage_history_finding_id"), ["finding_id"], unique=False
        )

    op.create_table(
        "triage_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("source_format", sa.String(length=16), nullable=False),
        sa.Column("source_author", sa.String(length=300), nullable=False),
        sa.Column("source_document", sa.String(length=500), nullable=False),
        sa.Column("vex_status", sa.String(length=24), nullable=False),
        sa.Column("justification", sa.String(length=60), nullable=True),
        sa.Column("impact_statement", sa.Text(), nullable=False),
        sa.Column("action_statement", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_at", fleetcare.core.db.UTCDateTime(), nullable=False),
        sa.Column("resolved_by", sa.String(length=300), nullable=False),
        sa.Column("resolved_at", fleetcare.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["findings.id"],
            name=op.f("fk_triage_proposals_finding_id_findings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_proposals")),
    )
    with op.batch_alter_table("triage_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_triage_proposals_finding_id"), ["finding_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_triage_proposals_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("triage_proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_triage_proposals_state"))
        batch_op.drop_index(batch_op.f("ix_triage_proposals_finding_id"))

    op.drop_table("triage_proposals")
    with op.batch_alter_table("triage_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_triage_history_finding_id"))

    op.drop_table("triage_history")
    with op.batch_alter_table("triage_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_triage_decisions_vex_status"))

    op.drop_table("triage_decisions")

    with op.batch_alter_table("advisory_vulnerabilities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advisory_vulnerabilities_vulnerability_id"))
        batch_op.drop_index(batch_op.f("ix_advisory_vulnerabilities_advisory_id"))

    op.drop_table("advisory_vulnerabilities")
    op.drop_table("advisory_revisions")

    op.drop_table("imported_advisories")
    with op.batch_alter_table("advisories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_advisories_status"))

    op.drop_table("advisories")
