"""Administration: accounts, organisations and the audit log."""
