"""wrapped_identities.recovery_wrapped: the browser identity wrapped to a recovery key

The browser makes a recovery key (an age X25519 identity) when it makes the
user's identity, shows it once, and stores a second copy of the identity
encrypted to it. The server cannot open either copy; the recovery copy lets a
user who forgot the passphrase unlock the inbox with the recovery key.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wrapped_identities") as batch:
        batch.add_column(sa.Column("recovery_wrapped", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wrapped_identities") as batch:
        batch.drop_column("recovery_wrapped")
