"""The central side: schema and migrations for PostgreSQL / SQL Server, change publisher, seeding.

Not built yet: it arrives with the central-databases issue. It may import c360_desktop.core,
never c360_desktop.ui (import-linter contract in pyproject.toml).
"""
