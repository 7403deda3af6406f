from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.audit.models import AuditAction, AuditEntry
from gongzhi.core import personal
from gongzhi.core.errors import PermissionDenied
from gongzhi.core.testing import SmallTree, make_id_number, make_user, superactor
from gongzhi.imports.results import RowError
from gongzhi.imports.services import export_workbook, import_file, import_rows
from gongzhi.imports.tests.factories import numbered, xlsx_bytes
from gongzhi.imports.workbook import build_template
from gongzhi.people.models import Person, Residency
from gongzhi.territory.models import Node, NodeKind, NodeStats
from gongzhi.territory.services import node_create, stats_rebuild

pytestmark = pytest.mark.django_db

BUILDING = "KXL-CDHF-1"


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


def good_rows() -> list[dict[str, Any]]:
    return [
        {
            "building_code": BUILDING,
            "door_number": "201",
            "floor_area": 88.5,
            "party_household": "是",
            "name": "王芳",
            "phone": "139 0000 1111",
            "id_number": make_id_number(11, "19500101"),
            "gender": "女",
            "relation": "业主",
            "share": 0.6,
            "tags": "独居老人,低保",
        },
        {
            "building_code": BUILDING,
            "door_number": "201",
            "floor_area": 88.5,
            "name": "刘强",
            "id_number": make_id_number(12, "19520202"),
            "gender": "男",
            "relation": "业主",
            "share": 0.4,
        },
        {
            "building_code": BUILDING,
            "door_number": "201",
            "name": "刘小明",
            "relation": "家庭成员",
            "birth_year": 2015,
        },
        {"building_code": BUILDING, "door_number": "202", "floor_area": "70"},  # an empty flat
        {
            "building_code": "KXL-DY-3",
            "door_number": "301",
            "floor_area": 65,
            "name": "赵敏",
            "phone": "13700002222",
            "relation": "租户",
        },
    ]


def stats() -> dict[int, tuple[int, int, int, int]]:
    return {
        s.node_id: (s.households, s.residents, s.party_members, s.building_leaders)
        for s in NodeStats.objects.all()
    }


def snapshot() -> tuple[Any, ...]:
    return (
        Node.objects.count(),
        Person.objects.count(),
        Residency.objects.count(),
        Person.tags.through.objects.count(),
        AuditEntry.objects.count(),
        stats(),
        sorted(Person.objects.values_list("pk", "name", "phone", "gender", "birth_year")),
        sorted(Node.objects.values_list("pk", "floor_area", "is_party_member_household")),
    )


def run(rows: list[dict[str, Any]], actor: Any = None, **kwargs: Any) -> Any:
    return import_file(
        actor=actor or superactor(), kind="roster", file=io.BytesIO(xlsx_bytes("roster", rows)), **kwargs
    )


def test_good_roster_imports_with_exact_counts_and_roll_ups(tree: SmallTree) -> None:
    result = run(good_rows())
    assert result.errors == []
    assert result.summary() == {
        "rows": 5,
        "households": {"created": 3, "updated": 0, "unchanged": 0},
        "people": {"created": 4, "updated": 0, "unchanged": 0},
    }
    household = Node.objects.get(code="KXL-CDHF-1-201")
    assert household.kind == NodeKind.HOUSEHOLD
    assert household.path[: -Node.steplen] == tree.building_a.path
    assert (household.door_number, household.floor_area) == ("201", Decimal("88.50"))
    assert household.is_party_member_household is True
    wang = Person.objects.get(name="王芳")
    assert (wang.phone, wang.gender, wang.birth_year, wang.home_id) == (
        "13900001111",
        "female",
        1950,
        household.pk,
    )
    assert personal.decrypt(wang.id_number_encrypted) == make_id_number(11, "19500101")
    assert make_id_number(11, "19500101") not in wang.id_number_encrypted
    assert sorted(wang.tags.values_list("code", flat=True)) == ["elderly_alone", "subsistence"]
    shares = dict(
        Residency.objects.filter(household=household).values_list("person__name", "ownership_share")
    )
    assert shares == {"王芳": Decimal("0.6000"), "刘强": Decimal("0.4000"), "刘小明": None}
    assert Residency.objects.get(person__name="赵敏").relation == "tenant"
    assert NodeStats.objects.get(node=tree.community).residents == 2 + 4
    assert NodeStats.objects.get(node=tree.community).households == 3 + 3
    before = stats()
    stats_rebuild()
    assert stats() == before
    entry = AuditEntry.objects.get(action=AuditAction.IMPORT)
    assert entry.node_path == tree.grid_a.path[: len(tree.community.path)]
    assert entry.changes["people"]["created"] == 4


