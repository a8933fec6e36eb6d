"""The command-line interface: create-admin, import-residents, demo."""

from __future__ import annotations

from sqlalchemy import func, select

from deliberation.auth.models import User
from deliberation.communities.models import RollEntry
from deliberation.extensions import db


def test_create_admin_makes_a_site_administrator(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "--login", "root", "--name", "管理员", "--password", "long-enough-1"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(User.by_login("root"))
    assert user.is_site_admin and user.password_hash.startswith("pbkdf2:")


def test_create_admin_refuses_a_short_password(app, db_session):
    result = app.test_cli_runner().invoke(args=["create-admin", "--login", "root", "--name", "x", "--password", "short"])
    assert result.exit_code != 0
    assert db.session.scalar(User.by_login("root")) is None


def test_import_residents_reports_rows(app, world, tmp_path):
    csv_file = tmp_path / "roll.csv"
    csv_file.write_text("楼栋,单元,房号,姓名,电话\n1栋,1,101,张三,13900000001\n9栋,1,1,李四,13900000002\n",
                        encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-residents", "taoyuan", str(csv_file), "--actor", "admin"])
    assert result.exit_code == 0, result.output
    assert "1 imported" in result.output and "1 rejected" in result.output
    assert "line 3: rejected" in result.output
    assert db.session.scalar(select(func.count(RollEntry.id))) == 1


def test_import_residents_with_unknown_community_fails(app, db_session, tmp_path):
    csv_file = tmp_path / "roll.csv"
    csv_file.write_text("building,unit,room,name,phone\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["import-residents", "nowhere", str(csv_file)])
    assert result.exit_code != 0 and "nowhere" in result.output


def test_demo_refuses_a_database_with_communities(app, world):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0
    result = app.test_cli_runner().invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0 and "not loaded again" in result.output
