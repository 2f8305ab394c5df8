"""seed-synthetic: deterministic for a seed, with the shape API.md describes."""

from __future__ import annotations

from sqlalchemy import func, select

from inspection import create_app
from inspection.extensions import db
from inspection.inspections.content import canonical_content, content_hash
from inspection.inspections.models import Inspection, Observation
from inspection.venues.models import Venue


def _fingerprint(tmp_path, name: str) -> tuple:
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / name}", "TESTING": True})
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["seed-synthetic", "--venues", "40", "--years", "10", "--seed", "7"])
        assert result.exit_code == 0, result.output
        venues = db.session.scalar(select(func.count()).select_from(Venue))
        counts = db.session.execute(
            select(Observation.inspection_id, func.count()).group_by(Observation.inspection_id)
        ).all()
        busiest = db.session.scalar(
            select(func.count())
            .select_from(Inspection)
            .group_by(Inspection.venue_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        hashes = tuple(db.session.scalars(select(Inspection.content_hash).order_by(Inspection.id)))
        latest = db.session.scalars(
            select(Inspection).where(Inspection.signed_content.is_not(None)).order_by(Inspection.id.desc()).limit(1)
        ).first()
        frozen_matches = latest is None or content_hash(canonical_content(latest)) == latest.content_hash
        db.engine.dispose()
    sizes = [n for _, n in counts]
    return venues, min(sizes), max(sizes), busiest, hashes, frozen_matches


def test_synthetic_data_is_deterministic_and_realistic(tmp_path):
    first = _fingerprint(tmp_path, "a.db")
    second = _fingerprint(tmp_path, "b.db")
    assert first == second  # the same seed gives the same data, down to every content hash
    venues, fewest, most, busiest, _, frozen_matches = first
    assert venues == 40
    assert fewest >= 2
    assert most <= 40
    assert busiest >= 40  # risk class 3 visited four times a year for ten years
    assert frozen_matches  # the stored hash is the hash of the canonical content


def test_kommun_sizes_fall_off_like_swedens():
    from inspection.synthetic import kommun_sizes

    sizes = kommun_sizes(13_700, 291)
    assert sum(sizes) == 13_700
    assert sizes == sorted(sizes, reverse=True)
    assert 2_000 <= sizes[0] <= 2_300  # the Stockholm of the data set
    assert min(sizes) >= 5
    assert kommun_sizes(3, 5) == [1, 1, 1, 0, 0]  # fewer venues than kommuner: no negative sizes
