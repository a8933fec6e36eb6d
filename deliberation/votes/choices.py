"""What a ballot chose, for every ballot type: reading it from a form, checking it against the round's
rules, storing it, and saying it in words.

A ballot's stored choices (`Ballot.choices`, the sealed web ballot, the public list) are one JSON list:
- approval and k-approval: the approved project ids, ascending;
- cumulative: `[project id, points]` pairs with points > 0, by project id;
- ranked: the ranked project ids, best first.
A paper keying (`PaperEntry.choices`) stores what the sheet says, even when it breaks the rules, so that
two keyings can be compared: approval as above, cumulative as above (any whole points), ranked as
`[project id, rank]` pairs by rank then id (two projects may share a rank on a spoiled sheet).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from deliberation.core.errors import DomainError
from deliberation.core.inputs import bounded_int
from deliberation.proposals.models import BallotType, Round

NOT_ON_BALLOT = _l("The ballot names a project that is not on the ballot.")


def is_approval(round_: Round) -> bool:
    return round_.ballot_type in (BallotType.approval, BallotType.k_approval)


def field_prefix(round_: Round) -> str:
    """The form field (approval: `choices`, many values) or field-name prefix (`points-<id>`, `rank-<id>`)."""
    return {BallotType.cumulative: "points-", BallotType.ranked: "rank-"}.get(round_.ballot_type, "choices")


def from_form(round_: Round, formdata: MultiDict, *, prefix: str = ""):
    """The raw choices a posted ballot (or paper sheet, with prefix "sheet-") holds: a list of ids for
    approval ballots, {project id text: value text} for points and ranks (blank fields left out)."""
    if is_approval(round_):
        return formdata.getlist(prefix + "choices")
    start = prefix + field_prefix(round_)
    return {key[len(start):]: value.strip() for key, value in formdata.items()
            if key.startswith(start) and value and value.strip()}


@dataclass
class BallotCheck:
    chosen: list  # the chosen proposals (or `ballot_options` rows): by id, or best first when ranked
    total_cost: int
    problems: list = field(default_factory=list)
    stored: list = field(default_factory=list)  # the ballot as stored (see the module's docstring)
    values: dict = field(default_factory=dict)  # project id → points or rank, as entered (text), to refill
    points_used: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def ids(self) -> set[int]:
        return {p.id for p in self.chosen}

    def hidden_fields(self, round_: Round) -> list[tuple[str, str]]:
        """The (name, value) pairs that post this ballot again (the confirmation page's buttons)."""
        if is_approval(round_):
            return [("choices", str(p.id)) for p in self.chosen]
        if round_.ballot_type == BallotType.cumulative:
            return [(f"points-{pid}", str(points)) for pid, points in self.stored]
        return [(f"rank-{pid}", str(rank)) for rank, pid in enumerate(self.stored, start=1)]


def _id(raw) -> int | None:
    try:
        return bounded_int(raw)
    except (TypeError, ValueError):
        return None


def _pairs(choices) -> list[tuple[object, object]]:
    """(project id, value) pairs from a mapping or a list of pairs; anything else is no pair."""
    if isinstance(choices, Mapping):
        return list(choices.items())
    pairs = []
    for item in choices or ():
        if isinstance(item, list | tuple) and len(item) == 2:
            pairs.append((item[0], item[1]))
        else:
            pairs.append((item, None))
    return pairs


def check(round_: Round, choices, items: list) -> BallotCheck:
    """Apply the round's ballot rules to raw choices (see `from_form`, or a stored ballot); say what is
    wrong, if anything. `items` are the ballot's proposals, or `ballot_options` rows."""
    by_id = {p.id: p for p in items}
    if round_.ballot_type == BallotType.cumulative:
        return _check_points(round_, choices, by_id)
    if round_.ballot_type == BallotType.ranked:
        return _check_ranks(round_, choices, by_id)
    return _check_approvals(round_, choices, by_id)


def _check_approvals(round_: Round, choices, by_id: dict) -> BallotCheck:
    wanted, problems = set(), []
    if isinstance(choices, Mapping | str):
        choices = []
        problems.append(NOT_ON_BALLOT)
    for raw in choices or ():
        number = _id(raw)
        if number is None:
            problems.append(NOT_ON_BALLOT)
        else:
            wanted.add(number)
    if wanted - by_id.keys():
        problems.append(NOT_ON_BALLOT)
    chosen = [by_id[i] for i in sorted(wanted & by_id.keys())]
    total = sum(p.cost for p in chosen)
    if round_.max_approvals is not None and len(wanted) > round_.max_approvals:
        problems.append(_l("You may choose at most %(n)d projects; you chose %(k)d.",
                           n=round_.max_approvals, k=len(wanted)))
    if round_.must_fit_budget and total > round_.budget:
        problems.append(_l("The chosen projects cost %(total)s yuan, more than the budget of %(budget)s yuan.",
                           total=f"{total:,}", budget=f"{round_.budget:,}"))
    return BallotCheck(chosen, total, list(dict.fromkeys(problems)), stored=[p.id for p in chosen])


def _check_points(round_: Round, choices, by_id: dict) -> BallotCheck:
    problems, points, values = [], {}, {}
    for raw_id, raw_points in _pairs(choices):
        pid = _id(raw_id)
        if pid is None or pid not in by_id:
            problems.append(NOT_ON_BALLOT)
            continue
        values[pid] = "" if raw_points is None else str(raw_points)
        number = _id(raw_points)
        if number is None or number < 0:
            problems.append(_l("Points are whole numbers from 0 up."))
        elif number:
            points[pid] = points.get(pid, 0) + number
    cap, total_points = round_.points_per_project, round_.points_total
    over = [by_id[pid].title for pid, n in sorted(points.items()) if cap is not None and n > cap]
    if over:
        problems.append(_l("At most %(m)d points may go to one project (%(titles)s).", m=cap,
                           titles="、".join(over)))
    used = sum(points.values())
    if total_points is not None and used > total_points:
        problems.append(_l("The ballot gives %(used)d points; at most %(n)d points may be spread.",
                           used=used, n=total_points))
    chosen = [by_id[pid] for pid in sorted(points)]
    return BallotCheck(chosen, sum(p.cost for p in chosen), list(dict.fromkeys(problems)),
                       stored=[[pid, points[pid]] for pid in sorted(points)], values=values, points_used=used)


def _check_ranks(round_: Round, choices, by_id: dict) -> BallotCheck:
    problems, ranks, values = [], {}, {}
    pairs = _pairs(choices)
    if pairs and all(value is None for _pid, value in pairs):  # a stored ballot: ids best first
        pairs = [(pid, rank) for rank, (pid, _none) in enumerate(pairs, start=1)]
    k = round_.max_approvals
    for raw_id, raw_rank in pairs:
        pid = _id(raw_id)
        if pid is None or pid not in by_id:
            problems.append(NOT_ON_BALLOT)
            continue
        values[pid] = "" if raw_rank is None else str(raw_rank)
        rank = _id(raw_rank)
        if rank is None or rank < 1 or (k is not None and rank > k):
            problems.append(_l("Ranks go from 1 (best) to %(k)d.", k=k or len(by_id)))
        else:
            ranks[pid] = rank
    taken = sorted(ranks.values())
    if len(taken) != len(set(taken)):
        problems.append(_l("Two projects have the same rank: give each ranked project its own rank."))
    order = sorted(ranks, key=lambda pid: (ranks[pid], pid))
    chosen = [by_id[pid] for pid in order]
    return BallotCheck(chosen, sum(p.cost for p in chosen), list(dict.fromkeys(problems)), stored=order,
                       values=values)


def keyed(round_: Round, choices) -> list:
    """What one keying of a paper sheet says, stored so that two keyings compare equal exactly when they
    agree; refuses text where a number belongs (the sheet's problems are judged later, by `check`)."""
    if is_approval(round_):
        return sorted({int(c) for c in (choices or []) if str(c).isdigit() and _id(c) is not None})
    pairs = []
    for raw_id, raw_value in _pairs(choices):
        pid, value = _id(raw_id), _id(raw_value)
        if pid is None or value is None or value < 0:
            raise DomainError(_l("Key whole numbers only, as written on the sheet."), field="choices",
                              status_code=422)
        if value:
            pairs.append([pid, value])
    if round_.ballot_type == BallotType.ranked:
        return sorted(pairs, key=lambda pair: (pair[1], pair[0]))
    return sorted(pairs)


def same(a: list, b: list) -> bool:
    return json.dumps(a) == json.dumps(b)


def capacity(round_: Round, options: int) -> int:
    """The longest sealed ballot of a round with this many options: a receipt hash and every id (with
    its points on a cumulative ballot). One length per round: every ballot is padded to it."""
    per_option = 12
    if round_.ballot_type == BallotType.cumulative:
        per_option += 4 + len(str(round_.points_per_project or round_.points_total or 0))
    return 96 + per_option * options


def lines(round_: Round, choices: list, titles: dict) -> list[str]:
    """A stored ballot or a keying, one line per chosen project, in the interface language."""
    def title(pid) -> str:
        return titles.get(pid, f"#{pid}")

    if is_approval(round_):
        return [title(pid) for pid in choices]
    if round_.ballot_type == BallotType.cumulative:
        return [str(_l("%(title)s: %(n)d points", title=title(pid), n=n)) for pid, n in choices]
    if choices and isinstance(choices[0], list):  # a keying: [id, rank] pairs
        return [str(_l("%(rank)d. %(title)s", rank=rank, title=title(pid))) for pid, rank in choices]
    return [str(_l("%(rank)d. %(title)s", rank=rank, title=title(pid))) for rank, pid in enumerate(choices, 1)]


def csv_text(round_: Round, choices: list) -> str:
    """A stored ballot in the public CSV: ids (ranked: best first), or id:points on a cumulative ballot."""
    if round_.ballot_type == BallotType.cumulative:
        return ",".join(f"{pid}:{n}" for pid, n in choices)
    return ",".join(str(pid) for pid in choices)
