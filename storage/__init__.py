"""The database, owned by no single feature: every table, the alembic migrations and the engine.

Features own their queries; this package owns the schema. It imports nothing of the project's.
"""
