"""Read and write Pabulib `.pb` files (https://pabulib.org/format), approval elections only.

A file has three `;`-separated sections, each introduced by a line holding only its name:
META (key;value rows), PROJECTS (header row, then one row per project) and VOTES (header row,
then one row per voter, `vote` being comma-separated project ids). Fields are read with the csv
module, so quoted names containing `;` or `"` survive. Columns beyond the standard ones are kept
in `extra` dicts so that a file read and written again carries the same data.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .count import EQUAL_SHARES, RULES, count
from .explain import Outcome
from .model import ApprovalBallot, Instance, Project

SECTIONS = ("meta", "projects", "votes")
PROJECT_COLUMNS = ("project_id", "cost", "votes", "name", "selected")
VOTER_COLUMNS = ("voter_id", "vote")

# Names the platform and `flask tally` used before the Pabulib names.
RULE_ALIASES = {"equal_shares": EQUAL_SHARES}


class PbFormatError(ValueError):
    """The text is not a well-formed approval Pabulib file."""


@dataclass
class PbProject:
    """A PROJECTS row: standard columns typed, other columns kept verbatim in `extra`."""

    id: str
    cost: int
    name: str = ""
    votes: int | None = None
    """The file's own approval count (None when the column is absent or empty)."""
    selected: int | None = None
    """1 if the project was funded in the real election, 0 if not, None if unknown."""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class PbVoter:
    """A VOTES row: the voter id, the approved ids in file order, other columns in `extra`."""

    id: str
    vote: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class PbElection:
    """A parsed `.pb` file."""

    meta: dict[str, str]
    projects: list[PbProject]
    voters: list[PbVoter]

    @property
    def budget(self) -> int:
        """The META budget as whole currency units."""
        if "budget" not in self.meta:
            raise PbFormatError("META has no budget")
        return parse_whole_number(self.meta["budget"], "META budget")

    @property
    def ballots(self) -> list[ApprovalBallot]:
        """One approval set per voter, empty sets included."""
        return [frozenset(voter.vote) for voter in self.voters]

    @property
    def instance(self) -> Instance:
        """Budget and projects in file order, ready for the counting rules."""
        return Instance(self.budget, [Project(p.id, p.cost, p.name) for p in self.projects])

    @property
    def selected_ids(self) -> set[str]:
        """Ids of the projects marked selected=1 in the file."""
        return {p.id for p in self.projects if p.selected == 1}


MAX_DIGITS = 60  # far beyond any budget, cost or count; bounds the work of reading a number


def parse_whole_number(text: str, what: str) -> int:
    """Parse "1000", "1000.0" or "1e3" exactly; fail loudly on anything non-integral."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise PbFormatError(f"{what}: {text!r} is not a number") from None
    if not number.is_finite() or (number.adjusted() < MAX_DIGITS and number != number.to_integral_value()):
        raise PbFormatError(f"{what}: {text!r} is not a whole number of currency units")
    if number.adjusted() >= MAX_DIGITS:  # checked before int(): "1e999999999" would take minutes to expand
        raise PbFormatError(f"{what}: {text!r} is too large")
    if number < 0:
        raise PbFormatError(f"{what}: {text!r} is negative")
    return int(number)


def _optional_int(text: str | None, what: str) -> int | None:
    """Whole number, or None for an absent/empty field."""
    if text is None or not text.strip():
        return None
    return parse_whole_number(text, what)


def _load_text(path_or_text: str | Path) -> str:
    """Text itself when it has a newline; otherwise read it as a UTF-8 file path."""
    if isinstance(path_or_text, str) and "\n" in path_or_text:
        return path_or_text.removeprefix("\ufeff")
    # utf-8-sig drops a byte-order mark; newline="" lets csv see quoted line breaks intact.
    try:
        with open(path_or_text, encoding="utf-8-sig", newline="") as handle:
            return handle.read()
    except UnicodeDecodeError as error:
        raise PbFormatError(f"not UTF-8 text (byte {error.start}); save the file as UTF-8") from None


def _split_sections(text: str) -> dict[str, list[list[str]]]:
    """Group csv rows under their section name; blank rows are ignored."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=";"):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) == 1 and row[0].strip().lower() in SECTIONS:
            name = row[0].strip().lower()
            if name in sections:
                raise PbFormatError(f"section {name.upper()} appears twice")
            current = sections[name] = []
            continue
        if current is None:
            raise PbFormatError(f"data before the META section: {row!r}")
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
            raise PbFormatError(f"{section} row has more fields than the header: {row!r}")
        records.append(dict(zip(header, [*row, *[""] * (len(header) - len(row))], strict=True)))
    return records


def _parse_meta(rows: list[list[str]]) -> dict[str, str]:
    """META as an ordered key -> value dict (the optional `key;value` header is skipped)."""
    meta: dict[str, str] = {}
    for row in rows:
        if len(row) < 2:
            raise PbFormatError(f"META row needs key;value, got {row!r}")
        key, value = row[0].strip(), ";".join(row[1:])
        if (key, value.strip()) == ("key", "value"):
            continue
        meta[key] = value
    return meta


