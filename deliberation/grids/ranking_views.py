"""The public monthly ranking of handling units and grids on the three rates, their trends, the
exports of requests and rates, and 每月一题 (the month's topic)."""

from __future__ import annotations

from flask import abort, flash, make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from deliberation.communities.loaders import get_community
from deliberation.communities.models import Community
from deliberation.core import permissions as perm
from deliberation.core.errors import DomainError
from deliberation.core.forms import fail_form, form_status
from deliberation.core.htmx import redirect_to, render_page
from deliberation.core.models import utcnow
from deliberation.core.permissions import require
from deliberation.extensions import db
from deliberation.grids import exports, topics
from deliberation.grids import rates as r
from deliberation.grids.chart import trend_chart
from deliberation.grids.forms import TopicForm
from deliberation.grids.loaders import get_grid, get_unit
from deliberation.grids.models import Grid, GridLevel, RequestCategory
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


# --- 每月一题 --------------------------------------------------------------------------------------

def _topic_form_choices(form: TopicForm, community: Community) -> None:
    grids = db.session.scalars(select(Grid).where(Grid.community_id == community.id,
                                                  Grid.level.in_((GridLevel.micro, GridLevel.special)))
                               .order_by(Grid.name)).all()
    form.grid.choices = [SelectChoice("", _("The whole community"))] + [SelectChoice(g.id, g.name) for g in grids]


@bp.route("/requests/topics/choose", methods=["GET", "POST"])
@login_required
def choose_topic(slug: str):
    """The office sees the month's most frequent categories by grid and makes one the month's topic."""
    community = get_community(slug)
    require(perm.can_choose_monthly_topic(current_user, community))
    month = _month()
    form = TopicForm(month=month)
    _topic_form_choices(form, community)
    if form.is_submitted() and form.validate():
        try:
            grid = get_grid(community, form.grid.data) if form.grid.data else None
            topic = topics.choose(community, form.month.data, category=RequestCategory(form.category.data),
                                  grid=grid, note=form.note.data or "", actor=current_user)
        except DomainError as error:
            fail_form(form, error)
        else:
            db.session.commit()
            flash(_("The month's topic is chosen."), "success")
            return redirect_to(url_for("grids.topic", slug=slug, month=topic.month))
    return render_page("grids/topic_choose.html", "grids/topic_choose.html", community=community, form=form,
                       frequent=topics.frequent_categories(community, month), current=topics.topic_of(community, month),
                       status_code=form_status(form), **_navigation(month))


@bp.get("/requests/topics")
def topic_list(slug: str):
    """Every month's topic (每月一题), newest first."""
    community = get_community(slug)
    return render_page("grids/topics.html", "grids/topics.html", community=community,
                       topics=topics.topics(community))


@bp.get("/requests/topics/<month>")
def topic(slug: str, month: str):
    """A month's topic and its requests followed to resolution, anonymised."""
    community = get_community(slug)
    if not r.valid_month(month):
        abort(404)
    chosen = topics.topic_of(community, month)
    if chosen is None:
        abort(404)
    requests, progress = topics.topic_requests(chosen)
    return render_page("grids/topic.html", "grids/topic.html", community=community, topic=chosen,
                       requests=requests, progress=progress, public=True)
