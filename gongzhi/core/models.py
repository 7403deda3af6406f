from __future__ import annotations

from django.db import models


class TimeStampedModel(models.Model):
    """Base for domain rows: when a row was made and last changed (UTC, aware)."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
