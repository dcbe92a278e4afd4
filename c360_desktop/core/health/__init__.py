"""Is this installation healthy: each check green, amber or red, with the reason."""
