"""接诉即办 on a phone (360×740): a resident files a request with a photo, the grid worker whistles it
to the property firm, the firm's representative answers, the resident rates it, and the ranking moves."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from deliberation.auth.models import User
from deliberation.communities.models import Community
from deliberation.evaluations.models import Organisation
from deliberation.extensions import db
from tests.proposals.factories import jpeg_bytes

from .conftest import EVAL_PASSWORD, FIRM_NAME, confirm_click, snap
from .test_resident_journey import log_in, log_out

WORKER_PASSWORD = "grid-password-1"


def _seed_grids(live_app) -> None:
    """A micro-grid on 1栋 (where resident-a lives) with its worker, and the firm as a handling unit."""
    from deliberation.grids import services
    from deliberation.grids.models import GridLevel, UnitKind
    from tests.factories import building, make_user

    with live_app.app_context():
        community = db.session.scalar(select(Community).where(Community.slug == "taoyuan"))
        if services.community_grid(community) is not None:
            return
        admin = db.session.scalar(User.by_login("office"))
        root = services.create_grid(community, level=GridLevel.community, name="桃源社区网格", actor=admin)
        estate = next(e for e in community.estates if e.name == "桃源村一区")
        area = services.create_grid(community, level=GridLevel.area, name="一区网格", parent=root, estate=estate,
                                    actor=admin)
        micro = services.create_grid(community, level=GridLevel.micro, name="一区1栋", parent=area, actor=admin)
        services.set_buildings(micro, [building(community, "1栋")], actor=admin)
        worker = make_user(login="grid-worker", display_name="网格员 周敏", password=WORKER_PASSWORD)
        services.assign_worker(micro, worker, contact_phone="13800000021", actor=admin)
        firm = db.session.scalar(select(Organisation).where(Organisation.name == FIRM_NAME))
        services.create_unit(community, kind=UnitKind.property_firm, organisation=firm, actor=admin)
        db.session.commit()


def firm_row(page):
    return page.get_by_test_id("ranking-units").get_by_test_id("ranking-row").filter(has_text=FIRM_NAME)


def test_request_from_phone_to_ranking(page, live_app, artifacts, tmp_path):
    _seed_grids(live_app)
    page.goto("/c/taoyuan/requests/ranking")
    expect(page.get_by_test_id("rate-definitions")).to_be_visible()
    before = firm_row(page).inner_text()

    # The resident files a request with a photo from the phone.
    log_in(page, "resident-a", EVAL_PASSWORD)
    page.goto("/c/taoyuan/requests/new")
    page.locator("select[name=type]").select_option("help")
    page.locator("select[name=category]").select_option("repairs")
    page.locator("select[name=place]").select_option(label="1栋")
    page.locator("textarea[name=text]").fill("1栋三单元楼道灯坏了，晚上很黑。")
    photo = tmp_path / "灯.jpg"
    photo.write_bytes(jpeg_bytes())
    page.locator("input[name=photos]").set_input_files(str(photo))
    page.get_by_test_id("submit-request").click()
    expect(page.get_by_test_id("sign-request")).to_have_count(0)
    request_url = page.url
    snap(page, artifacts, "requests-1-filed")
    log_out(page)

    # The grid worker signs for it and whistles it to the property firm.
    log_in(page, "grid-worker", WORKER_PASSWORD)
    page.goto(request_url)
    page.get_by_test_id("sign-request").click()
    page.locator("summary").filter(has_text="吹哨").click()
    page.locator("select[name=unit]").select_option(label=f"{FIRM_NAME}（物业服务企业）")
    page.get_by_test_id("whistle-request").click()
    expect(page.locator("main")).to_contain_text(f"已向{FIRM_NAME}吹哨")
    log_out(page)

    # The firm's representative signs for the firm and answers.
    log_in(page, "firm-rep", EVAL_PASSWORD)
    page.goto(request_url)
    page.get_by_test_id("unit-sign-request").click()
    page.locator("textarea[name=answer]").fill("已更换楼道灯泡。")
    confirm_click(page.get_by_test_id("answer-request"))
    expect(page.get_by_test_id("answer-request")).to_have_count(0)
    log_out(page)

    # The resident says it was resolved and rates it 5.
    log_in(page, "resident-a", EVAL_PASSWORD)
    page.goto(request_url)
    page.locator("input[name=resolved][value=yes]").check()
    page.locator("input[name=satisfaction][value='5']").check()
    confirm_click(page.get_by_test_id("rate-request"))
    expect(page.get_by_test_id("rate-request")).to_have_count(0)
    snap(page, artifacts, "requests-2-rated")

    # The ranking moves: the firm now has a resolution and a satisfaction rate.
    page.goto("/c/taoyuan/requests/ranking")
    after = firm_row(page).inner_text()
    assert after != before
    expect(firm_row(page)).to_contain_text("100.0%")
    expect(firm_row(page)).to_contain_text("1/1")
    snap(page, artifacts, "requests-3-ranking")
