"""The command line of API.md."""

from __future__ import annotations

from sqlalchemy import func, select

from inspection.auth.models import Organisation, User
from inspection.auth.passwords import verify_password


def test_create_org_and_user(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-org", "--name", "Åre kommun", "--kind", "kommun"])
    assert result.exit_code == 0, result.output
    assert "Åre kommun" in result.output
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "Kim@Are.example",
            "--name",
            "Kim Ek",
            "--org",
            "åre kommun",
            "--role",
            "inspector",
            "--password",
            "ett långt och ovanligt lösen",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db_session.scalars(select(User).where(User.email == "kim@are.example")).one()
    assert user.organisation.name == "Åre kommun"
    assert verify_password(user.password_hash, "ett långt och ovanligt lösen")


def test_create_user_refuses_bad_input_clearly(app, db_session):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-org", "--name", "Polis Nord", "--kind", "polis"])
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "x@y.se",
            "--name",
            "X",
            "--org",
            "Polis Nord",
            "--role",
            "inspector",
            "--password",
            "kort",
        ]
    )
    assert result.exit_code != 0
    assert "kommun" in result.output  # an inspector belongs to a kommun
    assert "12 tecken" in result.output
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "x@y.se",
            "--name",
            "X",
            "--org",
            "Finns inte",
            "--role",
            "police",
            "--password",
            "ett långt och ovanligt lösen",
        ]
    )
    assert result.exit_code != 0
    assert "Ingen organisation" in result.output
    result = runner.invoke(args=["create-org", "--name", "Polis Nord", "--kind", "polis"])
    assert result.exit_code != 0
    assert "finns redan" in result.output


def test_create_user_prompts_for_the_password(app, db_session):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-org", "--name", "Bergs kommun", "--kind", "kommun"])
    result = runner.invoke(
        args=["create-user", "--email", "p@berg.se", "--name", "P", "--org", "Bergs kommun", "--role", "manager"],
        input="ett långt och ovanligt lösen\nett långt och ovanligt lösen\n",
    )
    assert result.exit_code == 0, result.output
    assert "ett långt" not in result.output


def test_seed_demo_makes_a_believable_demo(app, db_session, tmp_path):
    runner = app.test_cli_runner()
    logins = tmp_path / "logins.txt"
    result = runner.invoke(args=["seed-demo", "--if-empty", "--logins-file", str(logins)])
    assert result.exit_code == 0, result.output
    from inspection.venues.models import Venue

    kinds = dict(db_session.execute(select(Organisation.kind, func.count()).group_by(Organisation.kind)).all())
    assert kinds == {"kommun": 2, "polis": 1}
    roles = {r for (r,) in db_session.execute(select(User.role).distinct())}
    assert roles == {"inspector", "manager", "police", "admin"}
    assert db_session.scalar(select(func.count()).select_from(Venue)) >= 30
    text = logins.read_text(encoding="utf-8")
    assert "police" in text
    assert "manager" in text
    assert oct(logins.stat().st_mode)[-3:] == "600"
    # Every printed login works.
    email, password = text.splitlines()[0].split()[1:3]
    user = db_session.scalars(select(User).where(User.email == email)).one()
    assert verify_password(user.password_hash, password)
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "redan" in again.output
