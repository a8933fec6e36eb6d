"""Read and write Pabulib `.pb` files (https://pabulib.org/format) of every vote type.

A file has three `;`-separated sections, each introduced by a line holding only its name:
META (key;value rows), PROJECTS (header row, then one row per project) and VOTES (header row,
then one row per voter, `vote` being comma-separated project ids, and for cumulative ballots
`points` the comma-separated points given to them, in the same order). Fields are read with the
csv module, so quoted names containing `;` or `"` survive. Columns beyond the standard ones are
kept in `extra` dicts so that a file read and written again carries the same data.

Text encoding. Files are decoded as UTF-8 (a byte-order mark is dropped). A file that is not
UTF-8 is decoded as Windows-1250 (cp1250, the Central European code page older Polish files use;
it also decodes the Latin-1 letters such files contain), else as ISO-8859-2 (latin-2), taking the
first that gives only ASCII, Latin letters and common punctuation (the letters where the two code
pages differ, such as ą and ś, decode to symbols in the wrong one); anything else (GBK, binary,
...) is refused with one error line rather than read as nonsense.

Amounts. Budget and costs may have decimals ("543715.64"). They are kept exact as ints of minor
units: `PbElection.scale` is 10 ** (the most decimal places among the budget and the costs), and
`PbElection.budget` and `PbProject.cost` are in units of 1 / scale. `unit` for the add-one
completion is then `scale` (one currency unit). Writing prints them back with that many places.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .count import (
    APPROVAL,
    CHOOSE_1,
    CUMULATIVE,
    EQUAL_SHARES,
    GREEDY_THRESHOLD,
    ORDINAL,
    RULES,
    VOTE_TYPES,
    ballot_utilities,
    count,
    scores_of,
)
from .explain import Outcome
from .greedy import greedy_ranking
from .model import Instance, Project

SECTIONS = ("meta", "projects", "votes")
PROJECT_COLUMNS = ("project_id", "cost", "votes", "score", "name", "selected")
VOTER_COLUMNS = ("voter_id", "vote", "points")

# The order pabulib-checker expects (pabulib_helpers/fields.py); keys it does not know go last.
META_ORDER = (
    "description", "country", "unit", "district", "subunit", "instance", "num_projects",
    "num_votes", "budget", "vote_type", "rule", "date_begin", "date_end", "min_length",
    "max_length", "min_sum_cost", "max_sum_cost", "min_points", "max_points", "min_sum_points",
    "max_sum_points", "default_score", "min_project_cost", "max_project_cost",
    "min_project_score_threshold", "neighborhoods", "subdistricts", "categories", "edition",
    "language", "currency", "fully_funded", "experimental", "comment", "acknowledgments",
    "leftover_budget", "budget_per_category", "budget_per_neighborhood",
    "min_length_per_category", "max_length_per_category", "min_sum_cost_per_category",
    "max_sum_cost_per_category",
)
PROJECT_ORDER = (
    "project_id", "cost", "votes", "score", "name", "category", "beneficiaries", "selected",
    "neighborhood", "subunit", "district", "description", "proposer", "public_id", "latitude",
    "longitude",
)
VOTER_ORDER = ("voter_id", "vote", "points", "age", "sex", "voting_method", "district",
               "neighborhood", "education")

# META keys pabulib-checker requires that only the caller of an export knows (dates in
# dd.mm.yyyy; the others are counted or given by election_from_ballots itself).
EXPORT_META = ("description", "country", "unit", "instance", "rule", "date_begin", "date_end")

# Names the platform and `flask tally` used before the Pabulib names.
RULE_ALIASES = {"equal_shares": EQUAL_SHARES}

MAX_DIGITS = 60  # far beyond any budget, cost or count; bounds the work of reading a number
MAX_DECIMALS = 6  # amounts are money: more decimal places than this is a broken file


class PbFormatError(ValueError):
    """The text is not a well-formed Pabulib file (or asks for something we cannot count)."""


@dataclass
class PbProject:
    """A PROJECTS row: standard columns typed, other columns kept verbatim in `extra`."""

    id: str
    cost: int
    """In units of 1 / PbElection.scale (whole currency units when scale is 1)."""
    name: str = ""
    votes: int | None = None
    """The file's own count of voters supporting the project (None when absent or empty)."""
    selected: int | None = None
    """1 if funded by the rule in the real election, 0 if not (2 or 3: funded from other money),
    None if unknown."""
    extra: dict[str, str] = field(default_factory=dict)
    score: int | None = None
    """The file's own score (points for cumulative, Borda points for ordinal), if given."""


