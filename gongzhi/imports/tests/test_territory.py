from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core.testing import SmallTree, make_user, superactor
from gongzhi.imports.results import RowError
from gongzhi.imports.services import export_workbook, import_file
from gongzhi.imports.tests.factories import xlsx_bytes
from gongzhi.imports.workbook import build_template
from gongzhi.territory.models import Node, NodeStats, Organization, OrganizationKind
from gongzhi.territory.services import stats_rebuild

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def good_rows() -> list[dict[str, Any]]:
    # Children before and after their parents: the order of rows does not matter.
    return [
        {"level": "楼栋", "code": "KXL-XY-1", "name": "1号楼", "parent_code": "KXL-XY", "floors": 18},
        {"level": "单元", "code": "KXL-XY-1-U1", "name": "1单元", "parent_code": "KXL-XY-1"},
        {"level": "网格", "code": "KXL-G03", "name": "第三网格", "parent_code": "370812-01-01"},
        {
            "level": "小区",
            "code": "KXL-XY",
            "name": "幸运小区",
            "parent_code": "KXL-G03",
            "latitude": 35.5539,
            "longitude": "116.8286",
            "year_built": 2012,
            "heating": "集中供暖",
            "property_manager": "兴业物业",
        },
        {"level": "单元", "code": "KXL-XY-1-U2", "name": "2单元", "parent_code": "KXL-XY-1"},
    ]


def run(rows: list[dict[str, Any]], actor: Any = None) -> Any:
    return import_file(
        actor=actor or superactor(), kind="territory", file=io.BytesIO(xlsx_bytes("territory", rows))
    )


@pytest.fixture
def manager(tree: SmallTree) -> Organization:
    return Organization.objects.create(code="XY-PM", name="兴业物业", kind=OrganizationKind.PROPERTY_MANAGER)


def test_good_territory_file_creates_nodes_in_any_order(tree: SmallTree, manager: Organization) -> None:
    result = run(good_rows())
    assert result.errors == []
    assert result.summary() == {"rows": 5, "nodes": {"created": 5, "updated": 0, "unchanged": 0}}
    compound = Node.objects.get(code="KXL-XY")
    assert compound.path.startswith(Node.objects.get(code="KXL-G03").path)
    assert (compound.year_built, compound.heating, compound.property_manager_id) == (
        2012,
        "central",
        manager.pk,
    )
    assert compound.latitude == Decimal("35.553900")
    building = Node.objects.get(code="KXL-XY-1")
    assert building.floors == 18 and building.numchild == 2
    assert Node.objects.filter(path__startswith=building.path, depth=building.depth + 1).count() == 2
    assert NodeStats.objects.filter(node__code__startswith="KXL-XY").count() == 4
    before = {s.node_id: s.households for s in NodeStats.objects.all()}
    stats_rebuild()
    assert {s.node_id: s.households for s in NodeStats.objects.all()} == before
    assert AuditEntry.objects.filter(action=AuditAction.IMPORT, node_path=tree.community.path).count() == 1


def test_same_territory_file_twice_and_export_reimport_change_nothing(
    tree: SmallTree, manager: Organization
) -> None:
    assert run(good_rows()).ok
    nodes = list(Node.objects.values_list("pk", "path", "name", "year_built", "floors", "latitude"))
    assert run(good_rows()).summary()["nodes"] == {"created": 0, "updated": 0, "unchanged": 5}
    _, data = export_workbook(actor=superactor(), kind="territory", node_id=tree.community.pk)
    result = import_file(actor=superactor(), kind="territory", file=io.BytesIO(data))
    assert result.errors == []
    assert result.summary()["nodes"] == {"created": 0, "updated": 0, "unchanged": 12}
    assert list(Node.objects.values_list("pk", "path", "name", "year_built", "floors", "latitude")) == nodes


def test_renaming_by_import_updates_the_node(tree: SmallTree) -> None:
    rows = [{"level": "网格", "code": "KXL-G01", "name": "第一网格（东）", "parent_code": "370812-01-01"}]
    assert run(rows).summary()["nodes"] == {"created": 0, "updated": 1, "unchanged": 0}
    assert Node.objects.get(code="KXL-G01").name == "第一网格（东）"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"level": "大队"},
            RowError(2, "层级", "大队 is not one of: 区、街道、社区、网格、微网格、小区、楼栋、单元."),
        ),
        ({"parent_code": "NOWHERE"}, RowError(2, "上级编码", "Unknown parent code: NOWHERE.")),
        ({"parent_code": "KXL-CDHF-1"}, RowError(2, "层级", "A Grid cannot be placed under a Building.")),
        ({"floors": 5}, RowError(2, "楼层数", "This column applies only to a Building.")),
        ({"property_manager": "无名物业"}, RowError(2, "物业公司", "Unknown property manager: 无名物业.")),
        ({"latitude": 95}, RowError(2, "纬度", "95 is out of range.")),
        (
            {"code": "KXL-G01", "parent_code": "370812-01"},
            RowError(2, "上级编码", "An import does not move nodes: move KXL-G01 in the tree instead."),
        ),
        ({"code": "KXL-CDHF"}, RowError(2, "层级", "The node KXL-CDHF is a Compound.")),
    ],
)
def test_bad_territory_row_changes_nothing(
    tree: SmallTree, change: dict[str, Any], expected: RowError
) -> None:
    row = {"level": "网格", "code": "KXL-G09", "name": "第九网格", "parent_code": "370812-01-01", **change}
    count = Node.objects.count()
    result = run([row])
    assert result.errors == [expected]
    assert Node.objects.count() == count


def test_duplicate_code_in_file_is_reported(tree: SmallTree) -> None:
    rows = [
        {"level": "网格", "code": "KXL-G09", "name": "第九网格", "parent_code": "370812-01-01"},
        {"level": "网格", "code": "KXL-G09", "name": "第十网格", "parent_code": "370812-01-01"},
    ]
    assert run(rows).errors == [RowError(3, "编码", "This code also appears on row 2.")]
    assert not Node.objects.filter(code="KXL-G09").exists()


def test_parent_outside_scope_is_unknown_and_nothing_is_written(tree: SmallTree) -> None:
    staff = resolve_actor(make_user(role=Role.COMMUNITY_STAFF, node=tree.grid_a))
    rows = [
        {"level": "小区", "code": "NEW-A", "name": "新区A", "parent_code": "KXL-G01"},
        {"level": "小区", "code": "NEW-B", "name": "新区B", "parent_code": "KXL-G02"},
    ]
    result = run(rows, actor=staff)
    assert result.errors == [RowError(3, "上级编码", "Unknown parent code: KXL-G02.")]
    assert not Node.objects.filter(code__startswith="NEW-").exists()


def test_only_a_superuser_creates_a_district(tree: SmallTree) -> None:
    admin = resolve_actor(make_user(role=Role.DISTRICT_ADMIN, node=tree.district))
    rows = [{"level": "区", "code": "370811", "name": "任城区"}]
    assert run(rows, actor=admin).errors == [
        RowError(2, "层级", "Only a system administrator can create a district.")
    ]
    assert run(rows).ok
    assert Node.objects.get(code="370811").depth == 1


def test_territory_template_imports_into_the_small_tree(tree: SmallTree) -> None:
    result = import_file(actor=superactor(), kind="territory", file=io.BytesIO(build_template("territory")))
    assert result.errors == []
    assert result.summary()["nodes"] == {"created": 1, "updated": 1, "unchanged": 3}
    compound = Node.objects.get(code="KXL-CDHF")
    assert (compound.heating, compound.latitude) == ("central", Decimal("35.553900"))
