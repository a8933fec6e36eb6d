"""Browser tests: the app served on a free loopback port, driven in Debian's Chromium by Playwright."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from deliberation import create_app
from deliberation.auth.models import User
from deliberation.communities import services
from deliberation.communities.models import Role
from deliberation.extensions import db
from tests.conftest import make_test_config
from tests.factories import make_community, make_resident, make_user
from tests.proposals.factories import make_round

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 360, "height": 740}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ADMIN_PASSWORD = "admin-password-1"
PASSWORD = "e2e-password-1"
RESIDENT_NAMES = {"res-a": "张阿姨", "res-b": "李叔叔", "sec": "刘秘书"}
# Evaluations journey: two Party branch members, the firm's representative, two residents it serves.
EVAL_PASSWORD = "eval-password-1"
FIRM_NAME = "鹏城物业服务有限公司"


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"REQUIRE_BROWSER=1 but {CHROMIUM} does not exist")
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} not installed"))


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """A real server (real commits, CDN htmx switched on) over a fresh SQLite database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.sqlite3'}"
    # Every browser logs in from 127.0.0.1: lift the per-address login limit (tested elsewhere).
    app = create_app(make_test_config(tmp_path_factory, SQLALCHEMY_DATABASE_URI=url, HTMX_USE_CDN=True,
                                      LOGIN_RATE_LIMIT="1000 per minute"))
    with app.app_context():
        db.create_all()
        site_admin = make_user(login="site-admin", is_site_admin=True)
        community = make_community(slug="taoyuan", actor=site_admin)
        admin = make_user(login="office", display_name="社区工作站", password=ADMIN_PASSWORD, phone="13800000001")
        services.grant_role(community, user=admin, role=Role.community_admin, actor=site_admin)
        for login, phone in [("res-a", "13611110001"), ("res-b", "13611110002"), ("sec", "13611110003")]:
            make_resident(community, login=login, phone=phone, password=PASSWORD, display_name=RESIDENT_NAMES[login])
        secretary = db.session.scalar(User.by_login("sec"))
        services.grant_role(community, user=secretary, role=Role.council_secretary, actor=admin)
        party = make_user(login="branch", display_name="社区党委", password=PASSWORD, phone="13611110004")
        services.grant_role(community, user=party, role=Role.party_branch, actor=admin)
        # A stand-in secretary, only for the no-JavaScript confirmation test (which revokes the role).
        stand_in = make_user(login="stand-in", display_name="临时秘书 陈", password=PASSWORD, phone="13611110009")
        services.grant_role(community, user=stand_in, role=Role.council_secretary, actor=admin)
        make_round(community, secretary, title="2027年度民生微实事")
        _voting_round(community, secretary, party)
        _typed_voting_rounds(community, secretary, party)
        _seed_evaluations(community, admin)
        _seed_council(community, admin, secretary)
        _completed_project(community, secretary, party)
        db.session.commit()
    return app


def _voting_round(community, secretary, party) -> None:
    """A round open for voting: three projects, budget 100,000 yuan, three more voters."""
    from deliberation.proposals.models import RoundPhase
    from tests.proposals.factories import make_proposal, move_to

    round_ = make_round(community, secretary, title="2026年度第二批", budget=100_000, project_cap=100_000)
    for title, cost in [("健身步道", 60_000), ("儿童滑梯", 50_000), ("楼道扶手", 30_000)]:
        make_proposal(round_, secretary, title=title, cost=cost)
    move_to(round_, RoundPhase.voting, secretary, party=party)
    for login, phone in [("voter-c", "13611110005"), ("voter-d", "13611110006")]:
        make_resident(community, login=login, phone=phone, password=PASSWORD, display_name=login)


CUMULATIVE_ROUND = "2026年度积分投票"
RANKED_ROUND = "2026年度排序投票"


def _typed_voting_rounds(community, secretary, party) -> None:
    """Two rounds open for voting with other ballot types: 10 points to spread (at most 6 on one project),
    and a ranking of the top 2; voter-e votes in both."""
    from deliberation.proposals.models import BallotType, CountingRule, RoundPhase
    from deliberation.votes.services import set_ballot_rules
    from tests.proposals.factories import make_proposal, move_to

    for title, rules in [(CUMULATIVE_ROUND, {"ballot_type": BallotType.cumulative, "points_total": 10,
                                             "points_per_project": 6}),
                         (RANKED_ROUND, {"ballot_type": BallotType.ranked, "max_approvals": 2})]:
        round_ = make_round(community, secretary, title=title, budget=100_000, project_cap=100_000)
        for name, cost in [("凉亭修缮", 60_000), ("快递柜", 50_000), ("路灯更换", 30_000)]:
            make_proposal(round_, secretary, title=name, cost=cost)
        set_ballot_rules(round_, per_household=False, must_fit_budget=False, counting_rule=CountingRule.greedy,
                         actor=secretary, **rules)
        move_to(round_, RoundPhase.voting, secretary, party=party)
    make_resident(community, login="voter-e", phone="13611110007", password=PASSWORD, display_name="voter-e")


