"""An evaluations world on top of the shared one: a firm and a committee, their representatives,
two Party branch members, residents of both estates and a branch member of the other community."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from deliberation.auth.models import User
from deliberation.communities.models import Role
from deliberation.evaluations.models import Organisation, OrganisationKind
from tests.factories import World, grant, make_resident, make_user

from .factories import make_organisation


@dataclass
class EvalWorld:
    w: World
    firm: Organisation  # serves 桃源村一区 (1栋, 2栋)
    committee: Organisation  # serves 龙辉花园 (A座)
    party2: User
    org_rep: User  # represents the firm
    committee_rep: User
    other_party: User  # Party branch of the other community
    neighbour: User  # verified resident of 2栋 (served by the firm)
    longhui: User  # verified resident of A座 (not served by the firm)

    def user(self, role: str) -> User | None:
        if role == "anonymous":
            return None
        if hasattr(self.w, role):
            return getattr(self.w, role)
        return getattr(self, role)


@pytest.fixture
def ew(world) -> EvalWorld:
    firm = make_organisation(world.community, actor=world.admin, name="鹏城物业服务有限公司")
    committee = make_organisation(world.community, actor=world.admin, kind=OrganisationKind.owner_committee,
                                  name="龙辉花园业主委员会", estates=("龙辉花园",))
    party2 = grant(make_user(login="party2"), world.community, Role.party_branch)
    org_rep = make_user(login="firm-rep")
    from deliberation.communities import services as community_services

    community_services.grant_role(world.community, user=org_rep, role=Role.org_rep, actor=world.admin,
                                  organisation=firm)
    committee_rep = make_user(login="committee-rep")
    community_services.grant_role(world.community, user=committee_rep, role=Role.org_rep, actor=world.admin,
                                  organisation=committee)
    other_party = grant(make_user(login="other-party"), world.other, Role.party_branch)
    neighbour, _ = make_resident(world.community, login="neighbour", building_name="2栋")
    longhui, _ = make_resident(world.community, login="longhui", building_name="A座")
    return EvalWorld(world, firm, committee, party2, org_rep, committee_rep, other_party, neighbour, longhui)


@pytest.fixture
def survey_in(ew):
    """survey_in("2026-Q2"): a closed survey of the firm, answered by two residents, ended within that period
    (a survey counts for one period only)."""
    from .factories import closed_survey

    def _survey(period: str, organisation: Organisation | None = None):
        organisation = organisation or ew.firm
        answers = [(ew.w.resident, 4), (ew.neighbour, 5)] if organisation == ew.firm else [(ew.longhui, 4)]
        return closed_survey(organisation, actor=ew.w.party, period=period, answers=answers)

    return _survey
