"""updates: count a wave's progress from an index

Every final status report re-evaluates the rollout's open wave, counting its assignments by
status. An index on (rollout_id, wave, status) answers that count by itself; it replaces the
index on rollout_id alone, which its first column serves.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 12:55:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_update_assignments_progress",
        "update_assignments",
        ["rollout_id", "wave", "status"],
    )
    op.drop_index(op.f("ix_update_assignments_rollout_id"), table_name="update_assignments")


def downgrade() -> None:
    op.create_index(op.f("ix_update_assignments_rollout_id"), "update_assignments", ["rollout_id"])
    op.drop_index("ix_update_assignments_progress", table_name="update_assignments")
