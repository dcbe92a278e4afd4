"""The PostgreSQL fixtures (pg, central_url, central) live in tests/conftest.py: the alert tests use them too."""