def _seed_evaluations(community, admin) -> None:
    from deliberation.evaluations import services as evaluation_services
    from deliberation.evaluations.models import OrganisationKind

    served = [e for e in community.estates if e.name == "桃源村一区"]
    firm = evaluation_services.register_organisation(
        community, kind=OrganisationKind.property_firm, name=FIRM_NAME, estates=served, term_start=None,
        term_end=None, actor=admin)
    for login, name in (("branch1", "党委 黄书记"), ("branch2", "党委 林委员")):
        user = make_user(login=login, display_name=name, password=EVAL_PASSWORD)
        services.grant_role(community, user=user, role=Role.party_branch, actor=admin)
    rep = make_user(login="firm-rep", display_name="鹏城物业 张经理", password=EVAL_PASSWORD)
    services.grant_role(community, user=rep, role=Role.org_rep, actor=admin, organisation=firm)
    make_resident(community, login="resident-a", display_name="居民 甲", password=EVAL_PASSWORD, building_name="1栋")
    make_resident(community, login="resident-b", display_name="居民 乙", password=EVAL_PASSWORD, building_name="2栋")


COMPLETED_PROJECT = "社区花园改造"


def _completed_project(community, secretary, party) -> None:
    """A project funded last year and finished: residents may rate it."""
    from deliberation.proposals import services as proposal_services
    from deliberation.proposals.models import RoundPhase
    from tests.proposals.factories import make_proposal, move_to

    round_ = make_round(community, secretary, title="2025年度民生微实事")
    proposal = make_proposal(round_, secretary, title=COMPLETED_PROJECT, cost=80_000)
    move_to(round_, RoundPhase.implementing, secretary, party=party)
    proposal_services.post_progress(proposal, actor=secretary, body="已完工，花园已开放。", photos=[], completed=True)


def snap(page, artifacts: Path, name: str) -> None:
    """A full-page screenshot of a journey step, for people reviewing the phone layout."""
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


COUNCIL_MEMBERS = {"council-m1": "委员 周", "council-m2": "委员 吴", "council-m3": "委员 郑", "council-m4": "委员 冯"}
MEETING_TITLE = "第一届议事会第1次会议"


def _seed_council(community, admin, secretary) -> None:
    """A four-member council (quorum: more than two thirds, i.e. 3) and a draft meeting with an agenda."""
    from datetime import timedelta

    from deliberation.consultations import services as sessions
    from deliberation.consultations.models import SessionKind
    from deliberation.core.models import utcnow
    from tests.councils.factories import make_council

    users = [make_resident(community, login=login, phone=f"1361111002{n}", password=PASSWORD, display_name=name)[0]
             for n, (login, name) in enumerate(COUNCIL_MEMBERS.items())]
    council = make_council(community, admin, members=4, seat_users=users, term_label="第一届")
    session = sessions.create_session(community, fields=sessions.SessionFields(
        kind=SessionKind.council_meeting, title=MEETING_TITLE, starts_at=utcnow() + timedelta(days=4),
        place="社区党群服务中心"), council=council, actor=secretary)
    sessions.add_item(session, fields=sessions.ItemFields(title="加装楼道扶手", description="3栋居民提出。"),
                      actor=secretary)


@pytest.fixture(scope="session")
def base_url(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, base_url):
    """A fresh 360×740 phone browser context; the htmx CDN is blocked, as on many community networks.
    Confirmation dialogs (irreversible actions) are accepted, as the user would after reading them."""
    context = browser.new_context(base_url=base_url, viewport=PHONE, locale="zh-CN")
    context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    accept_dialogs(page)
    yield page
    context.close()


def accept_dialogs(page) -> None:
    """Irreversible actions ask with window.confirm (static/js/confirm.js): say yes, and keep what was asked."""
    page.dialogs = []

    def answer(dialog) -> None:
        page.dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)


def confirm_click(button) -> None:
    """Click a button that asks first, once the page's scripts have run (a click that beats static/js/confirm.js
    gets the no-JavaScript confirmation page instead of the dialog, which is right but not what is tested)."""
    button.page.wait_for_load_state("load")
    button.click()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
