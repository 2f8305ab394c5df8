"""API routes of inspections: scheduling (schedule_api.py), protocol (protocol_api.py), documents
(document_api.py). Each adds its routes to the one api blueprint with `route`."""

from . import document_api, protocol_api, schedule_api  # noqa: F401
