"""API routes of this feature area (added to the one api blueprint with `route`)."""
