"""Persistence: SQLAlchemy 2 models, typed queries and Alembic migrations."""
