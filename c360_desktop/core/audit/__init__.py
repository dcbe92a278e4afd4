"""The audit trail: who viewed, searched, exported, edited or merged what, hash-chained on each
desktop (``log``) and pushed to the centre's ``audit_event`` table through the outbox."""
