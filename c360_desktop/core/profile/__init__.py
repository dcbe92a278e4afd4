"""The 360 view of one customer, its timeline, notes and edits (service.ProfileService)."""
