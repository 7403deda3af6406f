"""Personal data: validation, masking, encryption at rest and keyed look-up hashes.

PIPL treats ID numbers as sensitive personal information: they are stored only encrypted
(keys from the environment, rotatable) beside an HMAC for exact look-up, and shown masked
everywhere unless a permitted user reveals them with a reason (audited).

Stored tokens come in two formats, both read with every configured key (rotation: the first
key encrypts, the others still decrypt):

- `v2:<base64url(nonce ‖ ciphertext ‖ tag)>`, written now: AES-256-GCM with a random 96-bit
  nonce, under a key derived (HMAC-SHA256) from each configured Fernet key. About five times
  cheaper than Fernet and half as long, which matters for imports of millions of residents.
- Fernet tokens (`gAAAA…`), written before: still decrypted, never written again.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import os
import re
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from gongzhi.core import clock

# Mainland mobile numbers: 11 digits starting 1[3-9]. Landlines: optional area code + 7-8 digits.
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_PHONE_NOISE = re.compile(r"[\s()]")
_DIGITS = {str(digit): digit for digit in range(10)}


def normalize_phone(raw: str) -> str:
    """Strip spaces, dashes in mobiles and a +86 prefix; keep landline dashes."""
    value = _PHONE_NOISE.sub("", raw or "")
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    digits = value.replace("-", "")
    return digits if _MOBILE.match(digits) else value


def validate_phone(raw: str) -> str:
    if raw and _MOBILE.fullmatch(raw):  # the common case, already in normal form
        return raw
    value = normalize_phone(raw)
    if not (_MOBILE.match(value) or _LANDLINE.match(value)):
        raise ValidationError(
            _("%(value)s is not a valid phone number (an 11-digit mobile or a landline)."),
            code="invalid_phone",
            params={"value": raw},
        )
    return value


def id_check_digit(first17: str) -> str:
    if len(first17) != 17:
        raise ValueError("an ID number's check digit follows 17 digits")
    digits = _DIGITS
    try:
        total = sum([digits[digit] * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True)])
    except KeyError:  # other Unicode digits (\d matches them): the slow way, int() reads them
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
    try:
        born = dt.date(year, month, day)
    except ValueError as exc:
        raise ValidationError(
            _("The ID number contains an impossible birth date."), code="invalid_id_date"
        ) from exc
    if born.year < 1880 or born > clock.today():
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


def mask_name(name: str) -> str:
    """王*英, 王*, 欧阳**锋: the first and (from three characters) the last character kept."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return f"{name[0]}*"
    return f"{name[0]}{'*' * (len(name) - 2)}{name[-1]}"


def mask_id_number(id_number: str) -> str:
    """Never the whole number: the region's first digits and the check digit only."""
    if not id_number:
        return ""
    return f"{id_number[:3]}{'*' * (len(id_number) - 4)}{id_number[-1]}"


# Personal data inside free text (a description, a comment): mobiles (with +86 or not), e-mail
# addresses, and ID numbers whose check digit is right (other long numbers are left alone).
_MOBILE_IN_TEXT = re.compile(
    r"(?<!\d)(?:\+?86[-\s]?)?1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}(?!\d)"
)  # 139-0000 0000 too
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_NOT_DIGIT = re.compile(r"\D")
_ID_IN_TEXT = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")


def _masked_id(match: re.Match[str]) -> str:
    number = match.group().upper()
    return mask_id_number(number) if id_check_digit(number[:17]) == number[17] else match.group()


def mask_personal_text(text: str, *, names: tuple[str, ...] = ()) -> str:
    """Free text fit for strangers (a public list, a webhook's receiver): mobile numbers masked
    (138****5678), e-mail addresses replaced, ID numbers masked, and each of `names` (the reporter's)
    reduced to its first character."""
    text = _MOBILE_IN_TEXT.sub(lambda match: mask_phone(_NOT_DIGIT.sub("", match.group())[-11:]), text or "")
    text = _EMAIL_IN_TEXT.sub("***@***", text)
    text = _ID_IN_TEXT.sub(_masked_id, text)
    for name in names:
        name = (name or "").strip()
        if len(name) >= 2:
            text = text.replace(name, name[0] + "*" * (len(name) - 1))
    return text


_TOKEN_V2 = "v2:"
_NONCE_BYTES = 12
_AES_GCM_LABEL = b"gongzhi.personal.aes-256-gcm.v2"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


@lru_cache(maxsize=4)
def _aead(keys: tuple[str, ...]) -> tuple[AESGCM, ...]:
    """One AES-256-GCM cipher per configured key, the encrypting one first."""
    if not keys:
        raise ValueError("no field encryption key is configured")
    ciphers = []
    for key in keys:
        Fernet(key.encode())  # the same check of the configured keys as before
        secret = base64.urlsafe_b64decode(key.encode())
        # Never the same key bytes for two algorithms: derive the AES key from the Fernet key.
        ciphers.append(AESGCM(hmac.new(secret, _AES_GCM_LABEL, hashlib.sha256).digest()))
    return tuple(ciphers)


def encrypt(value: str) -> str:
    if not value:
        return ""
    cipher = _aead(tuple(settings.FIELD_ENCRYPTION_KEYS))[0]
    nonce = os.urandom(_NONCE_BYTES)  # random 96-bit nonces: safe far beyond any city's residents
    sealed = cipher.encrypt(nonce, value.encode(), _AES_GCM_LABEL)
    return _TOKEN_V2 + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    keys = tuple(settings.FIELD_ENCRYPTION_KEYS)
    if not token.startswith(_TOKEN_V2):  # a Fernet token written before the v2 format
        try:
            return _fernet(keys).decrypt(token.encode()).decode()
        except InvalidToken as exc:  # a key was removed before its rows were re-encrypted
            raise ValueError("cannot decrypt: no configured key matches") from exc
    try:
        raw = base64.urlsafe_b64decode(token[len(_TOKEN_V2) :].encode())
    except (binascii.Error, ValueError) as exc:
        raise ValueError("cannot decrypt: not a valid token") from exc
    nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
    for cipher in _aead(keys):
        try:
            return cipher.decrypt(nonce, sealed, _AES_GCM_LABEL).decode()
        except (InvalidTag, ValueError):
            continue
    raise ValueError("cannot decrypt: no configured key matches")


def lookup_hash(value: str) -> str:
    """Keyed hash for exact look-up; without the key it cannot be brute-forced from the ID space."""
    if not value:
        return ""
    keyed = _keyed_hash(settings.LOOKUP_HASH_KEY).copy()  # cheaper than keying a new HMAC
    keyed.update(value.encode())
    return keyed.hexdigest()


@lru_cache(maxsize=4)
def _keyed_hash(key: str) -> hmac.HMAC:
    return hmac.new(key.encode(), digestmod=hashlib.sha256)


def generate_field_key() -> str:
    return Fernet.generate_key().decode()
