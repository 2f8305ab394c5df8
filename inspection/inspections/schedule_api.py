"""API routes (schedule_api)."""
