"""Personal data: validation, masking, encryption at rest and keyed look-up hashes.

PIPL treats ID numbers as sensitive personal information: they are stored only encrypted
(Fernet, keys from the environment, rotatable) beside an HMAC for exact look-up, and shown
masked everywhere unless a permitted user reveals them with a reason (audited).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Mainland mobile numbers: 11 digits starting 1[3-9]. Landlines: optional area code + 7-8 digits.
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


def normalize_phone(raw: str) -> str:
    """Strip spaces, dashes in mobiles and a +86 prefix; keep landline dashes."""
    value = re.sub(r"[\s()]", "", raw or "")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    digits = value.replace("-", "")
    return digits if _MOBILE.match(digits) else value


def validate_phone(raw: str) -> str:
    value = normalize_phone(raw)
    if not (_MOBILE.match(value) or _LANDLINE.match(value)):
        raise ValidationError(
            _("%(value)s is not a valid phone number (an 11-digit mobile or a landline)."),
            code="invalid_phone",
            params={"value": raw},
        )
    return value


def id_check_digit(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalize_id_number(raw: str) -> str:
    return (raw or "").strip().upper().replace(" ", "")


def validate_id_number(raw: str) -> str:
    """Validate a resident ID number (GB 11643-1999): shape, birth date and check digit."""
    value = normalize_id_number(raw)
    if not _ID_SHAPE.match(value):
        raise ValidationError(
            _("An ID number has 17 digits followed by a digit or X."), code="invalid_id_shape"
        )
    year, month, day = int(value[6:10]), int(value[10:12]), int(value[12:14])
    import datetime as dt

    try:
        born = dt.date(year, month, day)
    except ValueError as exc:
        raise ValidationError(
            _("The ID number contains an impossible birth date."), code="invalid_id_date"
        ) from exc
    if born.year < 1880 or born > dt.date.today():
        raise ValidationError(_("The ID number contains an impossible birth date."), code="invalid_id_date")
    if id_check_digit(value[:17]) != value[17]:
        raise ValidationError(_("The ID number's check digit is wrong."), code="invalid_id_check_digit")
    return value


def mask_phone(phone: str) -> str:
    """138****1234 for mobiles; landlines keep the area code and last 2 digits."""
    if not phone:
        return ""
    if _MOBILE.match(phone):
        return f"{phone[:3]}****{phone[-4:]}"
    return f"{phone[:4]}****{phone[-2:]}" if len(phone) > 6 else "****"


def mask_id_number(id_number: str) -> str:
    """Never the whole number: the region's first digits and the check digit only."""
    if not id_number:
        return ""
    return f"{id_number[:3]}{'*' * (len(id_number) - 4)}{id_number[-1]}"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a key was removed before its rows were re-encrypted
        raise ValueError("cannot decrypt: no configured key matches") from exc


def lookup_hash(value: str) -> str:
    """Keyed hash for exact look-up; without the key it cannot be brute-forced from the ID space."""
    if not value:
        return ""
    return hmac.new(settings.LOOKUP_HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


def generate_field_key() -> str:
    return Fernet.generate_key().decode()
