"""One navigation per page, one row on a phone: the office's pages (grids/manage showed the administration
nav and the requests nav stacked, five rows of links before the title), the requests pages and the branch's.
The links beyond the first row sit under 更多 (a <details>, no JavaScript) and every one stays reachable."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.conftest import login_as

OFFICE_LINKS = {  # every page of the office's work, reachable from any office page's navigation
    "/c/taoyuan/admin", "/c/taoyuan/admin/residents", "/c/taoyuan/admin/roll", "/c/taoyuan/admin/roles",
    "/c/taoyuan/admin/places", "/c/taoyuan/admin/organisations", "/c/taoyuan/grids/manage",
    "/c/taoyuan/requests/queue", "/c/taoyuan/requests/enter",
}


SECTION_NAVS = {"社区管理", "诉求", "党组织"}  # aria-labels of the areas' navigations (not pagers, months, paths)


class SectionNavs(HTMLParser):
    """The areas' <nav>s in <main>: for each, the links in its first row and those under 更多."""

    def __init__(self):
        super().__init__()
        self.in_main = False
        self.navs: list[dict] = []
        self.nav_depth = 0
        self.in_more = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "main":
            self.in_main = True
        elif not self.in_main:
            return
        elif tag == "nav" and attrs.get("aria-label") in SECTION_NAVS:
            self.navs.append({"row": [], "more": []})
            self.nav_depth += 1
        elif tag == "details" and self.nav_depth:
            self.in_more += 1
        elif tag == "a" and self.nav_depth:
            self.navs[-1]["more" if self.in_more else "row"].append(attrs["href"])

    def handle_endtag(self, tag):
        if tag == "nav" and self.nav_depth:
            self.nav_depth -= 1
        elif tag == "details" and self.in_more:
            self.in_more -= 1


def section_navs(html: str) -> list[dict]:
    parser = SectionNavs()
    parser.feed(html)
    return parser.navs


OFFICE_PAGES = ["/c/taoyuan/grids/manage", "/c/taoyuan/admin", "/c/taoyuan/admin/residents", "/c/taoyuan/admin/roll",
                "/c/taoyuan/admin/roles", "/c/taoyuan/admin/places", "/c/taoyuan/admin/organisations"]


@pytest.mark.parametrize("path", OFFICE_PAGES)
def test_an_office_page_has_one_navigation_row_and_every_office_link_under_it(client, world, path):
    login_as(client, world.admin)
    response = client.get(path)
    assert response.status_code == 200
    navs = section_navs(response.get_data(as_text=True))
    assert len(navs) == 1, navs
    nav = navs[0]
    assert len(nav["row"]) <= 3, nav  # one row on a 360 px phone, then 更多
    assert path in nav["row"], nav  # the page's own link is in the row
    assert set(nav["row"]) | set(nav["more"]) >= OFFICE_LINKS, OFFICE_LINKS - set(nav["row"]) - set(nav["more"])


@pytest.mark.parametrize("path", ["/c/taoyuan/requests/queue", "/c/taoyuan/requests", "/c/taoyuan/grids",
                                  "/c/taoyuan/requests/ranking", "/c/taoyuan/requests/enter"])
def test_a_requests_page_shows_the_office_one_navigation_row(client, world, path):
    login_as(client, world.admin)
    response = client.get(path)
    assert response.status_code == 200
    navs = section_navs(response.get_data(as_text=True))
    assert len(navs) == 1 and len(navs[0]["row"]) <= 3, navs
    assert path in navs[0]["row"], navs
    reachable = set(navs[0]["row"]) | set(navs[0]["more"])
    assert {"/c/taoyuan/requests/queue", "/c/taoyuan/requests/enter", "/c/taoyuan/requests", "/c/taoyuan/grids",
            "/c/taoyuan/requests/ranking", "/c/taoyuan/grids/manage"} <= reachable, reachable


def test_a_resident_sees_filing_first_and_the_rest_under_more(client, world):
    login_as(client, world.resident)
    navs = section_navs(client.get("/c/taoyuan/requests").get_data(as_text=True))
    assert len(navs) == 1
    assert navs[0]["row"][0] == "/c/taoyuan/requests/new"
    assert "/c/taoyuan/requests/queue" not in navs[0]["row"] + navs[0]["more"]
    assert "/c/taoyuan/requests/ranking" in navs[0]["row"] + navs[0]["more"]
