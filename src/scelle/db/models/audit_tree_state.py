"""The size of the audit Merkle tree: one row (id 1).

Appending an event increments it with a row-locking ``UPDATE ... RETURNING``,
which serialises appends across processes (a PostgreSQL row lock, SQLite's
write lock) until the appending transaction ends. It also holds the
frontier, so an append reads this one row.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Connection, Integer, LargeBinary, insert
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base


class AuditTreeState(Base):
    __tablename__ = "audit_tree_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    # The hashes of the perfect subtrees of ``size`` (merkle.frontier_nodes), concatenated.
    frontier: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


def create_empty_tree(connection: Connection) -> None:
    """The row of a new database's empty tree (migration 0002 makes it on upgrade)."""
    connection.execute(insert(AuditTreeState).values(id=1, size=0, frontier=b""))
