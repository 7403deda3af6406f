import pytest
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
