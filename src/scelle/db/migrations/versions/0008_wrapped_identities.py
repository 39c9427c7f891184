"""wrapped browser identities (age files encrypted to a passphrase the server never sees)

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wrapped_identities",
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_wrapped_identities_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_wrapped_identities")),
    )


def downgrade() -> None:
    op.drop_table("wrapped_identities")
