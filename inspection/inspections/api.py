"""API routes of inspections (added to the one api blueprint with `route`)."""
