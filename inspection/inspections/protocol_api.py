"""API routes (protocol_api)."""
