"""Domain logic, storage and services. Never imports Qt (enforced by import-linter)."""
