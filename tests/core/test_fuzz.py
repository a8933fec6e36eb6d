"""Every POST route of the app, as every role, with hostile input: never a 5xx, nothing half-saved.

The routes come from app.url_map. Field names come from the WTForms forms each view uses (found in the
view's code) and from the forms on the pages that show them (dynamic fields such as one score per
criterion). Each request starts from the values a page would send and spoils them: numbers no column
can hold, negative numbers, very long strings, control characters, markup, unknown choices, missing
fields. When a request is refused (4xx, or sent to log in), every table keeps its row count.
The seed is fixed, so a failure replays exactly.
"""

from __future__ import annotations

import inspect
import io
import random
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from flask_wtf import FlaskForm
from sqlalchemy import func, literal, select, union_all
from wtforms.fields.core import UnboundField

from deliberation.communities import services as community_services
from deliberation.communities.models import Role
from deliberation.consultations import services as sessions
from deliberation.evaluations import services as evaluation_services
from deliberation.extensions import db
from deliberation.grids import requests as handling
from deliberation.grids import services as grid_services
from deliberation.notifications.mail import unsubscribe_token
from deliberation.notifications.models import OutboxMessage
from deliberation.proposals import services as proposal_services
from deliberation.proposals.models import RoundPhase
from tests.conftest import login_as
from tests.councils.factories import make_council, make_session, start
from tests.evaluations.factories import default_rubric, make_evaluation, make_organisation, make_survey
from tests.factories import make_user
from tests.grids.factories import answered as answered_request_of
from tests.grids.factories import file as file_request
from tests.grids.factories import make_grids
from tests.proposals.factories import make_proposal, make_round, move_to

ROLES = ["anonymous", "unverified", "resident", "secretary", "party", "admin", "org_rep", "site_admin"]
MISSING_ID = 2_147_483_000  # fits a column, names nothing

SPOILERS = {
    "huge": lambda rng: "9" * 20,
    "negative_huge": lambda rng: "-1" + "0" * 20,
    "negative": lambda rng: "-1",
    "long": lambda rng: "长" * 6000 + "x" * 6000,
    "control": lambda rng: "\x00\x07\x1b[31m\u202e\ufeff\r\n测试\x0b",
    "markup": lambda rng: "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>{{ 7*7 }}{% raw %}",
    "unknown_choice": lambda rng: "no-such-choice",
    "bad_date": lambda rng: "2026-13-45",
    "zero": lambda rng: "0",
}
NUMERIC_KINDS = {"huge", "negative_huge", "negative", "zero"}
FILE_FIELDS = {"photo", "photos", "file"}


# --- the scene --------------------------------------------------------------------------

@dataclass
class Scene:
    users: dict
    ids: dict[str, list[int]]


def build_scene(world) -> Scene:
    """Objects of every kind the routes name, in the states their forms need."""
    w = world
    firm = make_organisation(w.community, actor=w.admin)
    org_rep = make_user(login="firm-rep")
    community_services.grant_role(w.community, user=org_rep, role=Role.org_rep, actor=w.admin, organisation=firm)
    spare = community_services.grant_role(w.community, user=make_user(login="spare"), role=Role.council_member,
                                          actor=w.admin)
    collecting = make_round(w.community, w.secretary)
    proposal = make_proposal(collecting, w.resident)
    comment = proposal_services.add_comment(proposal, w.resident, body="好主意")
    voting = make_round(w.community, w.secretary, title="投票轮", budget=100_000, project_cap=100_000)
    on_ballot = [make_proposal(voting, w.resident, title=t, cost=c) for t, c in [("坡道", 60_000), ("路灯", 30_000)]]
    move_to(voting, RoundPhase.voting, w.secretary, party=w.party)
    council = make_council(w.community, w.admin, members=3, seat_users=[w.resident])
    running = make_session(w.community, w.secretary, council, items=2)
    start(running, w.secretary)
    sessions.sign_in(running, w.resident)
    slot = sessions.request_to_speak(running, w.resident)
    motion = sessions.open_motion(running.items[0], text="同意", actor=w.secretary)
    published = make_session(w.community, w.secretary, council, items=1, title="已结束的会议")
    start(published, w.secretary)
    sessions.adjourn_session(published, actor=w.secretary)
    sessions.publish_minutes(published, summary="纪要", actor=w.secretary)
    survey = make_survey(firm, actor=w.party)
    evaluation = make_evaluation(firm, actor=w.party)
    rubric = evaluation_services.copy_rubric(default_rubric(w.community), actor=w.party)
    g = make_grids(w, firm=firm, firm_rep=org_rep)
    grid_services.add_party_member(g.micro, w.party, actor=w.admin)
    new_request, answered_request = file_request(w), answered_request_of(w, g)
    whistled = file_request(w)
    handling.sign(whistled, actor=g.worker)
    handling.whistle(whistled, g.street, actor=g.worker)
    users = {role: (None if role == "anonymous" else getattr(w, role, None)) for role in ROLES}
    users["org_rep"] = org_rep
    return Scene(users, {
        "round_id": [collecting.id, voting.id], "proposal_id": [proposal.id, on_ballot[0].id],
        "comment_id": [comment.id], "session_id": [running.id, published.id],
        "item_id": [running.items[0].id, published.items[0].id], "motion_id": [motion.id], "slot_id": [slot.id],
        "council_id": [council.id], "member_id": [council.members[-1].id], "organisation_id": [firm.id],
        "rubric_id": [rubric.id], "survey_id": [survey.id], "evaluation_id": [evaluation.id],
        "residency_id": [w.pending.id], "grant_id": [spare.id],
        "objection_id": [MISSING_ID], "entry_id": [MISSING_ID], "photo_id": [MISSING_ID],
        "participation_id": [MISSING_ID],
        "message_id": [db.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.community_id == w.community.id).limit(1)) or MISSING_ID],
        "token": [unsubscribe_token(w.resident.id, "voting_opened")],
        "grid_id": [g.micro.id, g.area.id], "unit_id": [g.street.id, g.firm_unit.id],
        "worker_id": [g.micro.workers[0].id], "user_id": [w.party.id, g.street_rep.id],
        "request_id": [new_request.id, answered_request.id, whistled.id],
    })


