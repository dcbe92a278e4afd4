"""Data quality: rules as data (rules.py), measuring and drilling down (monitor.py), and the
stewardship workflow with its history and alerts (service.py: QualityService)."""
