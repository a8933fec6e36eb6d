"""The demo's grids, units and three months of requests make a ranking worth opening."""

from __future__ import annotations

from sqlalchemy import func, select

from deliberation.communities.models import Community
from deliberation.demo import load_demo
from deliberation.extensions import db
from deliberation.grids import rates
from deliberation.grids.models import Grid, GridLevel, ResidentRequest


def test_the_demo_ranks_its_units_and_grids(client, db_session):
    load_demo()
    db.session.commit()
    community = db.session.scalar(select(Community).where(Community.slug == "taoyuan"))
    assert db.session.scalar(select(func.count(ResidentRequest.id))) == 150
    assert db.session.scalar(select(func.count(Grid.id)).where(Grid.level == GridLevel.micro)) == 6
    last = rates.shift(rates.current_month(), -1)
    ranking = rates.ranking(community, last)
    ranked = [row for row in ranking.units if row.rank is not None]
    assert len(ranked) == 3 and len({row.rates.score for row in ranked}) > 1
    assert 0 < ranking.total.satisfaction < 1 and 0 < ranking.total.response < 1
    body = client.get("/c/taoyuan/requests/ranking").get_data(as_text=True)
    assert "深圳市鹏城物业服务有限公司" in body and "<polyline" in body
