"""Back office: the targets of the three rates, set by district admins (audited), shown on the cards."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gongzhi.accounts.models import Role
from gongzhi.audit.models import AuditEntry
from gongzhi.core.testing import make_user
from gongzhi.insight.models import RateTarget
from gongzhi.insight.selectors import targets_for
from gongzhi.tickets.tests.factories import World, make_world
from gongzhi.tickets.tests.test_admin import staff_client

pytestmark = [pytest.mark.django_db]
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
ADD = "/admin/insight/ratetarget/add/"


@pytest.fixture
def world() -> World:
    return make_world()


def test_a_district_admin_sets_a_target_for_a_level(world: World) -> None:
    client = staff_client(make_user("district", role=Role.DISTRICT_ADMIN, node=world.tree.district))
    assert client.get("/admin/insight/ratetarget/", **EN).status_code == 200
    response = client.post(ADD, {"level": "community", "rate": "satisfaction", "percent": "92.5"}, **EN)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert targets_for("community")["satisfaction"] == Decimal("92.5")
    assert targets_for("grid")["satisfaction"] == Decimal(90)  # other levels keep theirs
    assert AuditEntry.objects.filter(target_type="insight.ratetarget").count() == 1


def test_a_target_above_100_percent_is_refused_and_nothing_is_saved(world: World) -> None:
    client = staff_client(make_user("district", role=Role.DISTRICT_ADMIN, node=world.tree.district))
    response = client.post(ADD, {"level": "grid", "rate": "response", "percent": "120"}, **EN)
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 100." in response.content.decode()
    assert not RateTarget.objects.exists()


def test_a_community_secretary_may_not_set_targets(world: World) -> None:
    client = staff_client(make_user("secretary", role=Role.COMMUNITY_SECRETARY, node=world.tree.community))
    assert client.get("/admin/insight/ratetarget/", **EN).status_code == 403
    assert client.post(ADD, {"level": "grid", "rate": "response", "percent": "50"}, **EN).status_code == 403
    assert not RateTarget.objects.exists()
