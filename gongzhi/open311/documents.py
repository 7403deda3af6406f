"""The Open311 documents, as plain values in the JSON shape (rendering.py writes them as XML too).

Field names and their order follow the GeoReport v2 specification's examples. Empty text is
None: `null` in JSON, an empty element in XML, as the specification's examples show.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gongzhi.open311 import selectors
from gongzhi.open311.models import Open311Submission
from gongzhi.tickets.deadlines import Counting
from gongzhi.tickets.models import Category, CategoryQuestion, QuestionType, Ticket

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
LIST_TYPES = frozenset({QuestionType.SINGLE, QuestionType.MULTIPLE})
# Our question types the specification does not have, and the datatype a client sees instead.
OPEN311_DATATYPES: dict[str, str] = {QuestionType.DATE: "string"}


def w3c(value: dt.datetime | None) -> str | None:
    """W3C date and time with the offset, in the interface's time zone: 2026-11-27T13:30:00+08:00."""
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _or_none(text: str | None) -> str | None:
    return text if text else None


def _duration(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}


def service_notice(category: Category) -> str:
    """What the platform promises for this kind of matter: its response and resolution deadlines."""
    values = {
        "response": _duration(category.response_minutes),
        "resolution": _duration(category.resolution_minutes),
    }
    if category.counting == Counting.WORKING:
        return (
            _("Response within %(response)s and resolution within %(resolution)s, in working hours.") % values
        )
    return _("Response within %(response)s and resolution within %(resolution)s.") % values


def discovery(request: HttpRequest) -> dict[str, Any]:
    latest = Category.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
    changeset = w3c(latest) or ""
    base = request.build_absolute_uri(reverse("open311:services", kwargs={"fmt": "xml"}))
    return {
        "changeset": changeset,
        "contact": _("Ask the administrators of this Gongzhi platform for help."),
        "key_service": _(
            "API keys are issued to an organization by the platform's administrators, in the back "
            "office or with the command `gongzhi open311-key NAME --organization CODE`."
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base.removesuffix("/services.xml"),
                "changeset": changeset,
                "type": "test" if settings.DEBUG or settings.DEMO_MODE else "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def service(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": _or_none(category.description),
        "metadata": bool(category.questions.all()),
        "type": "realtime",
        "keywords": _or_none(", ".join(category.keywords.split())),
        "group": _or_none(category.group),
    }


def _datatype_description(question: CategoryQuestion) -> str | None:
    if question.datatype == QuestionType.DATE:
        # The specification has no date type: a string, whose format the client is told here.
        form = _("A date, written YYYY-MM-DD (e.g. 2026-11-20).")
        return f"{question.description} {form}" if question.description else form
    return _or_none(question.description)


def service_definition(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": question.code,
                "datatype": OPEN311_DATATYPES.get(question.datatype, question.datatype),
                "required": question.required,
                "datatype_description": _datatype_description(question),
                # The specification wants distinct positive integers; the position is that.
                "order": position,
                "description": question.prompt,
                "values": [
                    {"key": str(choice.get("key", "")), "name": str(choice.get("name", ""))}
                    for choice in (question.choices if question.datatype in LIST_TYPES else [])
                ],
            }
            for position, question in enumerate(category.questions.all(), start=1)
        ],
    }


def posted(ticket: Ticket, submission: Open311Submission) -> dict[str, Any]:
    # The id is assigned at once, so no token: the specification says a token "should not be
    # returned if service_request_id is returned" (tokens/{token} still answers for the follow token).
    return {
        "service_request_id": ticket.number,
        "service_notice": service_notice(ticket.category),
        "account_id": _or_none(submission.account_id),
    }


def token(ticket: Ticket, token_text: str) -> dict[str, Any]:
    return {"service_request_id": ticket.number, "token": token_text}


def _status(ticket: Ticket) -> str:
    return "open" if ticket.state in selectors.OPEN_STATUS else "closed"


def _updated(ticket: Ticket) -> dt.datetime:
    """Last change; for a closed request the specification wants the moment it closed."""
    if ticket.state in selectors.OPEN_STATUS:
        return ticket.updated_at
    return ticket.closed_at or ticket.resolved_at or ticket.updated_at


def service_requests(tickets: list[Ticket]) -> list[dict[str, Any]]:
    """GET requests: public fields only. The reporter's name, phone and e-mail never appear."""
    places = selectors.places_of(ticket.node for ticket in tickets)
    documents = []
    for ticket in tickets:
        place = places[ticket.node_id]
        latitude = ticket.latitude if ticket.latitude is not None else place.latitude
        longitude = ticket.longitude if ticket.longitude is not None else place.longitude
        document: dict[str, Any] = {
            "service_request_id": ticket.number,
            "status": _status(ticket),
            "status_notes": _or_none(
                selectors.public_text(
                    getattr(ticket, "status_notes", None) or "", reporter_name=ticket.reporter_name
                )
            ),
            "service_name": ticket.category.name,
            "service_code": ticket.category.code,
            "description": _or_none(
                selectors.public_text(ticket.description, reporter_name=ticket.reporter_name)
            ),
            "agency_responsible": _or_none(ticket.owner_node.name),
            "service_notice": service_notice(ticket.category),
            "requested_datetime": w3c(ticket.submitted_at),
            "updated_datetime": w3c(_updated(ticket)),
            "expected_datetime": w3c(ticket.resolution_due_at),
            "address": _or_none(place.address),
            "address_id": place.address_id,
            "zipcode": None,
            "lat": float(latitude) if latitude is not None else None,
            "long": float(longitude) if longitude is not None else None,
        }
        # Photos have no public address yet; a link the client itself posted is public already.
        media_url = getattr(ticket, "client_media_url", None)
        if media_url:
            document["media_url"] = media_url
        documents.append(document)
    return documents
