"""The lead queue: ranking, filters, assignment and rebalancing (queue); LeadService for panes."""
