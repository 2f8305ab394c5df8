"""Photos attached to a visit: checked, re-encoded and stripped of metadata, stored outside static.

A tablet camera sends JPEG (iPads convert HEIC to JPEG on upload) or PNG. The content is sniffed with
Pillow (the name and the declared type mean nothing), turned upright by its EXIF orientation, capped
in size and written anew without any metadata (no GPS position, no camera serial). The stored file has
a generated name under UPLOAD_FOLDER/photos and is served only through the API, to those who may see
the inspection.
"""

from __future__ import annotations

import io
import secrets
import warnings
from pathlib import Path
from typing import IO

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import audit
from ..errors import ServiceError, validation_error
from ..extensions import db
from ..files import forget_new_file, store_new_file
from ..types import utcnow
from .models import Inspection, Photo
from .protocol import ensure_open

#: the longest side of a stored photo (enough to read a receipt or a permit on the wall)
MAX_SIDE = 2560
#: refuse images that would take huge memory to decode (a "decompression bomb")
MAX_PIXELS = 60_000_000
FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png")}


def photo_dir() -> Path:
    path = Path(current_app.config["UPLOAD_FOLDER"]) / "photos"
    path.mkdir(parents=True, exist_ok=True)
    return path


def photo_path(photo: Photo) -> Path:
    return photo_dir() / photo.stored_name


def read_limited(stream: IO[bytes]) -> bytes:
    """The upload's bytes, or 413 past PHOTO_MAX_BYTES."""
    limit = current_app.config["PHOTO_MAX_BYTES"]
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ServiceError("too_large", f"Bilden är för stor (högst {limit // (1024 * 1024)} MB).")
    return data


def reencode(data: bytes) -> tuple[bytes, str, int, int]:
    """(clean bytes, content type, width, height) of an uploaded image, or 422 on `file`."""
    not_image = validation_error({"file": "Filen är inte en bild i JPEG- eller PNG-format."})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise not_image
            if image.width * image.height > MAX_PIXELS:
                raise validation_error({"file": "Bilden har för många bildpunkter."})
            kind = image.format
            if kind == "JPEG":
                # Decode a large camera JPEG at a reduced scale straight away (it is scaled down anyway).
                image.draft("RGB", (MAX_SIDE, MAX_SIDE))
            image.load()
            image = ImageOps.exif_transpose(image)
    except ServiceError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise not_image from None
    except Image.DecompressionBombWarning:
        raise validation_error({"file": "Bilden har för många bildpunkter."}) from None

    if kind == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA")
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    # A new image from the pixels alone: nothing of the original's metadata can come along.
    clean = Image.frombytes(image.mode, image.size, image.tobytes())
    out = io.BytesIO()
    if kind == "JPEG":
        clean.save(out, "JPEG", quality=85, optimize=True)
    else:
        clean.save(out, "PNG", optimize=True)
    return out.getvalue(), FORMATS[kind][0], clean.width, clean.height


def find_photo(inspection: Inspection, client_id: str) -> Photo | None:
    return db.session.scalar(select(Photo).where(Photo.inspection_id == inspection.id, Photo.client_id == client_id))


def add_photo(
    actor, inspection: Inspection, *, image: tuple[bytes, str, int, int], client_id: str
) -> tuple[Photo, bool]:
    """Store a photo made by `reencode` (done before the inspection's row is locked: it takes a while);
    answers (photo, created). A resend of the same client_id answers the first."""
    existing = find_photo(inspection, client_id)
    if existing is not None:
        return existing, False
    ensure_open(inspection)
    clean, content_type, width, height = image
    stored_name = secrets.token_hex(16) + FORMATS["JPEG" if content_type == "image/jpeg" else "PNG"][1]
    target = photo_dir() / stored_name
    store_new_file(target, clean)  # removed again if the transaction does not commit
    photo = Photo(
        inspection_id=inspection.id,
        client_id=client_id,
        stored_name=stored_name,
        content_type=content_type,
        width=width,
        height=height,
        size=len(clean),
        uploaded_by_id=actor.id,
        uploaded_at=utcnow(),
    )
    try:
        with db.session.begin_nested():
            db.session.add(photo)
    except IntegrityError:
        target.unlink(missing_ok=True)
        forget_new_file(target)
        existing = find_photo(inspection, client_id)
        if existing is None:
            raise
        return existing, False
    db.session.expire(inspection, ["photos"])
    audit.record(
        "photo.create",
        inspection,
        user=actor,
        details={
            "photo_id": photo.id,
            "client_id": client_id,
            "content_type": content_type,
            "width": width,
            "height": height,
            "size": len(clean),
        },
    )
    return photo, True


def get_photo(inspection: Inspection, photo_id) -> Photo | None:
    photo = db.session.get(Photo, int(photo_id))
    if photo is None or photo.inspection_id != inspection.id:
        return None
    return photo
