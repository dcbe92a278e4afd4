"""Finding customers: the full-text index (index) and the query side (service.CustomerSearch)."""
