"""Imports every model module so that the metadata holds the whole schema."""

from deliberation.auth.models import User  # noqa: F401
from deliberation.communities.models import (  # noqa: F401
    Building,
    Community,
    Estate,
    Residency,
    RoleGrant,
    RollEntry,
)
from deliberation.consultations.models import (  # noqa: F401
    AgendaItem,
    Attendance,
    ConsultationSession,
    MinutesCorrection,
    Motion,
    MotionVote,
    SpeakerSlot,
)
from deliberation.core.audit import AuditEvent  # noqa: F401
from deliberation.core.audit_anchors import AuditAnchor  # noqa: F401
from deliberation.core.secrecy import SealedRow, SealKey  # noqa: F401
from deliberation.core.uploads import StoredFile  # noqa: F401
from deliberation.councils.models import Council, CouncilMember  # noqa: F401
from deliberation.evaluations.models import (  # noqa: F401
    Criterion,
    Evaluation,
    EvaluationPhoto,
    EvaluationReply,
    EvaluationScore,
    Organisation,
    Rubric,
    SatisfactionSurvey,
    SurveyParticipation,
    SurveyRating,
    SurveyResponse,
)
from deliberation.grids.models import (  # noqa: F401
    DeadlineSettings,
    Grid,
    GridBuilding,
    GridPartyMember,
    GridWorker,
    HandlingUnit,
    MonthlyTopic,
    RateMonth,
    RequestPhoto,
    RequestStep,
    ResidentRequest,
    UnitRepresentative,
)
from deliberation.notifications.models import (  # noqa: F401
    InboxItem,
    NotificationPreference,
    NotificationSettings,
    OutboxMessage,
)
from deliberation.proposals.models import (  # noqa: F401
    Comment,
    CommentReport,
    Objection,
    Photo,
    ProgressUpdate,
    Proposal,
    Rating,
    Round,
    RoundStep,
    Support,
)
from deliberation.votes.models import Ballot, BallotParticipation, PaperEntry, RoundResult  # noqa: F401
