"""Photos: JPEG/PNG only, size-limited, re-encoded without metadata (no GPS), served only to those who
may see the inspection, idempotent on client_id."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image
from sqlalchemy import select

from inspection.audit import AuditEntry
from tests.inspections.test_protocol_support import Caller

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def jpeg_with_gps(size=(40, 20), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "Kameratillverkare"  # Make
    exif[0x0131] = "Hemlig programvara"  # Software
    if orientation:
        exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (63.0, 10.0, 30.0), 3: "E", 4: (14.0, 38.0, 0.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def png(size=(30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 255, 128)).save(out, "PNG")
    return out.getvalue()


def multipart(fields: dict[str, str], files: dict[str, tuple[bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body made in memory (the test client would spool a large one to a
    temporary file that it never closes)."""
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (data, filename) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload(caller, inspection_id, data: bytes | None, client_id=None, filename="bild.jpg"):
    fields = {"client_id": client_id or str(uuid.uuid4())}
    body, content_type = multipart(fields, {"file": (data, filename)} if data is not None else {})
    return caller.post(f"/api/v1/inspections/{inspection_id}/photos", data=body, content_type=content_type)


@pytest.fixture
def joint(make_inspection, inspector, police):
    return make_inspection(participants=[inspector, police])


def test_the_gps_position_and_camera_data_are_stripped(client, joint, inspector):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test photo does carry GPS

    anna = Caller(client, inspector)
    response = upload(anna, joint.id, original)
    assert response.status_code == 201, response.get_json()
    url = response.get_json()["url"]
    served = anna.get(url)
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "inline" in served.headers["Content-Disposition"]
    image = Image.open(io.BytesIO(served.data))
    assert image.format == "JPEG"
    assert image.size == (40, 20)
    exif = image.getexif()
    assert not exif.get_ifd(GPS_IFD)
    assert len(exif) == 0
    assert b"Hemlig programvara" not in served.data
    assert b"Kameratillverkare" not in served.data


def test_orientation_is_applied_before_the_metadata_goes(client, joint, inspector):
    anna = Caller(client, inspector)
    response = upload(anna, joint.id, jpeg_with_gps(size=(40, 20), orientation=6))  # rotated 90°
    image = Image.open(io.BytesIO(anna.get(response.get_json()["url"]).data))
    assert image.size == (20, 40)


def test_large_photos_are_scaled_down(client, joint, inspector):
    out = io.BytesIO()
    Image.new("RGB", (4000, 1000), (10, 10, 10)).save(out, "JPEG")
    anna = Caller(client, inspector)
    response = upload(anna, joint.id, out.getvalue())
    image = Image.open(io.BytesIO(anna.get(response.get_json()["url"]).data))
    assert max(image.size) == 2560


def test_png_stays_png(client, joint, police):
    peter = Caller(client, police)
    response = upload(peter, joint.id, png(), filename="skärm.png")
    assert response.status_code == 201
    served = peter.get(response.get_json()["url"])
    assert served.mimetype == "image/png"
    assert Image.open(io.BytesIO(served.data)).format == "PNG"


def test_the_photo_is_listed_with_the_inspection_and_audited(client, db_session, joint, inspector):
    anna = Caller(client, inspector)
    photo = upload(anna, joint.id, png()).get_json()
    data, _ = anna.inspection(joint.id)
    assert data["photos"] == [photo]
    entry = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "photo.create", AuditEntry.object_id == joint.id)
    ).one()
    assert entry.user_id == inspector.id
    assert entry.details["photo_id"] == photo["id"]


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (b"%PDF-1.4 not a photo", "bild.jpg"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "bild.svg"),
        (b"", "tom.jpg"),
        (b"GIF89a" + b"\x00" * 20, "bild.gif"),
    ],
)
def test_a_file_that_is_not_a_jpeg_or_png_is_422(client, joint, inspector, data, filename):
    anna = Caller(client, inspector)
    response = upload(anna, joint.id, data, filename=filename)
    assert response.status_code == 422, response.get_json()
    assert "file" in response.get_json()["error"]["fields"]
    assert anna.inspection(joint.id)[0]["photos"] == []


def test_a_gif_really_is_refused(client, joint, inspector):
    out = io.BytesIO()
    Image.new("RGB", (5, 5)).save(out, "GIF")
    response = upload(Caller(client, inspector), joint.id, out.getvalue(), filename="bild.jpg")
    assert response.status_code == 422


