"""The community's public board: no login, cached, rate limited per address."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from gongzhi.core.errors import NotFound
from gongzhi.core.ratelimit import RateLimited, client_ip, ensure_within_rate
from gongzhi.insight.board import Board, board_for
from gongzhi.insight.report import percent

CACHE_SECONDS = 5 * 60
RESIDENT_TEMPLATES = "tickets/resident/"


@dataclass(frozen=True)
class ShownRate:
    name: str
    value: str
    numerator: int
    denominator: int
    definition: str
    last_value: str  # last month's, for comparison


def board_cache_key(code: str, language: str) -> str:
    return f"insight:board:{code}:{language}"


def _cached_board(code: str) -> Board:
    """The board as computed at most CACHE_SECONDS ago (per community and language)."""
    key = board_cache_key(code, get_language() or "")
    board: Board | None = cache.get(key)
    if board is None:
        board = board_for(code=code)
        cache.set(key, board, CACHE_SECONDS)
    return board


@require_GET
def board(request: HttpRequest, code: str) -> HttpResponse:
    try:
        ensure_within_rate(name="public_read", key=client_ip(request) or "unknown")
        found = _cached_board(code)
    except NotFound:
        return render(request, RESIDENT_TEMPLATES + "not_found.html", status=404)
    except RateLimited as error:
        response = render(
            request, RESIDENT_TEMPLATES + "error.html", {"message": error.message, "back": ""}, status=429
        )
        response["Retry-After"] = str(error.retry_after)
        return response
    rates = [
        ShownRate(
            name=str(rate.definition.name),
            value=percent(rate.value),
            numerator=rate.numerator,
            denominator=rate.denominator,
            definition=str(rate.definition.definition),
            last_value=percent(last.value),
        )
        for rate, last in zip(found.month.rates, found.last_month.rates, strict=True)
    ]
    return render(request, "insight/board/board.html", {"board": found, "rates": rates})
