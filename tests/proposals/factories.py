"""Factories for rounds and proposals, and images for upload tests."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image

from deliberation.proposals import services
from deliberation.proposals.models import Category, ProposalStatus, Round, RoundPhase
from deliberation.proposals.services import ProposalFields, RoundSettings


def make_round(community, actor, **overrides) -> Round:
    settings = dict(title="2027年度民生微实事", budget=1_000_000, project_cap=500_000, cap_services=200_000,
                    cap_goods=500_000, cap_works=500_000, support_threshold=0, branch_review_enabled=True,
                    publicity_days=5)
    settings.update(overrides)
    return services.create_round(community, settings=RoundSettings(**settings), actor=actor)


def make_proposal(round_, proposer, *, photos=(), **overrides):
    fields = dict(title="加装无障碍坡道", description="3栋门前台阶太高，老人和轮椅上下不便。", category=Category.works,
                  cost=80_000, location_text="3栋门前")
    fields.update(overrides)
    return services.submit_proposal(round_, proposer, fields=ProposalFields(**fields), photos=list(photos))


def move_to(round_: Round, phase: RoundPhase, actor, *, party=None, fund=None) -> None:
    """Walk the round forward to `phase`, deciding whatever each step needs."""
    while round_.phase != phase:
        current = round_.phase
        if current == RoundPhase.screening:
            for p in services.proposals_in(round_, ProposalStatus.submitted):
                services.accept_proposal(p, actor=actor, reason="测试：低于附议门槛也列入")
        if current == RoundPhase.council_resolution:
            ballot = services.proposals_in(round_, ProposalStatus.on_ballot)
            chosen = fund if fund is not None else [p.id for p in ballot]
            services.record_resolution(round_, funded_ids=chosen, note="议事会第1次会议", actor=actor)
            continue
        if current == RoundPhase.publicity:
            round_.publicity_started_at -= timedelta(days=round_.publicity_days + 1)
        by = party if current == RoundPhase.branch_review and party is not None else actor
        services.advance_round(round_, actor=by)


def jpeg_bytes(size=(64, 48), color=(200, 60, 40), exif_gps: bool = False) -> bytes:
    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    if exif_gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x8825] = {1: "N", 2: (22.0, 32.0, 0.0)}  # GPS info
        image.save(out, format="JPEG", exif=exif)
    else:
        image.save(out, format="JPEG")
    return out.getvalue()


def png_bytes(size=(32, 32)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 0, 255, 128)).save(out, format="PNG")
    return out.getvalue()
