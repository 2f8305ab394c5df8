"""Settings, read from environment variables with safe defaults for local use.

Every setting is listed in the README. `create_app(config)` takes a mapping that overrides them (tests).
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET = "dev-only-secret-change-me"  # noqa: S105 - refused in production, see create_app


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def database_url(url: str | None) -> str:
    """Normalise a database URL: plain postgres URLs use psycopg 3."""
    if not url:
        return f"sqlite:///{ROOT / 'instance' / 'krogtillsyn.db'}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def load_config() -> dict:
    env = os.environ.get("KROGTILLSYN_ENV", "development")
    production = env == "production"
    return {
        "ENV_NAME": env,
        "PRODUCTION": production,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEFAULT_SECRET),
        "SQLALCHEMY_DATABASE_URI": database_url(os.environ.get("DATABASE_URL")),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(ROOT / "instance" / "uploads")),
        # Flask rejects larger bodies with 413 before reading them; photos are capped at 15 MB.
        "MAX_CONTENT_LENGTH": _int("MAX_UPLOAD_MB", 16) * 1024 * 1024,
        "PHOTO_MAX_BYTES": 15 * 1024 * 1024,
        "SESSION_IDLE_MINUTES": _int("SESSION_IDLE_MINUTES", 30),
        "SESSION_MAX_HOURS": _int("SESSION_MAX_HOURS", 12),
        "TOKEN_LIFETIME_HOURS": _int("TOKEN_LIFETIME_HOURS", 12),
        "SESSION_COOKIE_SECURE": production or _bool("SESSION_COOKIE_SECURE", False),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,  # the session lifetime bounds the token
        "LOGIN_MAX_FAILURES": _int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCK_MINUTES": _int("LOGIN_LOCK_MINUTES", 15),
        "DIPLOMA_VALID_YEARS": _int("DIPLOMA_VALID_YEARS", 5),
        "RETENTION_PROTOCOL_YEARS": _int("RETENTION_PROTOCOL_YEARS", 10),
        "RETENTION_PSEUDONYMISE_YEARS": _int("RETENTION_PSEUDONYMISE_YEARS", 3),
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", ""),
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": _int("SMTP_PORT", 587),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_FROM": os.environ.get("SMTP_FROM", "krogtillsyn@localhost"),
        "SMTP_STARTTLS": _bool("SMTP_STARTTLS", True),
    }