def _parse_projects(rows: list[list[str]]) -> list[PbProject]:
    """PROJECTS rows as PbProject, in file order."""
    projects: list[PbProject] = []
    seen: set[str] = set()
    for record in _records(rows, "PROJECTS", ("project_id", "cost")):
        pid = record.pop("project_id").strip()
        if pid in seen:
            raise PbFormatError(f"duplicate project id {pid!r}")
        seen.add(pid)
        projects.append(PbProject(
            id=pid,
            cost=parse_whole_number(record.pop("cost"), f"cost of project {pid}"),
            name=record.pop("name", ""),
            votes=_optional_int(record.pop("votes", None), f"votes of project {pid}"),
            selected=_optional_int(record.pop("selected", None), f"selected of project {pid}"),
            extra=record,
        ))
    return projects


def _parse_voters(rows: list[list[str]], project_ids: set[str]) -> list[PbVoter]:
    """VOTES rows as PbVoter; an empty vote field is an empty ballot."""
    voters: list[PbVoter] = []
    for record in _records(rows, "VOTES", ("voter_id", "vote")):
        vid = record.pop("voter_id").strip()
        raw = record.pop("vote").strip()
        vote = tuple(part.strip() for part in raw.split(",")) if raw else ()
        unknown = [pid for pid in vote if pid not in project_ids]
        if unknown:
            raise PbFormatError(f"voter {vid!r} votes for unknown project(s) {unknown}")
        voters.append(PbVoter(id=vid, vote=vote, extra=record))
    return voters


def read_pb(path_or_text: str | Path) -> PbElection:
    """Parse a `.pb` file given as a path, or as its text (anything containing a newline)."""
    sections = _split_sections(_load_text(path_or_text))
    projects = _parse_projects(sections["projects"])
    voters = _parse_voters(sections["votes"], {p.id for p in projects})
    return PbElection(meta=_parse_meta(sections["meta"]), projects=projects, voters=voters)


def _extra_columns(extras: Iterable[dict[str, str]], standard: Sequence[str]) -> list[str]:
    """Union of extra column names in first-seen order, minus the standard ones."""
    columns: dict[str, None] = {}
    for extra in extras:
        for name in extra:
            if name not in standard:
                columns.setdefault(name, None)
    return list(columns)


def _blank_if_none(value: int | None) -> str:
    """Render an optional int as a csv field."""
    return "" if value is None else str(value)


def write_pb(election: PbElection) -> str:
    """Serialise to `.pb` text (LF line ends); read_pb(write_pb(e)) == e."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    for key, value in election.meta.items():
        writer.writerow([key, value])
    project_extra = _extra_columns((p.extra for p in election.projects), PROJECT_COLUMNS)
    writer.writerow(["PROJECTS"])
    writer.writerow([*PROJECT_COLUMNS, *project_extra])
    for p in election.projects:
        writer.writerow([p.id, p.cost, _blank_if_none(p.votes), p.name, _blank_if_none(p.selected),
                         *(p.extra.get(name, "") for name in project_extra)])
    voter_extra = _extra_columns((v.extra for v in election.voters), VOTER_COLUMNS)
    writer.writerow(["VOTES"])
    writer.writerow([*VOTER_COLUMNS, *voter_extra])
    for v in election.voters:
        writer.writerow([v.id, ",".join(v.vote), *(v.extra.get(name, "") for name in voter_extra)])
    return out.getvalue()


def election_from_ballots(budget: int, projects: Sequence[Project],
                          ballots: Sequence[Collection[str]], *,
                          meta: dict[str, str] | None = None,
                          selected: Collection[str] = ()) -> PbElection:
    """Build a PbElection (e.g. to export one): voters are numbered 1..n, votes are counted."""
    counts = {p.id: 0 for p in projects}
    for ballot in ballots:
        for pid in ballot:
            counts[pid] += 1
    full_meta = {"num_projects": str(len(projects)), "num_votes": str(len(ballots)),
                 "budget": str(budget), "vote_type": "approval", **(meta or {})}
    return PbElection(
        meta=full_meta,
        projects=[PbProject(p.id, p.cost, p.name, counts[p.id], int(p.id in selected))
                  for p in projects],
        voters=[PbVoter(str(i), tuple(sorted(ballot))) for i, ballot in enumerate(ballots, 1)],
    )


def tally_pb(path: str | Path, rule: str) -> Outcome:
    """Run a rule ("greedy" or "equal_shares") on an approval `.pb` file."""
    rule = RULE_ALIASES.get(rule, rule)
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose one of {', '.join(RULES)}")
    election = read_pb(path)
    vote_type = election.meta.get("vote_type", "approval").strip().lower()
    if vote_type != "approval":
        raise PbFormatError(f"only approval elections can be counted, this one is {vote_type!r}")
    instance = election.instance
    return count(instance.budget, instance.projects, election.ballots, rule=rule)


def winners_from_pb(path: str | Path, rule: str) -> list[str]:
    """Winning project ids, in selection order, of a rule on an approval `.pb` file."""
    return tally_pb(path, rule).winners
