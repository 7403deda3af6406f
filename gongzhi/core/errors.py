"""Domain errors. Views and the API map them to HTTP once (config/api.py, core/views)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    """A use case refused: a stable machine code plus a translated, human message."""

    code = "invalid"
    status = 400

    def __init__(self, message: Any = None, *, code: str | None = None, extra: dict[str, Any] | None = None):
        self.message = message if message is not None else _("The request could not be completed.")
        if code:
            self.code = code
        self.extra = extra or {}
        super().__init__(str(self.message))


class NotFound(ApplicationError):
    """Missing, or outside the actor's scope: the two are indistinguishable on purpose."""

    code = "not_found"
    status = 404

    def __init__(self, message: Any = None, **kwargs: Any):
        super().__init__(message if message is not None else _("Not found."), **kwargs)


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    status = 403

    def __init__(self, message: Any = None, **kwargs: Any):
        super().__init__(message if message is not None else _("You may not do this."), **kwargs)


class ValidationFailed(ApplicationError):
    code = "validation_failed"
    status = 422
