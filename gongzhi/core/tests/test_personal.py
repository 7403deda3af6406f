import hashlib
import hmac

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core import personal

VALID_IDS = ["11010519491231002X", "440524188001010014"]


@pytest.mark.parametrize("id_number", VALID_IDS)
def test_it_accepts_known_valid_id_numbers(id_number):
    assert personal.validate_id_number(id_number.lower()) == id_number


@pytest.mark.parametrize(
    ("id_number", "code"),
    [
        ("110105194912310021", "invalid_id_check_digit"),
        ("11010519491331002X", "invalid_id_date"),
        ("1101051949123100", "invalid_id_shape"),
        ("11010519491231002Y", "invalid_id_shape"),
    ],
)
def test_it_rejects_bad_id_numbers_with_a_reason(id_number, code):
    with pytest.raises(ValidationError) as caught:
        personal.validate_id_number(id_number)
    assert caught.value.code == code


@given(st.from_regex(r"\A[1-6]\d{5}(19[5-9]\d|200\d)(0[1-9]|1[0-2])(0[1-9]|1\d|2[0-8])\d{3}\Z"))
def test_exactly_one_check_digit_is_valid(first17):
    right = personal.id_check_digit(first17)
    assert personal.validate_id_number(first17 + right) == first17 + right
    for wrong in set("0123456789X") - {right}:
        with pytest.raises(ValidationError):
            personal.validate_id_number(first17 + wrong)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("138 1234 1234", "13812341234"), ("+8613812341234", "13812341234"), ("0537-3412345", "0537-3412345")],
)
def test_it_normalizes_valid_phones(raw, normal):
    assert personal.validate_phone(raw) == normal


@pytest.mark.parametrize("raw", ["12812341234", "1381234123", "hello", "138123412345"])
def test_it_rejects_malformed_phones(raw):
    with pytest.raises(ValidationError):
        personal.validate_phone(raw)


def test_masks_never_show_the_whole_value():
    assert personal.mask_phone("13812341234") == "138****1234"
    masked = personal.mask_id_number("11010519491231002X")
    assert masked == "110**************X"
    assert "19491231" not in masked


def test_encryption_round_trips_and_hides_the_value(settings):
    token = personal.encrypt("11010519491231002X")
    assert "11010519491231002X" not in token
    assert personal.decrypt(token) == "11010519491231002X"
    assert personal.encrypt("11010519491231002X") != token  # random IV: equal values don't look equal


def test_old_keys_still_decrypt_after_rotation(settings):
    old_token = personal.encrypt("11010519491231002X")
    settings.FIELD_ENCRYPTION_KEYS = [personal.generate_field_key(), *settings.FIELD_ENCRYPTION_KEYS]
    assert personal.decrypt(old_token) == "11010519491231002X"


def test_lookup_hash_depends_on_the_key(settings):
    first = personal.lookup_hash("11010519491231002X")
    settings.LOOKUP_HASH_KEY = "another-key"
    assert personal.lookup_hash("11010519491231002X") != first


def test_new_tokens_are_aes_gcm_and_shorter_than_fernet(settings):
    token = personal.encrypt("11010519491231002X")
    old = Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode()).encrypt(b"11010519491231002X").decode()
    assert token.startswith("v2:")
    assert len(token) < len(old)


def test_tokens_written_with_fernet_before_still_decrypt(settings):
    # The format of rows written before v2: a plain Fernet token under the first key.
    old_token = Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode()).encrypt(b"11010519491231002X").decode()
    assert personal.decrypt(old_token) == "11010519491231002X"
    settings.FIELD_ENCRYPTION_KEYS = [personal.generate_field_key(), *settings.FIELD_ENCRYPTION_KEYS]
    assert personal.decrypt(old_token) == "11010519491231002X"  # and after a rotation
    assert personal.decrypt(personal.encrypt("440524188001010014")) == "440524188001010014"


@pytest.mark.parametrize("old_format", [False, True])
def test_a_removed_key_cannot_decrypt_either_format(settings, old_format):
    if old_format:
        token = Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode()).encrypt(b"11010519491231002X").decode()
    else:
        token = personal.encrypt("11010519491231002X")
    settings.FIELD_ENCRYPTION_KEYS = [personal.generate_field_key()]
    with pytest.raises(ValueError, match="no configured key"):
        personal.decrypt(token)


def test_a_tampered_token_does_not_decrypt():
    token = personal.encrypt("11010519491231002X")
    body = token[3:]
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    with pytest.raises(ValueError):
        personal.decrypt("v2:" + flipped)
    with pytest.raises(ValueError):
        personal.decrypt("v2:not base64!")


@given(st.text(min_size=1, max_size=40))
def test_any_text_round_trips(value):
    assert personal.decrypt(personal.encrypt(value)) == value


def test_lookup_hash_is_the_plain_hmac_of_the_value(settings):
    # Stored hashes must keep matching: the cached keyed HMAC gives the same digest.
    expected = hmac.new(settings.LOOKUP_HASH_KEY.encode(), b"11010519491231002X", hashlib.sha256).hexdigest()
    assert personal.lookup_hash("11010519491231002X") == expected
    assert personal.lookup_hash("11010519491231002X") == expected  # the cached key is not consumed


@pytest.mark.parametrize(
    ("name", "masked"),
    [("王秀英", "王*英"), ("王丽", "王*"), ("欧阳修远", "欧**远"), ("李", "*"), ("", ""), (" 张强 ", "张*")],
)
def test_a_name_is_masked_to_its_first_and_last_characters(name: str, masked: str) -> None:
    assert personal.mask_name(name) == masked