def test_importing_the_same_file_twice_creates_nothing_the_second_time(tree: SmallTree) -> None:
    assert run(good_rows()).ok
    before = snapshot()
    result = run(good_rows())
    assert result.summary() == {
        "rows": 5,
        "households": {"created": 0, "updated": 0, "unchanged": 3},
        "people": {"created": 0, "updated": 0, "unchanged": 4},
    }
    after = snapshot()
    assert after[:4] == before[:4] and after[5:] == before[5:]
    assert after[4] == before[4] + 1  # only the audit row of the second import


def test_changed_rows_update_and_report_updated(tree: SmallTree) -> None:
    assert run(good_rows()).ok
    rows = good_rows()
    rows[0]["phone"] = "13900009999"
    rows[0]["floor_area"] = rows[1]["floor_area"] = 90
    rows[2]["tags"] = "残疾人"
    result = run(rows)
    assert result.summary()["households"] == {"created": 0, "updated": 1, "unchanged": 2}
    assert result.summary()["people"] == {"created": 0, "updated": 2, "unchanged": 2}
    wang = Person.objects.get(name="王芳")
    assert (wang.phone, wang.phone_last4) == ("13900009999", "9999")
    assert list(Person.objects.get(name="刘小明").tags.values_list("code", flat=True)) == ["disabled"]
    assert Node.objects.get(code="KXL-CDHF-1-201").floor_area == Decimal("90.00")


def _with(index: int, **changes: Any) -> list[dict[str, Any]]:
    rows = good_rows()
    rows[index].update(changes)
    return rows


BAD_FILES = [
    pytest.param(
        _with(1, floor_area=99),
        RowError(
            3,
            "建筑面积(㎡)",
            "Door number 201 appears again with a different floor area (88.50 m² on row 2).",
        ),
        id="duplicate-door-different-area",
    ),
    pytest.param(
        _with(4, building_code="NOPE-9"),
        RowError(6, "楼栋编码", "Unknown building or entrance code: NOPE-9."),
        id="unknown-building",
    ),
    pytest.param(
        _with(4, phone="1370000222"),
        RowError(6, "手机号", "1370000222 is not a valid phone number (an 11-digit mobile or a landline)."),
        id="malformed-phone",
    ),
    pytest.param(
        _with(1, id_number=make_id_number(12, "19520202")[:17] + "0"),
        RowError(3, "身份证号", "The ID number's check digit is wrong."),
        id="bad-id-check-digit",
    ),
    pytest.param(
        _with(3, floor_area=0),
        RowError(5, "建筑面积(㎡)", "0 m² is not a possible floor area (more than 0, at most 10000)."),
        id="zero-area",
    ),
    pytest.param(
        _with(3, floor_area=12000),
        RowError(5, "建筑面积(㎡)", "12000 m² is not a possible floor area (more than 0, at most 10000)."),
        id="huge-area",
    ),
    pytest.param(
        _with(3, floor_area="七十"),
        RowError(5, "建筑面积(㎡)", "七十 is not a number."),
        id="area-not-a-number",
    ),
    pytest.param(
        _with(2, relation="房东"),
        RowError(4, "与户关系", "房东 is not one of: 业主、租户、家庭成员."),
        id="bad-relation",
    ),
    pytest.param(
        _with(1, share=0.5),
        RowError(3, "产权份额", "The owners' shares of door number 201 add up to more than 1."),
        id="owner-shares-over-one",
    ),
    pytest.param(
        _with(1, id_number=make_id_number(11, "19500101")),
        RowError(3, "身份证号", "This ID number also appears on row 2."),
        id="duplicate-id-in-file",
    ),
    pytest.param(
        _with(4, id_number=make_id_number(1)),
        RowError(6, "身份证号", "This ID number is already registered to another person."),
        id="id-of-another-person",
    ),
    pytest.param(
        _with(2, name=None),
        RowError(4, "姓名", "A value is required."),
        id="missing-name",
    ),
    pytest.param(
        _with(4, door_number=None),
        RowError(6, "门牌号", "A value is required."),
        id="missing-door",
    ),
    pytest.param(
        _with(0, tags="独居老人,外星人"),
        RowError(2, "标签", "Unknown tag: 外星人."),
        id="unknown-tag",
    ),
    pytest.param(
        _with(2, share=0.2),
        RowError(4, "产权份额", "Only an owner has a share of the floor area."),
        id="share-of-non-owner",
    ),
]


