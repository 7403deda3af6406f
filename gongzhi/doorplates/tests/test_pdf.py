from __future__ import annotations

import io
import itertools
import logging
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.test.utils import override_settings
from django.urls import resolve
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core.errors import NotFound
from gongzhi.core.testing import superactor
from gongzhi.doorplates import pdf
from gongzhi.doorplates.models import PrintLayout, PrintStatus
from gongzhi.doorplates.services import (
    doorplate_resolve,
    doorplates_for_subtree,
    doorplates_render,
    print_job_create,
)
from gongzhi.doorplates.tests.factories import PlateTree
from gongzhi.doorplates.tests.qr import decode_pdf, needs_qr_tools

SITE = "https://gongzhi.example.org"


def _print(plates: PlateTree, capture, *, reissue: bool = False, layout: str = PrintLayout.SHEETS) -> bytes:
    with capture(execute=True):
        job = print_job_create(
            actor=superactor(), node_id=plates.tree.community.pk, layout=layout, reissue=reissue
        )
    job.refresh_from_db()
    assert job.status == PrintStatus.SUCCEEDED, job.error
    with job.file.open("rb") as file:
        return file.read()


@needs_qr_tools
@pytest.mark.django_db
@pytest.mark.parametrize("layout", PrintLayout.values)
@override_settings(SITE_URL=SITE)
def test_every_printed_code_leads_to_its_entrance(
    plates: PlateTree, layout: str, tmp_path: Path, client: Client, django_capture_on_commit_callbacks
) -> None:
    data = _print(plates, django_capture_on_commit_callbacks, layout=layout)

    decoded = decode_pdf(data, tmp_path)

    assert len(decoded) == 3
    reached = []
    for address in decoded:
        parts = urlsplit(address)
        assert f"{parts.scheme}://{parts.netloc}" == SITE
        match = resolve(parts.path)
        assert match.view_name == "tickets:doorplate"
        reached.append(doorplate_resolve(match.kwargs["token"]).node)
        assert client.get(parts.path).status_code == 200
    assert sorted(node.pk for node in reached) == sorted(
        [plates.entrance_1.pk, plates.entrance_2.pk, plates.tree.building_b.pk]
    )


@needs_qr_tools
@pytest.mark.django_db
def test_reprinting_with_reissue_makes_the_old_printed_codes_stop_working(
    plates: PlateTree, tmp_path: Path, django_capture_on_commit_callbacks
) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old_codes = decode_pdf(_print(plates, django_capture_on_commit_callbacks), tmp_path / "old")
    new_codes = decode_pdf(_print(plates, django_capture_on_commit_callbacks, reissue=True), tmp_path / "new")

    assert len(old_codes) == len(new_codes) == 3
    assert not set(old_codes) & set(new_codes)
    for address in old_codes:
        with pytest.raises(NotFound):
            doorplate_resolve(resolve(urlsplit(address).path).kwargs["token"])
    new_nodes = {doorplate_resolve(resolve(urlsplit(a).path).kwargs["token"]).node_id for a in new_codes}
    assert new_nodes == {plates.entrance_1.pk, plates.entrance_2.pk, plates.tree.building_b.pk}


@needs_qr_tools
@pytest.mark.django_db
def test_plates_print_with_the_fallback_font_when_no_cjk_font_is_installed(
    plates: PlateTree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(pdf, "find_cjk_font", lambda: None)
    with caplog.at_level(logging.WARNING, logger="gongzhi.doorplates.pdf"):
        name = pdf._register_cjk_font()
    assert name == pdf.FALLBACK_CID_FONT
    assert "No CJK TrueType font" in caplog.text
    monkeypatch.setattr(pdf, "_font_name", name)
    found = doorplates_for_subtree(actor=superactor(), node_id=plates.tree.community.pk)
    out = io.BytesIO()
    doorplates_render(plates=found, layout=PrintLayout.SHEETS, out=out)

    assert b"STSong-Light" in out.getvalue()
    assert len(decode_pdf(out.getvalue(), tmp_path)) == 3


def test_the_cjk_font_is_found_and_embedded_as_a_subset() -> None:
    if pdf.find_cjk_font() is None:
        pytest.skip("no CJK TrueType font on this machine (install fonts-wqy-microhei)")
    out = io.BytesIO()
    labels = pdf.PlateLabels(
        "数字门牌", (("码上帮", "报修"),) * 4, "扫一扫", "网格员 %(name)s %(phone)s", "社区"
    )
    plate = pdf.PlateContent(
        "https://x.example/d/a.b/", ("奎星楼社区", "春都华府", "1号楼", "1单元"), "张秀英", "138****1234"
    )
    pdf.render_pdf([plate], layout=pdf.SINGLE, labels=labels, out=out)
    data = out.getvalue()
    assert pdf.cjk_font() == pdf.CJK_FONT_NAME
    assert b"/FontFile2" in data  # an embedded TrueType program
    assert b"Helvetica" in data  # Latin runs


def test_codes_are_never_micro_qr_and_correct_at_least_level_m() -> None:
    code = pdf.segno.make_qr("https://gongzhi.example.org/d/abc.def/", error="m")
    assert not code.is_micro
    assert code.error in ("M", "Q", "H")
    assert len(pdf.qr_matrix("https://gongzhi.example.org/d/abc.def/")) == code.symbol_size(border=0)[0]


@given(st.text(alphabet=st.sampled_from("Ab1 ·*—码上帮é单元①"), max_size=30))
def test_text_splits_into_alternating_latin_and_cjk_runs(text: str) -> None:
    runs = pdf._runs(text, "CJK", bold=False)
    assert "".join(chunk for _font, chunk in runs) == text
    assert all(first[0] != second[0] for first, second in itertools.pairwise(runs))
    for font, chunk in runs:
        assert all((char in pdf._LATIN) == (font == pdf.LATIN_FONT) for char in chunk)
