"""Krogtillsyn: joint alcohol-licensing inspections for a kommun and the police."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, g, request
from sqlalchemy.exc import OperationalError

from . import dbsetup  # noqa: F401 - registers the engine events
from .config import DEFAULT_SECRET, ROOT, load_config
from .dbsetup import SAFE_METHODS
from .extensions import csrf, db, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(load_config())
    if config:
        app.config.update(config)
    if app.config["PRODUCTION"] and app.config["SECRET_KEY"] == DEFAULT_SECRET:
        raise RuntimeError("KROGTILLSYN_ENV=production needs SECRET_KEY set to a long random value")
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.config["SQLALCHEMY_DATABASE_URI"][len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    Path(app.config["UPLOAD_FOLDER"]).mkdir(parents=True, exist_ok=True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options.setdefault(
            "connect_args",
            {
                # No parallel workers for the app's short queries: on a small server starting them
                # cost more than the query (a police officer's list: 12 ms with a worker, 5 without).
                "options": "-c max_parallel_workers_per_gather=0",
                # No server-side prepared statements: psycopg prepares a query after its fifth run,
                # and PostgreSQL then soon settles on a generic plan that cannot see that a date
                # window is narrow (the start page's lists: 4 ms a query instead of 0.5).
                "prepare_threshold": None,
            },
        )

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    _import_models()
    from . import security, web

    security.init_app(app)  # the sign-in gate runs before the CSRF check
    csrf.init_app(app)
    web.init_app(app)
    _register_blueprints(app)

    from .cli import register_cli

    register_cli(app)

    @app.after_request
    def _finish_transaction(response):
        # One place commits: at the end of a successful request. Any error answer rolls back, so
        # nothing is half-saved; code that must keep a record of a refusal (a failed sign-in) sets
        # g.commit_on_error.
        if response.status_code < 400 or g.get("commit_on_error"):
            try:
                db.session.commit()
            except OperationalError:
                # A read-only request that only touched bookkeeping (a session's last-seen time)
                # may lose a race for SQLite's write lock; that bookkeeping can wait.
                db.session.rollback()
                if request.method not in SAFE_METHODS:
                    raise
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def _rollback_on_exception(exc):
        if exc is not None:
            db.session.rollback()

    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    return app


def _import_models() -> None:
    """Import every models module so that SQLAlchemy and Alembic see the whole schema."""
    from . import audit  # noqa: F401
    from .auth import models as _auth  # noqa: F401
    from .cases import models as _cases  # noqa: F401
    from .inspections import models as _inspections  # noqa: F401
    from .reports import models as _reports  # noqa: F401
    from .trainings import models as _trainings  # noqa: F401
    from .venues import models as _venues  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from .admin.views import bp as admin_bp
    from .api import bp as api_bp

    # The API modules add their routes to the one api blueprint.
    from .auth import api as _auth_api  # noqa: F401
    from .auth.views import bp as auth_bp
    from .cases import api as _cases_api  # noqa: F401
    from .cases.views import bp as cases_bp
    from .inspections import api as _inspections_api  # noqa: F401
    from .inspections.views import bp as inspections_bp
    from .reports import api as _reports_api  # noqa: F401
    from .reports.views import bp as reports_bp
    from .trainings import api as _trainings_api  # noqa: F401
    from .trainings.views import bp as trainings_bp
    from .venues import api as _venues_api  # noqa: F401
    from .venues.views import bp as venues_bp
    from .web import bp as main_bp

    for blueprint in (main_bp, auth_bp, admin_bp, venues_bp, inspections_bp, trainings_bp, cases_bp, reports_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(api_bp)
