"""updates: index devices by installed release version

The device registry's filter and the rollout target selection look devices up by the version
they report; with a fleet of 100,000 devices that was a scan. The column changes only when a
device installs a release, so check-ins keep their in-place (HOT) updates on PostgreSQL.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 12:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_update_devices_installed_version"), "update_devices", ["installed_version"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_update_devices_installed_version"), table_name="update_devices")
