"""The public monthly ranking of handling units and grids on the three rates, their trends, and the
exports of requests and rates."""

from __future__ import annotations

from flask import abort, make_response, request
from flask_login import current_user, login_required

from deliberation.communities.loaders import get_community
from deliberation.communities.models import Community
from deliberation.core import permissions as perm
from deliberation.core.htmx import render_page
from deliberation.core.models import utcnow
from deliberation.core.permissions import require
from deliberation.grids import exports
from deliberation.grids import rates as r
from deliberation.grids.chart import trend_chart
from deliberation.grids.loaders import get_grid, get_unit
from deliberation.grids.views import bp


def _month() -> str:
    """The `month` parameter ("YYYY-MM"), or this month; anything else is a 404."""
    value = request.args.get("month")
    if value is None or value == "":
        return r.current_month()
    if not r.valid_month(value):
        abort(404)
    return value


def _navigation(month: str) -> dict:
    this = r.current_month()
    return dict(month=month, previous_month=r.shift(month, -1),
                next_month=r.shift(month, 1) if month < this else None, percent=r.percent)


@bp.get("/requests/ranking")
def ranking(slug: str):
    """Units and grids ranked on the month's three rates, with the community's trend and the definitions."""
    community = get_community(slug)
    month = _month()
    result = r.ranking(community, month)
    return render_page("grids/ranking.html", "grids/ranking.html", community=community, ranking=result,
                       chart=trend_chart(result.community), **_navigation(month))


def _trend_page(community: Community, subject, trend, month: str, kind: str):
    return render_page("grids/trend.html", "grids/trend.html", community=community, subject=subject, kind=kind,
                       trend=trend, overall=r.total(trend), chart=trend_chart(trend), **_navigation(month))


@bp.get("/requests/ranking/units/<int:unit_id>")
def unit_trend(slug: str, unit_id: int):
    """One unit's three rates month by month."""
    community = get_community(slug)
    unit = get_unit(community, unit_id)
    month = _month()
    return _trend_page(community, unit, r.unit_trend(unit, month), month, "unit")


@bp.get("/requests/ranking/grids/<int:grid_id>")
def grid_trend(slug: str, grid_id: int):
    """One grid's three rates month by month."""
    community = get_community(slug)
    grid = get_grid(community, grid_id)
    month = _month()
    return _trend_page(community, grid, r.grid_trend(grid, month), month, "grid")


def _download(data: bytes, fmt: str, name: str):
    response = make_response(data)
    if fmt == "csv":
        response.mimetype = "text/csv"
        response.charset = "utf-8"
    else:
        response.mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response.headers["Content-Disposition"] = f"attachment; filename={name}.{fmt}"
    return response


@bp.get("/requests/ranking/export.<fmt>")
def export_rates(slug: str, fmt: str):
    """The month's rates of every unit and grid with their trend: public, like the ranking page."""
    community = get_community(slug)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    month = _month()
    rows = exports.rate_rows(r.ranking(community, month))
    data = (exports.to_csv(exports.RATE_HEADERS, rows) if fmt == "csv"
            else exports.to_xlsx("三率", exports.RATE_HEADERS, rows))
    return _download(data, fmt, f"rates-{community.slug}-{month}")


@bp.get("/requests/export.<fmt>")
@login_required
def export_requests(slug: str, fmt: str):
    """The month's requests for the office, without anything that tells who asked."""
    community = get_community(slug)
    require(perm.can_export_requests(current_user, community))
    if fmt not in ("csv", "xlsx"):
        abort(404)
    month = _month()
    rows = exports.request_rows(exports.requests_of_month(community, month))
    data = (exports.to_csv(exports.REQUEST_HEADERS, rows) if fmt == "csv"
            else exports.to_xlsx("诉求", exports.REQUEST_HEADERS, rows))
    return _download(data, fmt, f"requests-{community.slug}-{month}-{utcnow():%Y%m%d}")
