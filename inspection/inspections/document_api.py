"""API routes (document_api)."""
