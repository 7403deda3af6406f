import datetime as dt

import pytest
import time_machine
from django.conf import settings

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.accounts.services import BadCredentials, LockedOut, api_token_issue, api_token_user, login_check
from gongzhi.core.testing import PASSWORD, make_user

NOW = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_it_locks_out_after_repeated_failures_even_with_the_right_password():
    user = make_user("wangli")
    with time_machine.travel(NOW, tick=False):
        for _ in range(settings.LOGIN_FAILURE_LIMIT):
            with pytest.raises(BadCredentials):
                login_check(username="wangli", password="wrong")
        with pytest.raises(LockedOut):
            login_check(username="wangli", password=PASSWORD)
    later = NOW + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES + 1)
    with time_machine.travel(later, tick=False):
        assert login_check(username="wangli", password=PASSWORD) == user


@pytest.mark.django_db
def test_a_success_resets_the_failure_count():
    make_user("zhaomin")
    with time_machine.travel(NOW, tick=False):
        for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
            with pytest.raises(BadCredentials):
                login_check(username="zhaomin", password="wrong")
        login_check(username="zhaomin", password=PASSWORD)
        with pytest.raises(BadCredentials):
            login_check(username="zhaomin", password="wrong")
        login_check(username="zhaomin", password=PASSWORD)


@pytest.mark.django_db
def test_tokens_expire_and_only_their_hash_is_stored():
    user = make_user()
    with time_machine.travel(NOW, tick=False):
        token = api_token_issue(user=user)
        assert api_token_user(token) == user
        assert not user.api_tokens.filter(key_hash=token).exists()
    with time_machine.travel(NOW + dt.timedelta(days=settings.API_TOKEN_DAYS, seconds=1), tick=False):
        assert api_token_user(token) is None


def test_expired_and_future_roles_give_no_scope(tree):
    past = make_user(
        role=Role.GRID_WORKER, node=tree.grid_a, starts_on=dt.date(2020, 1, 1), ends_on=dt.date(2021, 1, 1)
    )
    future = make_user(role=Role.GRID_WORKER, node=tree.grid_a, starts_on=dt.date(2099, 1, 1))
    assert resolve_actor(past).grants == ()
    assert resolve_actor(future).grants == ()


def test_an_organization_role_scopes_to_the_nodes_it_serves(tree):
    from gongzhi.territory.models import Organization, OrganizationKind

    water = Organization.objects.create(code="water", name="供水公司", kind=OrganizationKind.DEPARTMENT)
    water.nodes.add(tree.grid_b)
    handler = make_user(role=Role.DEPARTMENT_HANDLER, organization=water)
    actor = resolve_actor(handler)
    assert actor.paths_for() == (tree.grid_b.path,)
