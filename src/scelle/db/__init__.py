"""Metadata store: SQLAlchemy 2 engine, sessions, models and Alembic migrations."""
