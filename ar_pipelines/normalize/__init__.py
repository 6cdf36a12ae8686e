"""Source rows to AR records: customers and ledger entries, or the quarantine with a reason."""
