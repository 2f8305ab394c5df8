"""WSGI entry point: `gunicorn -w 4 wsgi:app` from the checkout, with DATABASE_URL set."""

from inspection import create_app

app = create_app()
