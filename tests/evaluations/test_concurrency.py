"""A resident who answers twice at the same moment is counted once: two threads, two sessions,
two connections, one real database (SQLite file or a fresh PostgreSQL database)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from deliberation import create_app
from deliberation.auth.models import User
from deliberation.core import secrecy
from deliberation.core.errors import DomainError
from deliberation.evaluations import services
from deliberation.evaluations.models import SatisfactionSurvey, SurveyParticipation
from deliberation.extensions import db
from tests.conftest import make_test_config
from tests.factories import build_world

from .factories import make_organisation, make_survey


def test_two_simultaneous_answers_of_one_resident_count_once(tmp_path_factory, empty_database_url):
    """Two requests of the same resident race in two threads with their own sessions and connections.

    PostgreSQL makes the second insert wait for the first and then fail on the unique constraint, which
    the service turns into "already answered". SQLite has one writer: the loser either waits and gets the
    same refusal or is told the database is locked; either way its transaction leaves nothing behind.
    """
    app = create_app(make_test_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=empty_database_url))
    with app.app_context():
        db.create_all()
        world = build_world()
        firm = make_organisation(world.community, actor=world.admin)
        survey_id = make_survey(firm, actor=world.party).id
        resident_id = world.resident.id
        db.session.commit()

    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def answer_once():
        with app.app_context():
            try:
                survey = db.session.get(SatisfactionSurvey, survey_id)
                user = db.session.get(User, resident_id)
                ratings = {c.id: 5 for c in survey.rubric.resident_items}
                _ = [r.building.estate_id for r in user.residencies], survey.organisation.estate_ids
                barrier.wait()
                services.answer_survey(survey, user, ratings=ratings)
                db.session.commit()
                outcomes.append("counted")
            except DomainError:
                db.session.rollback()
                outcomes.append("refused")
            except OperationalError as error:
                assert "locked" in str(error)
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=answer_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with app.app_context():
        participations = db.session.scalar(select(func.count(SurveyParticipation.id)))
        responses = secrecy.sealed_count(services.survey_scope(db.session.get(SatisfactionSurvey, survey_id)))
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    assert sorted(outcomes) == ["counted", "refused"]
    assert participations == 1 and responses == 1