# --- what a route's form holds ------------------------------------------------------------

class FormParser(HTMLParser):
    """Forms of a page: action -> {field name: [values a browser could send]}."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: dict[str, dict[str, list[str]]] = {}
        self._form: dict[str, list[str]] | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self._form = self.forms.setdefault((a.get("action") or "").split("?")[0], {})
        elif self._form is None:
            return
        elif tag == "option" and self._select:
            self._form[self._select].append(a.get("value") or "")
        elif not a.get("name") or a["name"] == "csrf_token":
            return
        elif tag == "input" and a.get("type") not in ("submit", "button"):
            self._form.setdefault(a["name"], []).append(a.get("value") or "")
        elif tag == "select":
            self._select = a["name"]
            self._form.setdefault(a["name"], [])
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form.setdefault(a["name"], [""])
        elif tag == "button" and a.get("value"):
            self._form.setdefault(a["name"], []).append(a["value"])

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form[self._textarea] = [data]

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)


def forms_on(html: str) -> dict[str, dict[str, list[str]]]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


def wtforms_fields(view) -> set[str]:
    """Field names of the FlaskForm classes a view (or a helper of its module) names, and the
    request.form keys it reads directly."""
    view = inspect.unwrap(view)
    names: set[str] = set()
    functions = [view.__code__]
    for name in view.__code__.co_names:
        helper = view.__globals__.get(name)
        if inspect.isfunction(helper) and helper.__module__ == view.__module__:
            functions.append(helper.__code__)
    for code in functions:
        for name in code.co_names:
            cls = view.__globals__.get(name)
            if inspect.isclass(cls) and issubclass(cls, FlaskForm):
                names |= {n for n in dir(cls) if isinstance(getattr(cls, n, None), UnboundField)}
    source = inspect.getsource(view)
    names |= set(re.findall(r'request\.form(?:\.get\(|\[|, )"([\w-]+)"', source))
    names |= set(re.findall(r'int_param\(request\.form, "([\w-]+)"', source))
    return names


# --- requests -----------------------------------------------------------------------------

def table_counts() -> dict[str, int]:
    counts = union_all(*(select(literal(name), func.count()).select_from(table)
                         for name, table in sorted(db.metadata.tables.items())))
    return dict(db.session.execute(counts).all())


def sign(client, user) -> None:
    if user is None:
        with client.session_transaction() as session:
            session.pop("_user_id", None)
    else:
        login_as(client, user)


def spoil(rng: random.Random, fields: dict[str, list[str]], kind: str) -> dict:
    """The page's values with the fields spoiled by `kind` (one field, or all of them when the
    route has no page to start from); `missing` drops fields instead."""
    data: dict = {name: (values[:2] if len(set(values)) > 1 and name.endswith(("choices", "funded", "winners",
                                                                               "estates"))
                         else (values[0] if values else ""))
                  for name, values in fields.items()}
    names = sorted(fields)
    if not names:
        return data
    if kind == "missing":
        for name in rng.sample(names, k=max(1, len(names) // 2)):
            del data[name]
        return data
    if kind == "as_is":
        return data
    numeric = [n for n in names if any(re.fullmatch(r"-?[\d,]+", v or "") for v in fields[n])]
    if all(not v for v in fields.values()):  # no page to start from: spoil every field
        targets = names
    elif kind in NUMERIC_KINDS and numeric:
        targets = rng.sample(numeric, k=min(len(numeric), rng.randint(1, 2)))
    else:
        targets = rng.sample(names, k=min(len(names), rng.randint(1, 3)))
    for name in targets:
        value = SPOILERS[kind](rng)
        if name in FILE_FIELDS:
            data[name] = (io.BytesIO(value.encode()), "photo.png")
        elif isinstance(data.get(name), list):
            data[name] = [value, SPOILERS["huge"](rng)]
        else:
            data[name] = value
    return data


@dataclass
class Fuzzer:
    client: object
    scene: Scene
    rng: random.Random
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    counts: dict[str, int] | None = None

    def url(self, rule, role_index: int) -> str | None:
        values = {}
        for arg in rule.arguments:
            if arg == "slug":
                values[arg] = "taoyuan"
            elif arg == "action":
                options = sorted(rule._converters[arg].items)
                values[arg] = options[role_index % len(options)]
            elif arg in self.scene.ids:
                candidates = self.scene.ids[arg]
                values[arg] = candidates[role_index % len(candidates)]
            else:
                return None
        return rule.build(values, append_unknown=False)[1]

    def post(self, label: str, url: str, user, data: dict) -> int | None:
        """Send one request; record a 5xx or a refusal that changed rows. The status, or None on a crash."""
        sign(self.client, user)
        before = self.counts or table_counts()  # GET requests in between change nothing
        self.requests += 1
        self.counts = None
        try:
            response = self.client.post(url, data=data, content_type="multipart/form-data")
        except Exception as error:  # noqa: BLE001 (any exception is the 500 a user would see)
            db.session.rollback()
            self.failures.append(f"{label} {url}: {type(error).__name__}: {str(error)[:300]}")
            return None
        if response.status_code >= 500:
            self.failures.append(f"{label} {url}: {response.status_code}")
            return response.status_code
        self.counts = after = table_counts()
        refused = response.status_code >= 400 or "/login" in response.headers.get("Location", "")
        if refused:
            changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
            if changed:
                self.failures.append(f"{label} {url}: {response.status_code} but rows changed {changed}")
        return 302 if "/login" in response.headers.get("Location", "") else response.status_code


def crawl_forms(app, client, fuzzer, privileged) -> dict[str, dict[str, list[str]]]:
    """Every form on every page of the scene (as the first of `privileged` who may see it), by action."""
    forms: dict[str, dict[str, list[str]]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        for url in {fuzzer.url(rule, 0), fuzzer.url(rule, 1)} - {None}:
            for user in privileged:
                sign(client, user)
                page = client.get(url)
                if page.status_code == 200 and page.mimetype == "text/html":
                    for action, found in forms_on(page.get_data(as_text=True)).items():
                        forms.setdefault(action or url, {}).update(found)
                    break
                if page.status_code not in (403, 302):
                    break
    return forms


def test_every_post_route_survives_hostile_input_as_every_role(app, client, world):
    scene = build_scene(world)
    db.session.commit()
    fuzzer = Fuzzer(client, scene, random.Random(20261130))
    kinds = sorted(SPOILERS) + ["missing"]
    privileged = [scene.users[r] for r in ("secretary", "admin", "party", "site_admin", "org_rep", "resident")]
    rules = sorted((r for r in app.url_map.iter_rules() if "POST" in r.methods), key=lambda r: r.rule)
    assert len(rules) > 60
    skipped = []
    forms = crawl_forms(app, client, fuzzer, privileged)
    for route_index, rule in enumerate(rules):
        view = app.view_functions[rule.endpoint]
        for role_index, role in enumerate(ROLES):
            url = fuzzer.url(rule, role_index)
            if url is None:
                skipped.append(rule.rule)
                break
            fields = {name: [] for name in wtforms_fields(view)} | forms.get(url, {})
            # Every role tries one kind of spoiled input; a role the route lets in also sends the page's
            # own values and numbers no column holds.
            for kind in (kinds[(route_index * 5 + role_index) % len(kinds)], "as_is", "huge"):
                data = spoil(fuzzer.rng, fields, kind)
                status = fuzzer.post(f"[{role}/{kind}] {rule.endpoint}", url, scene.users[role], data)
                if status in (None, 403, 404, 302, 405):
                    break
    assert not skipped, f"routes with arguments the scene cannot fill: {skipped}"
    assert fuzzer.requests >= 500
    assert not fuzzer.failures, "\n".join(fuzzer.failures)