@dataclass
class PbVoter:
    """A VOTES row: the voter id, the project ids in file order (best first for ordinal), the
    points given to them (cumulative only), other columns in `extra`."""

    id: str
    vote: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
    points: tuple[int, ...] | None = None


@dataclass
class PbElection:
    """A parsed `.pb` file."""

    meta: dict[str, str]
    projects: list[PbProject]
    voters: list[PbVoter]
    scale: int = 1
    """Minor units per currency unit of the budget and costs (10 ** decimal places)."""

    @property
    def vote_type(self) -> str:
        """META vote_type (approval when absent)."""
        return self.meta.get("vote_type", APPROVAL).strip().lower() or APPROVAL

    @property
    def budget(self) -> int:
        """The META budget in units of 1 / scale."""
        if "budget" not in self.meta:
            raise PbFormatError("META has no budget")
        return _scaled(parse_amount(self.meta["budget"], "META budget"), self.scale, "META budget")

    @property
    def ballots(self) -> list[Any]:
        """One ballot per voter, in the form `count` takes for the file's vote type."""
        vote_type = self.vote_type
        if vote_type == CUMULATIVE:
            return [_points_ballot(v) for v in self.voters]
        if vote_type == ORDINAL:
            return [tuple(v.vote) for v in self.voters]
        return [frozenset(v.vote) for v in self.voters]

    @property
    def instance(self) -> Instance:
        """Budget and projects in file order, ready for the counting rules."""
        return Instance(self.budget, [Project(p.id, p.cost, p.name) for p in self.projects])

    @property
    def selected_ids(self) -> set[str]:
        """Ids of the projects marked selected=1 in the file (funded by the rule itself)."""
        return {p.id for p in self.projects if p.selected == 1}

    def meta_int(self, key: str) -> int | None:
        """A whole-number META value, or None when the key is absent or empty."""
        return _optional_int(self.meta.get(key), f"META {key}")


def _points_ballot(voter: PbVoter) -> dict[str, int]:
    ballot: dict[str, int] = {}
    for pid, points in zip(voter.vote, voter.points or (), strict=True):
        ballot[pid] = ballot.get(pid, 0) + points
    return ballot


def parse_amount(text: str, what: str) -> Decimal:
    """A non-negative, finite decimal amount, exactly as written ("543715.64", "1e3")."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise PbFormatError(f"{what}: {text!r} is not a number") from None
    if not number.is_finite():
        raise PbFormatError(f"{what}: {text!r} is not a finite number")
    if number.adjusted() >= MAX_DIGITS:  # checked before any expansion: "1e999999999"
        raise PbFormatError(f"{what}: {text!r} is too large")
    if number < 0:
        raise PbFormatError(f"{what}: {text!r} is negative")
    return number


def _decimals(number: Decimal) -> int:
    """Decimal places actually used ("400000.0" uses none)."""
    if number == number.to_integral_value():
        return 0
    return -number.normalize().as_tuple().exponent  # type: ignore[operator]


def _scaled(number: Decimal, scale: int, what: str) -> int:
    value = number * scale
    if value != value.to_integral_value():
        raise PbFormatError(f"{what}: {number} has more decimal places than the file's costs")
    return int(value)


def parse_whole_number(text: str, what: str) -> int:
    """Parse "1000", "1000.0" or "1e3" exactly; fail loudly on anything non-integral."""
    number = parse_amount(text, what)
    if number != number.to_integral_value():
        raise PbFormatError(f"{what}: {text!r} is not a whole number")
    return int(number)


def format_amount(value: int, scale: int) -> str:
    """An amount in units of 1 / scale as a decimal string with the scale's places."""
    if scale == 1:
        return str(value)
    places = len(str(scale)) - 1
    whole, part = divmod(value, scale)
    return f"{whole}.{part:0{places}d}"