@pytest.mark.parametrize(("rows", "expected"), BAD_FILES)
def test_one_bad_row_changes_nothing_and_is_reported_exactly(
    tree: SmallTree, rows: list[dict[str, Any]], expected: RowError
) -> None:
    before = snapshot()
    result = run(rows)
    assert result.errors == [expected]
    assert snapshot() == before


def test_every_bad_row_is_reported_not_only_the_first(tree: SmallTree) -> None:
    rows = good_rows()
    rows[0]["phone"] = "12345"
    rows[4]["building_code"] = "NOPE"
    result = run(rows)
    assert [(e.row, e.column) for e in result.sorted_errors()] == [(2, "手机号"), (6, "楼栋编码")]


def test_dry_run_counts_but_writes_nothing(tree: SmallTree) -> None:
    before = snapshot()
    result = run(good_rows(), dry_run=True)
    assert result.ok and result.summary()["people"]["created"] == 4
    assert snapshot() == before


def test_building_outside_the_importers_scope_is_an_unknown_code(tree: SmallTree) -> None:
    root = superactor()
    other = node_create(actor=root, parent=tree.subdistrict, kind="community", code="CA", name="长安社区")
    grid = node_create(actor=root, parent=other, kind="grid", code="CA-G1", name="第一网格")
    node_create(actor=root, parent=grid, kind="building", code="CA-1", name="1号楼", floors=6)
    staff = resolve_actor(make_user(role=Role.COMMUNITY_STAFF, node=tree.community))
    rows = good_rows()
    rows[4]["building_code"] = "CA-1"
    before = snapshot()
    result = run(rows, actor=staff)
    assert result.errors == [RowError(6, "楼栋编码", "Unknown building or entrance code: CA-1.")]
    assert snapshot() == before
    # The same file without the outside row imports for that member of staff.
    assert run(rows[:4], actor=staff).ok


def test_grid_worker_cannot_import_at_all(tree: SmallTree) -> None:
    worker = resolve_actor(make_user(role=Role.GRID_WORKER, node=tree.grid_a))
    before = snapshot()
    with pytest.raises(PermissionDenied):
        import_rows(actor=worker, kind="roster", rows=numbered(good_rows()[:1]))
    assert snapshot() == before


def test_export_masks_personal_data_and_reimport_changes_nothing(tree: SmallTree) -> None:
    assert run(good_rows()).ok
    root = superactor()
    filename, data = export_workbook(actor=root, kind="roster", node_id=tree.community.pk)
    assert filename.startswith("roster-370812-01-01-")
    from openpyxl import load_workbook

    cells = [
        str(value)
        for row in load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    assert "139****1111" in cells and "138****1234" in cells
    for whole in ("13900001111", "13812341234", make_id_number(1), make_id_number(11, "19500101")):
        assert all(whole not in cell for cell in cells)
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT, node_path=tree.community.path).count() == 1
    before = snapshot()
    result = import_file(actor=root, kind="roster", file=io.BytesIO(data))
    assert result.errors == []
    assert result.summary()["households"] == {"created": 0, "updated": 0, "unchanged": 6}
    assert result.summary()["people"] == {"created": 0, "updated": 0, "unchanged": 6}
    after = snapshot()
    assert after[:4] == before[:4] and after[5:] == before[5:]
    wang = Person.objects.get(name="王芳")
    assert wang.phone == "13900001111"
    assert personal.decrypt(wang.id_number_encrypted) == make_id_number(11, "19500101")


def test_export_outside_scope_is_not_found_and_without_permission_denied(tree: SmallTree) -> None:
    from gongzhi.core.errors import NotFound

    staff = resolve_actor(make_user(role=Role.COMMUNITY_STAFF, node=tree.grid_a))
    with pytest.raises(NotFound):
        export_workbook(actor=staff, kind="roster", node_id=tree.grid_b.pk)
    worker = resolve_actor(make_user(role=Role.GRID_WORKER, node=tree.grid_a))
    with pytest.raises(PermissionDenied):
        export_workbook(actor=worker, kind="roster", node_id=tree.grid_a.pk)
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


