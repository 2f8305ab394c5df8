"""Command-line commands of this area; `register(app)` is called by cli.py."""

from flask import Flask


def register(app: Flask) -> None:
    """Add this area's commands to `flask --app inspection`."""