def _optional_int(text: str | None, what: str) -> int | None:
    """Whole number, or None for an absent/empty field."""
    if text is None or not text.strip():
        return None
    return parse_whole_number(text, what)


_SAFE_PUNCTUATION = set("\u00a0„”“’‘«»–—…°§·•€")


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM); else cp1250 or latin-2 if it gives only Latin letters (module doc)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        first_bad = error.start
    for encoding in ("cp1250", "iso-8859-2"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if all(ch.isascii() or ch in _SAFE_PUNCTUATION
               or (ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN")) for ch in text):
            return text
    raise PbFormatError(f"not UTF-8 text (byte {first_bad}) nor Central European (cp1250) text; "
                        "save the file as UTF-8")


def _load_text(source: str | Path | bytes) -> str:
    """Text itself when it has a newline; bytes are decoded; otherwise read it as a file path."""
    if isinstance(source, bytes):
        text = _decode(source)
    elif isinstance(source, str) and "\n" in source:
        text = source
    else:
        try:
            with open(source, "rb") as handle:
                text = _decode(handle.read())
        except OSError as error:
            raise PbFormatError(f"cannot read {source}: {error.strerror}") from None
    if "\x00" in text:
        raise PbFormatError("the file contains NUL bytes; it is not a text file")
    return text.removeprefix("\ufeff")


def _split_sections(text: str) -> dict[str, list[list[str]]]:
    """Group csv rows under their section name; blank rows are ignored."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    except csv.Error as error:
        raise PbFormatError(f"not a readable ;-separated file: {error}") from None
    for row in rows:
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) == 1 and row[0].strip().lower() in SECTIONS:
            name = row[0].strip().lower()
            if name in sections:
                raise PbFormatError(f"section {name.upper()} appears twice")
            current = sections[name] = []
            continue
        if current is None:
            raise PbFormatError(f"data before the META section: {row!r}"[:200])
        current.append(row)
    missing = [name.upper() for name in SECTIONS if name not in sections]
    if missing:
        raise PbFormatError(f"missing section(s): {', '.join(missing)}")
    return sections


def _records(rows: list[list[str]], section: str, required: Sequence[str]) -> list[dict[str, str]]:
    """Rows of a section as dicts keyed by its header; short rows are padded with ""."""
    if not rows:
        raise PbFormatError(f"{section} has no header row")
    header = [cell.strip() for cell in rows[0]]
    absent = [name for name in required if name not in header]
    if absent:
        raise PbFormatError(f"{section} header lacks {absent}")
    records = []
    for row in rows[1:]:
        if len(row) > len(header):
            raise PbFormatError(f"{section} row has more fields than the header: {row!r}"[:200])
        records.append(dict(zip(header, [*row, *[""] * (len(header) - len(row))], strict=True)))
    return records


def _parse_meta(rows: list[list[str]]) -> dict[str, str]:
    """META as an ordered key -> value dict (the optional `key;value` header is skipped)."""
    meta: dict[str, str] = {}
    for row in rows:
        if len(row) < 2:
            raise PbFormatError(f"META row needs key;value, got {row!r}"[:200])
        key, value = row[0].strip(), ";".join(row[1:])
        if (key, value.strip()) == ("key", "value"):
            continue
        meta[key] = value
    return meta


def _parse_projects(rows: list[list[str]]) -> tuple[list[PbProject], list[Decimal]]:
    """PROJECTS rows as PbProject (cost still 0) and their exact costs, in file order."""
    projects: list[PbProject] = []
    costs: list[Decimal] = []
    seen: set[str] = set()
    for record in _records(rows, "PROJECTS", ("project_id", "cost")):
        pid = record.pop("project_id").strip()
        if pid in seen:
            raise PbFormatError(f"duplicate project id {pid!r}")
        seen.add(pid)
        costs.append(parse_amount(record.pop("cost"), f"cost of project {pid}"))
        projects.append(PbProject(
            id=pid,
            cost=0,
            name=record.pop("name", ""),
            votes=_optional_int(record.pop("votes", None), f"votes of project {pid}"),
            selected=_optional_int(record.pop("selected", None), f"selected of project {pid}"),
            score=_optional_int(record.pop("score", None), f"score of project {pid}"),
            extra=record,
        ))
    return projects, costs


def _split_list(raw: str) -> tuple[str, ...]:
    raw = raw.strip()
    return tuple(part.strip() for part in raw.split(",")) if raw else ()


def _parse_voters(rows: list[list[str]], project_ids: set[str], vote_type: str) -> list[PbVoter]:
    """VOTES rows as PbVoter, checked against the vote type; an empty vote is an empty ballot."""
    voters: list[PbVoter] = []
    for record in _records(rows, "VOTES", ("voter_id", "vote")):
        vid = record.pop("voter_id").strip()
        vote = _split_list(record.pop("vote"))
        unknown = [pid for pid in vote if pid not in project_ids]
        if unknown:
            raise PbFormatError(f"voter {vid!r} votes for unknown project(s) {unknown}"[:200])
        raw_points = record.pop("points", None)
        points = None
        if vote_type == CUMULATIVE:
            if raw_points is None:
                raise PbFormatError("a cumulative file needs a points column in VOTES")
            points = tuple(parse_whole_number(p, f"points of voter {vid}") for p in _split_list(raw_points))
            if len(points) != len(vote):
                raise PbFormatError(f"voter {vid!r} has {len(vote)} project(s) but {len(points)} points")
        elif raw_points is not None and raw_points.strip():
            # Some ordinal files give each ranked project its points (tally_pb counts those).
            points = tuple(parse_whole_number(p, f"points of voter {vid}") for p in _split_list(raw_points))
            if len(points) != len(vote):
                raise PbFormatError(f"voter {vid!r} has {len(vote)} project(s) but {len(points)} points")
        if vote_type == ORDINAL and len(set(vote)) != len(vote):
            raise PbFormatError(f"voter {vid!r} ranks a project twice")
        if vote_type == CHOOSE_1 and len(vote) > 1:
            raise PbFormatError(f"voter {vid!r} chose {len(vote)} projects in a choose-1 election")
        voters.append(PbVoter(id=vid, vote=vote, extra=record, points=points))
    return voters


def read_pb(source: str | Path | bytes) -> PbElection:
    """Parse a `.pb` file given as a path, as bytes, or as its text (anything with a newline)."""
    sections = _split_sections(_load_text(source))
    meta = _parse_meta(sections["meta"])
    vote_type = meta.get("vote_type", APPROVAL).strip().lower() or APPROVAL
    if vote_type not in VOTE_TYPES:
        raise PbFormatError(f"vote type {vote_type!r} is not supported (only {', '.join(VOTE_TYPES)})")
    projects, costs = _parse_projects(sections["projects"])
    amounts = list(costs)
    if "budget" in meta:
        amounts.append(parse_amount(meta["budget"], "META budget"))
    places = max((_decimals(a) for a in amounts), default=0)
    if places > MAX_DECIMALS:
        raise PbFormatError(f"amounts with {places} decimal places; at most {MAX_DECIMALS} are read")
    scale = 10 ** places
    for project, cost in zip(projects, costs, strict=True):
        project.cost = int(cost * scale)
    voters = _parse_voters(sections["votes"], {p.id for p in projects}, vote_type)
    return PbElection(meta=meta, projects=projects, voters=voters, scale=scale)


def _ordered(names: Iterable[str], order: Sequence[str]) -> list[str]:
    """Names in the checker's order; names it does not know keep their order, at the end."""
    names = list(dict.fromkeys(names))
    rank = {name: i for i, name in enumerate(order)}
    return sorted(names, key=lambda n: (rank.get(n, len(order)), names.index(n)))


def _blank_if_none(value: int | None) -> str:
    """Render an optional int as a csv field."""
    return "" if value is None else str(value)


def write_pb(election: PbElection) -> str:
    """Serialise to `.pb` text (LF line ends); read_pb(write_pb(e)) == e.

    META keys, PROJECTS columns and VOTES columns are written in the order pabulib-checker
    expects (unknown ones last, in their own order). Costs are written with the election's
    decimal places. `score` is written when some project has one, `points` when the election
    is cumulative; ordinal votes are written as held, best first. Voters are written as given:
    an empty ballot becomes an empty `vote` field, which the checker rejects; exports built by
    `election_from_ballots` leave empty ballots out (see there).
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    for key in _ordered(election.meta, META_ORDER):
        writer.writerow([key, election.meta[key]])
    columns = ["project_id", "cost", "votes"]
    if any(p.score is not None for p in election.projects):
        columns.append("score")
    columns += ["name", "selected"]
    columns = _ordered([*columns, *(n for p in election.projects for n in p.extra
                                    if n not in PROJECT_COLUMNS)], PROJECT_ORDER)
    writer.writerow(["PROJECTS"])
    writer.writerow(columns)
    for p in election.projects:
        standard = {"project_id": p.id, "cost": format_amount(p.cost, election.scale),
                    "votes": _blank_if_none(p.votes), "score": _blank_if_none(p.score),
                    "name": p.name, "selected": _blank_if_none(p.selected)}
        writer.writerow([standard[n] if n in standard else p.extra.get(n, "") for n in columns])
    with_points = election.vote_type == CUMULATIVE or any(v.points is not None for v in election.voters)
    voter_columns = ["voter_id", "vote", *(["points"] if with_points else [])]
    voter_columns = _ordered([*voter_columns, *(n for v in election.voters for n in v.extra
                                                if n not in VOTER_COLUMNS)], VOTER_ORDER)
    writer.writerow(["VOTES"])
    writer.writerow(voter_columns)
    for v in election.voters:
        standard = {"voter_id": v.id, "vote": ",".join(v.vote),
                    "points": ",".join(map(str, v.points or ()))}
        writer.writerow([standard[n] if n in standard else v.extra.get(n, "") for n in voter_columns])
    return out.getvalue()


def election_from_ballots(budget: int, projects: Sequence[Project], ballots: Sequence[Any], *,
                          vote_type: str = APPROVAL, meta: dict[str, str] | None = None,
                          selected: Collection[str] = (), scale: int = 1,
                          voter_ids: Sequence[str] | None = None,
                          max_rank: int | None = None) -> PbElection:
    """Build a PbElection to export: votes (and scores) counted, META completed.

    `meta` must hold EXPORT_META (description, country, unit, instance, rule, date_begin and
    date_end as dd.mm.yyyy); num_projects, num_votes, budget and vote_type are filled in here.
    Ballots are in `count`'s form for `vote_type`: sets of ids, point mappings (written most
    points first, with a points column; META must then hold `max_sum_points`) or rankings
    (written best first). PROJECTS rows are written in the greedy ranking (score, cost, id).
    `scale` says how many units of budget/cost make one currency unit (100 for fen); amounts are
    written as decimals. `voter_ids` default to 1..n (e.g. receipt hashes instead).

    Empty ballots (a voter who chose nothing) are NOT written as voters: pabulib-checker rejects
    an empty `vote` field. Their number is said in a META `comment` ("#1: ..."), and `num_votes`
    counts the written voters only. So a count of the exported file with Equal Shares splits
    the budget between the voters who chose something.
    """
    missing = [key for key in EXPORT_META if key not in (meta or {})]
    if missing:
        raise ValueError(f"an export needs META {', '.join(missing)} (pabulib-checker requires them)")
    if vote_type == CUMULATIVE and "max_sum_points" not in (meta or {}):
        raise ValueError("a cumulative export needs META max_sum_points (the points each voter had)")
    utilities = ballot_utilities(projects, ballots, vote_type, max_rank)
    order = {p.id: i for i, p in enumerate(projects)}
    voters: list[PbVoter] = []
    ids = list(voter_ids) if voter_ids is not None else [str(i) for i in range(1, len(ballots) + 1)]
    empty = 0
    for vid, ballot, utility in zip(ids, ballots, utilities, strict=True):
        if not utility:
            empty += 1
            continue
        if vote_type == ORDINAL:
            voters.append(PbVoter(vid, tuple(ballot)))
        elif vote_type == CUMULATIVE:
            chosen = sorted(utility, key=lambda pid: (-utility[pid], order[pid]))
            voters.append(PbVoter(vid, tuple(chosen), points=tuple(utility[pid] for pid in chosen)))
        else:
            voters.append(PbVoter(vid, tuple(sorted(utility, key=order.__getitem__))))
    supporters = {p.id: 0 for p in projects}
    for utility in utilities:
        for pid in utility:
            supporters[pid] += 1
    scores = scores_of(projects, utilities) if vote_type in (CUMULATIVE, ORDINAL) else None
    full_meta = {"num_projects": str(len(projects)), "num_votes": str(len(voters)),
                 "budget": format_amount(budget, scale), "vote_type": vote_type, **(meta or {})}
    if empty:
        note = f"{empty} ballot(s) chose no project and are not listed in VOTES."
        full_meta["comment"] = f"{full_meta['comment']} {note}" if "comment" in full_meta else f"#1: {note}"
    if vote_type == ORDINAL and "max_length" not in full_meta and max_rank is not None:
        full_meta["max_length"] = str(max_rank)
    # Rows in the greedy ranking (score, then cost, then id): pabulib-checker re-sorts them by
    # score with a stable sort, so its check of a greedy rule breaks ties as we do.
    ranked = greedy_ranking(projects, scores_of(projects, utilities))
    return PbElection(
        meta=full_meta,
        projects=[PbProject(p.id, p.cost, p.name, supporters[p.id], int(p.id in selected),
                            score=None if scores is None else scores[p.id]) for p in ranked],
        voters=voters,
        scale=scale,
    )


def tally_pb(path: str | Path | bytes, rule: str | None = None) -> Outcome:
    """Count a `.pb` file with its META rule (or `rule`), vote type, threshold and max_length.

    META `min_project_score_threshold` is applied to every greedy rule (greedy-threshold needs
    it); for ordinal files `max_length` fixes the Borda points (see count.py); amounts with
    decimals are counted in minor units with one currency unit as the add-one increment.
    """
    election = read_pb(path)
    if rule is None:
        rule = election.meta.get("rule", "").strip().lower()
        if not rule or rule == "unknown":
            raise PbFormatError("META names no rule; choose one with --rule")
        if rule not in RULES:
            raise PbFormatError(f"META rule {rule!r} is not implemented; choose one of "
                                f"{', '.join(RULES)} with --rule")
    rule = RULE_ALIASES.get(rule, rule)
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose one of {', '.join(RULES)}")
    threshold = election.meta_int("min_project_score_threshold")
    if rule == GREEDY_THRESHOLD and threshold is None:
        raise PbFormatError("greedy-threshold needs META min_project_score_threshold")
    vote_type, ballots = election.vote_type, election.ballots
    max_rank = election.meta_int("max_length") if vote_type == ORDINAL else None
    if vote_type == ORDINAL and election.voters and all(v.points is not None for v in election.voters):
        # The file gives each ranked project its points (e.g. 4/3/2/1 by position): count those.
        vote_type, ballots, max_rank = CUMULATIVE, [_points_ballot(v) for v in election.voters], None
    instance = election.instance
    try:
        return count(instance.budget, instance.projects, ballots,
                     vote_type=vote_type, rule=rule,
                     threshold=threshold if rule.startswith("greedy") else None,
                     max_rank=max_rank, unit=election.scale)
    except (TypeError, ValueError) as error:
        if isinstance(error, PbFormatError) or "unknown rule" in str(error):
            raise
        raise PbFormatError(str(error)) from None


def winners_from_pb(path: str | Path, rule: str | None = None) -> list[str]:
    """Winning project ids, in selection order (see tally_pb)."""
    return tally_pb(path, rule).winners


def scores_from_pb(election: PbElection) -> Mapping[str, int]:
    """Each project's score computed from the file's ballots (to compare with its `score`)."""
    projects = election.instance.projects
    if election.voters and all(v.points is not None for v in election.voters):
        return scores_of(projects, [_points_ballot(v) for v in election.voters])
    max_rank = election.meta_int("max_length") if election.vote_type == ORDINAL else None
    return scores_of(projects, ballot_utilities(projects, election.ballots, election.vote_type, max_rank))