def test_the_template_example_row_matches_the_small_tree(tree: SmallTree) -> None:
    before = snapshot()
    result = import_file(actor=superactor(), kind="roster", file=io.BytesIO(build_template("roster")))
    assert result.errors == []
    assert result.summary()["people"] == {"created": 0, "updated": 0, "unchanged": 1}
    after = snapshot()
    assert after[:4] == before[:4] and after[5:] == before[5:]


def test_a_missing_column_is_reported_on_the_header_row(tree: SmallTree) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["门牌号", "姓名"])
    sheet.append(["101", "张三"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = import_file(actor=superactor(), kind="roster", file=io.BytesIO(buffer.getvalue()))
    assert result.errors == [RowError(1, "楼栋编码", "This column is missing.")]


def test_reimporting_an_export_matches_households_by_door_whatever_their_code(tree: SmallTree) -> None:
    """Regression: the demo's households do not follow the `<parent code>-<door>` rule; an export of
    them re-imported once created every household and person a second time."""
    from gongzhi.territory.services import NodeSpec, nodes_bulk_add

    odd = nodes_bulk_add(
        tree.building_a,
        [
            NodeSpec(
                NodeKind.HOUSEHOLD,
                "DEMO-H-000777",
                "701",
                {"door_number": "701", "floor_area": Decimal("70")},
            ),
        ],
    )[0]
    from gongzhi.people.services import PersonData, person_create

    person_create(
        actor=superactor(),
        home_id=odd.pk,
        relation="owner",
        data=PersonData(name="赵兰", phone="13700007777"),
    )
    root = superactor()
    _, data = export_workbook(actor=root, kind="roster", node_id=tree.community.pk)
    before = snapshot()
    result = import_file(actor=root, kind="roster", file=io.BytesIO(data))
    assert result.errors == []
    assert result.summary()["households"]["created"] == 0
    assert result.summary()["people"]["created"] == 0
    after = snapshot()
    assert after[:4] == before[:4]


def test_new_people_get_fresh_keys_and_their_own_residencies_and_tags(tree: SmallTree) -> None:
    # The import assigns the new people's keys itself (no read-back): every residency and tag
    # row must point at the person of its own row, and the keys follow every stored one.
    largest = max(Person.objects.values_list("pk", flat=True))
    rows = [
        {
            "building_code": BUILDING,
            "door_number": f"{floor}0{door}",
            "name": f"居民{floor}{door}{member}",
            "id_number": make_id_number(floor * 100 + door * 10 + member, "19600101"),
            "relation": "业主" if member == 0 else "家庭成员",
            "tags": "低保" if member == 1 else None,
        }
        for floor in range(2, 8)  # 101 and 102 exist already
        for door in range(1, 3)
        for member in range(3)
    ]
    result = import_rows(actor=superactor(), kind="roster", rows=numbered(rows))
    assert result.ok, result.sorted_errors()
    people = Person.objects.filter(name__startswith="居民")
    assert len(people) == 36 and min(p.pk for p in people) > largest
    for person in people.prefetch_related("tags", "residencies__household"):
        (residency,) = person.residencies.all()
        expected_door = f"{person.name[2]}0{person.name[3]}"
        assert residency.household.door_number == expected_door == person.home.door_number
        assert residency.relation == ("owner" if person.name.endswith("0") else "family")
        assert [t.code for t in person.tags.all()] == (["subsistence"] if person.name.endswith("1") else [])
        serial = int(person.name[2]) * 100 + int(person.name[3]) * 10 + int(person.name[4])
        assert personal.decrypt(person.id_number_encrypted) == make_id_number(serial, "19600101")
    later = Person.objects.create(name="后来者", home=tree.household_a1)
    assert later.pk > max(p.pk for p in people)


def test_a_failure_while_writing_rolls_everything_back(
    tree: SmallTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gongzhi.imports import roster

    before = snapshot()

    def broken(residents: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(roster, "_count_residents", broken)
    with pytest.raises(RuntimeError):
        run(good_rows())
    assert snapshot() == before
    monkeypatch.undo()
    assert run(good_rows()).ok  # and nothing reserved or half-written is in the way
