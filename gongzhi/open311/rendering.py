"""One document, two formats: Open311's XML and its JSON twin (the Spark convention).

A response is built once as plain Python values in the JSON shape; the XML follows from it:
the root element names the document, a list becomes a container whose children all carry one
element name (`services` → `service`, `attributes` → `attribute` …), booleans are written
`true`/`false`, None an empty element. Spark drops the root element in JSON: a list root
(services, service_requests, errors) is a JSON array, a single root (service_definition,
discovery) a JSON object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree

from django.http import HttpResponse

XML_CONTENT_TYPE = "text/xml; charset=utf-8"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
FORMATS = ("xml", "json")
XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'

# Container element → the name of each of its children, as the specification writes them.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}

# Characters XML 1.0 cannot carry at all, even escaped (a pasted form feed would break a client).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_ILLEGAL.sub("", str(value))


def _fill(element: ElementTree.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for name, child in value.items():
            _fill(ElementTree.SubElement(element, name), child)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        item_name = ITEM_NAMES[element.tag]
        for item in value:
            _fill(ElementTree.SubElement(element, item_name), item)
    else:
        element.text = _text(value)


def to_xml(root: str, value: Any) -> str:
    element = ElementTree.Element(root)
    _fill(element, value)
    return XML_DECLARATION + ElementTree.tostring(element, encoding="unicode")


def to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def render(fmt: str, root: str, value: Any, *, status: int = 200) -> HttpResponse:
    """The response in `fmt` ("xml" or "json") for a document whose XML root is `root`."""
    if fmt == "json":
        return HttpResponse(to_json(value), content_type=JSON_CONTENT_TYPE, status=status)
    return HttpResponse(to_xml(root, value), content_type=XML_CONTENT_TYPE, status=status)


def render_errors(fmt: str, status: int, *descriptions: str) -> HttpResponse:
    """The specification's error document: one {code, description} per error, code = HTTP status."""
    errors = [{"code": status, "description": str(description)} for description in descriptions]
    return render(fmt, "errors", errors, status=status)
