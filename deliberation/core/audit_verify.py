"""Check the audit log without trusting the database: plain hash chain, sequence, keyed MACs, anchors.

What each check catches (the README's security notes say the same):
- an edited event whose hash was not recomputed: its content does not match its hash;
- an edited event whose hash and every later hash were recomputed (as anyone with the source and
  write access to the database can): the MACs of that event and all after it no longer match,
  because computing them needs `AUDIT_KEY`, which is not in the database;
- a deleted event in the middle: a gap in the sequence numbers (and a broken link);
- deleted newest events: only against an anchor published earlier — the daily anchors in the
  database (HMAC-signed, so not forgeable without the key), the lines of instance/audit_anchors.log
  or of a saved copy of the notice board (`--anchors-file`), and fingerprints noted from printed
  pages and exports (`--anchor`).
Consecutive events failing the same way are reported as one problem.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from deliberation.core.audit import GENESIS_HASH, AuditEvent, audit_key, event_mac, key_id
from deliberation.core.audit_anchors import AnchorLine, AuditAnchor, anchor_mac
from deliberation.extensions import db


@dataclass
class Problem:
    # content | mac | no_mac | gap | link | order | anchor_missing | anchor_differs | anchor_forged | fingerprint
    kind: str
    message: str
    first: int | None = None  # sequence numbers of the events concerned
    last: int | None = None
    event_id: int | None = None


@dataclass
class ChainReport:
    checked: int = 0
    head_seq: int = 0
    key_id: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def kinds(self) -> set[str]:
        return {p.kind for p in self.problems}


def _events_range(first: int, last: int) -> str:
    return f"event #{first}" if first == last else f"events #{first}–#{last}"


class _Walker:
    def __init__(self, key: str) -> None:
        self.key = key
        self.report = ChainReport(key_id=key_id(key))
        self.expected_prev = GENESIS_HASH
        self.expected_seq = 1
        self.mac_run: tuple[int, int] | None = None  # consecutive events whose MAC fails
        self.hash_at: dict[int, str] = {}  # sequence → hash, kept only for the anchored sequences
        self.wanted: set[int] = set()

    def _flush_mac_run(self) -> None:
        if self.mac_run is None:
            return
        first, last = self.mac_run
        self.mac_run = None
        self.report.problems.append(Problem(
            "mac", f"{_events_range(first, last)}: MAC does not match the audit key — rewritten (the plain "
                   f"hashes recomputed) by someone without the key", first, last))

    def visit(self, event: AuditEvent) -> None:
        problems = self.report.problems
        if event.seq != self.expected_seq:
            self._flush_mac_run()
            if event.seq > self.expected_seq:
                problems.append(Problem("gap", f"{_events_range(self.expected_seq, event.seq - 1)} missing: "
                                        f"deleted before event #{event.seq}", self.expected_seq, event.seq - 1,
                                        event.id))
            else:
                problems.append(Problem("order", f"event id {event.id} has sequence #{event.seq}, expected "
                                        f"#{self.expected_seq}: inserted or reordered", event.seq, event.seq,
                                        event.id))
        elif event.prev_hash != self.expected_prev:
            self._flush_mac_run()
            problems.append(Problem("link", f"event #{event.seq} does not link to the event before it: "
                                    f"an event was deleted or replaced", event.seq, event.seq, event.id))
        if event.compute_hash() != event.hash:
            self._flush_mac_run()
            problems.append(Problem("content", f"event #{event.seq} (id {event.id}): content does not match "
                                    f"its hash — edited", event.seq, event.seq, event.id))
        elif event.mac is None:
            self._flush_mac_run()
            problems.append(Problem("no_mac", f"event #{event.seq} (id {event.id}) has no MAC: written or "
                                    f"altered without the audit key", event.seq, event.seq, event.id))
        elif not hmac.compare_digest(event.mac, event_mac(self.key, event.seq, event.hash)):
            first = self.mac_run[0] if self.mac_run else event.seq
            self.mac_run = (first, event.seq)
        else:
            self._flush_mac_run()
        if event.seq in self.wanted:
            self.hash_at[event.seq] = event.hash
        self.expected_prev = event.hash
        self.expected_seq = event.seq + 1
        self.report.checked += 1
        self.report.head_seq = event.seq

    def finish(self) -> None:
        self._flush_mac_run()
        # MACs failing from the first event on: most likely the verifier (or, for the oldest events only,
        # the app that wrote the newest) holds another key than the one that signed them.
        for problem in self.report.problems:
            if problem.kind != "mac" or problem.first != 1:
                continue
            if problem.last == self.report.head_seq:
                problem.message = (
                    f"no event's MAC matches the audit key in use (key id {self.report.key_id}): wrong or missing "
                    f"AUDIT_KEY (or instance/audit_key replaced), or the whole log rewritten")
            else:
                problem.message = (
                    f"{_events_range(1, problem.last)}: MAC does not match the audit key in use (key id "
                    f"{self.report.key_id}), the events after them do: the key was replaced (a lost "
                    f"instance/audit_key regenerated?) or those events were rewritten without the key")


def verify_chain(batch_size: int = 1000, anchors: Iterable[str] = (),
                 anchor_lines: Iterable[AnchorLine] = (), key: str | None = None) -> ChainReport:
    """Walk the log in sequence order and report every problem: see the module docstring.
    `anchors` are fingerprints (hashes) noted earlier; `anchor_lines` anchors kept outside the database."""
    walker = _Walker(key or audit_key())
    fingerprints = {a.strip().lower() for a in anchors if a.strip()}
    stored = list(db.session.scalars(select(AuditAnchor).order_by(AuditAnchor.day)))
    published: list[tuple[str, AnchorLine]] = []
    forged: list[Problem] = []
    for anchor in stored:
        line = AnchorLine(anchor.day, anchor.seq, anchor.head_hash)
        if not hmac.compare_digest(anchor.mac, anchor_mac(walker.key, anchor.day, anchor.seq, anchor.head_hash)):
            forged.append(Problem(
                "anchor_forged", f"the anchor of {anchor.day.isoformat()} in the database does not match its MAC: "
                                 f"forged or edited without the audit key"))
            continue
        published.append(("the anchor published on", line))
    published += [("the anchor kept outside the database for", line) for line in anchor_lines]
    walker.wanted = {line.seq for _source, line in published}
    found: set[str] = set()
    last_seq = 0
    while True:
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.seq > last_seq).order_by(AuditEvent.seq).limit(batch_size)).all()
        if not events:
            break
        for event in events:
            walker.visit(event)
            if event.hash in fingerprints:
                found.add(event.hash)
            last_seq = event.seq
        db.session.expunge_all()
    walker.finish()
    report = walker.report
    report.problems += forged
    for source, line in published:
        if line.seq == 0:
            continue
        if line.seq > report.head_seq:
            report.problems.append(Problem(
                "anchor_missing", f"{source} {line.day.isoformat()} counts {line.seq} events but the log ends at "
                                  f"#{report.head_seq}: the newest events were deleted", report.head_seq + 1, line.seq))
        elif walker.hash_at.get(line.seq) != line.head_hash:
            report.problems.append(Problem(
                "anchor_differs", f"event #{line.seq} is not the one in {source} {line.day.isoformat()} "
                                  f"({line.head_hash}): rewritten or deleted", line.seq, line.seq))
    for fingerprint in sorted(fingerprints - found):
        report.problems.append(Problem(
            "fingerprint", f"fingerprint {fingerprint} is not in the log: the events up to it were deleted "
                           f"or rewritten"))
    return report