def test_too_large_is_413(app, client, joint, inspector):
    anna = Caller(client, inspector)
    limit = app.config["PHOTO_MAX_BYTES"]
    response = upload(anna, joint.id, b"\xff" * (limit + 1))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    response = upload(anna, joint.id, b"\xff" * (30 * 1024 * 1024))  # past the whole request limit
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert anna.inspection(joint.id)[0]["photos"] == []


def test_missing_or_bad_client_id_is_422(client, joint, inspector):
    anna = Caller(client, inspector)
    response = upload(anna, joint.id, png(), client_id="inte-ett-uuid")
    assert response.status_code == 422
    assert "client_id" in response.get_json()["error"]["fields"]
    response = upload(anna, joint.id, None)
    assert response.status_code == 422
    assert "file" in response.get_json()["error"]["fields"]


def test_not_multipart_is_400(client, joint, inspector):
    response = Caller(client, inspector).post(f"/api/v1/inspections/{joint.id}/photos", json={"file": "x"})
    assert response.status_code == 400


def test_same_client_id_answers_the_first_photo(client, joint, inspector):
    anna = Caller(client, inspector)
    client_id = str(uuid.uuid4())
    first = upload(anna, joint.id, png(), client_id)
    again = upload(anna, joint.id, png(), client_id)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert len(anna.inspection(joint.id)[0]["photos"]) == 1


def test_who_may_see_and_add_photos(client, joint, inspector, make_user, other_kommun, manager):
    anna = Caller(client, inspector)
    url = upload(anna, joint.id, png()).get_json()["url"]
    assert Caller(client, manager).get(url).status_code == 200
    assert Caller(client, make_user("police")).get(url).status_code == 404
    assert Caller(client, make_user("inspector", org=other_kommun)).get(url).status_code == 404
    assert Caller(client, make_user("admin")).get(url).status_code == 403
    assert client.get(url).status_code == 401
    assert upload(Caller(client, make_user("police")), joint.id, png()).status_code == 404
    assert anna.get(f"/api/v1/inspections/{joint.id}/photos/999999").status_code == 404


def test_no_photos_after_the_first_signature(client, joint, inspector):
    anna = Caller(client, inspector)
    anna.sign(joint.id)
    response = upload(anna, joint.id, png())
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "locked"


def test_an_image_with_too_many_pixels_is_refused(client, joint, inspector):
    out = io.BytesIO()
    Image.new("1", (8200, 8000)).save(out, "PNG")  # tiny file, 65 million pixels to decode
    response = upload(Caller(client, inspector), joint.id, out.getvalue(), filename="bomb.png")
    assert response.status_code == 422
    assert "file" in response.get_json()["error"]["fields"]


def _files(app) -> set[str]:
    from pathlib import Path

    return {p.name for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()}


def test_a_photo_refused_after_its_file_was_written_leaves_no_file(app, client, joint, inspector, monkeypatch):
    """The file is written before its row is committed; when the request fails after that (here the
    audit record is refused), the transaction rolls back and the file must go with it."""
    from inspection.errors import conflict
    from inspection.inspections import photos

    anna = Caller(client, inspector)
    kept = upload(anna, joint.id, png())
    assert kept.status_code == 201
    before = _files(app)

    def refuse(*args, **kwargs):
        raise conflict("Något gick fel efter att filen skrevs.")

    monkeypatch.setattr(photos.audit, "record", refuse)
    response = upload(anna, joint.id, png())
    assert response.status_code == 409
    assert _files(app) == before  # no orphan; the first photo's file is still there
    monkeypatch.undo()
    data, _ = anna.inspection(joint.id)
    assert [p["id"] for p in data["photos"]] == [kept.get_json()["id"]]


def test_a_case_document_refused_after_its_file_was_written_leaves_no_file(app, db_session, manager, make_venue):
    """The same for a case's evidence: written, then the transaction rolls back."""
    from inspection.cases import services
    from inspection.cases.models import Case

    case = Case(kommun_id=manager.organisation_id, venue=make_venue(), summary="Överservering", opened_by_id=manager.id)
    db_session.add(case)
    db_session.flush()
    before = _files(app)
    with app.test_request_context():
        services.attach_document(manager, case, "Polisrapport", b"%PDF-1.4\n%%EOF\n")
        assert len(_files(app) - before) == 1
        db_session.rollback()
    assert _files(app) == before
