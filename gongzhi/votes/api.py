"""GET /api/v1/votes (closed votes in scope) and /votes/{id}/record (public: anyone may check a result)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from gongzhi.core.api_auth import actor_of
from gongzhi.core.api_schemas import SCOPED_ERRORS, ErrorOut, PageParams, paginate
from gongzhi.core.ratelimit import client_ip, ensure_within_rate
from gongzhi.votes.models import VoteStatus
from gongzhi.votes.record import vote_record
from gongzhi.votes.selectors import vote_list, vote_public_get

router = Router(tags=["votes"])


class VoteOut(Schema):
    id: int
    question: str
    matter: str
    threshold: str
    status: str
    compound_id: int
    compound: str
    opens: str
    closes: str
    closed_at: str | None  # when voting actually closed (before `closes` when staff closed it early)
    closed_early: bool
    close_reason: str
    result: dict[str, Any]
    record_url: str | None


class VotePageOut(Schema):
    count: int
    limit: int
    offset: int
    items: list[VoteOut]


class VoteFilters(Schema):
    status: VoteStatus | None = None


def _out(vote: Any) -> dict[str, Any]:
    return {
        "id": vote.pk,
        "question": vote.question,
        "matter": vote.matter,
        "threshold": vote.threshold,
        "status": vote.status,
        "compound_id": vote.compound_id,
        "compound": vote.compound.name,
        "opens": vote.opens_at.isoformat(),
        "closes": vote.closes_at.isoformat(),
        "closed_at": vote.closed_at.isoformat() if vote.closed_at else None,
        "closed_early": vote.closed_early,
        "close_reason": vote.close_reason,
        "result": vote.result,
        "record_url": f"/api/v1/votes/{vote.pk}/record" if vote.status == VoteStatus.CLOSED else None,
    }


@router.get("/votes", response={200: VotePageOut, **SCOPED_ERRORS})
def votes_list(request: HttpRequest, filters: Query[VoteFilters], page: Query[PageParams]) -> dict[str, Any]:
    votes = vote_list(actor=actor_of(request), status=filters.status or "")
    sliced = paginate(votes, page)
    return {
        "count": sliced.count,
        "limit": sliced.limit,
        "offset": sliced.offset,
        "items": [_out(v) for v in sliced.items],
    }


@router.get(
    "/votes/{vote_id}/record", auth=None, response={200: dict[str, Any], 404: ErrorOut, 429: ErrorOut}
)
def vote_record_get(request: HttpRequest, vote_id: int) -> dict[str, Any]:
    """The published record of a closed vote, enough to recompute its tally and ballot chain offline
    (`gongzhi vote-verify FILE`). Public: owners and anyone they show it to can check the result."""
    ensure_within_rate(name="public_read", key=client_ip(request) or "unknown")
    return vote_record(vote_public_get(vote_id=vote_id))
