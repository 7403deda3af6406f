"""Surveys and owners' votes in the browser.

A survey answered on a 375-px phone, its live results with charts; an owners' vote on a compound's
heating retrofit (art. 278 item 7, three-quarters) with a ballot cast in person on a phone, a proxy
ballot and a paper ballot entered by staff, the live tally crossing its thresholds, the voter
checking the receipt, and the published result. axe-core checks every page; screenshots at 375 and
1280 px."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from gongzhi.accounts.models import Role
from gongzhi.accounts.scope import resolve_actor
from gongzhi.core.personal import mask_phone
from gongzhi.core.testing import build_small_tree, make_user, superactor
from gongzhi.notifications.models import Notification
from gongzhi.people.models import Person, Residency
from gongzhi.surveys.models import Survey, SurveyResponse
from gongzhi.surveys.services import QuestionSpec, survey_answer, survey_create, survey_open
from gongzhi.territory.models import NodeKind
from gongzhi.territory.services import NodeSpec, node_create, nodes_bulk_add
from gongzhi.votes.models import Ballot, Vote, VoteStatus

from .conftest import PHONE, Site

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _last_code(phone: str) -> str:
    message = Notification.objects.filter(
        phone__in=[phone, mask_phone(phone)], event_type="phone.code"
    ).latest("pk")
    match = re.search(r"\b\d{6}\b", message.subject)
    assert match, message.subject
    return match.group()


def _confirm_phone(page: Page, phone: str) -> None:
    page.locator("#id_phone").fill(phone)
    with page.expect_navigation():
        page.locator("#phone-box button.primary").click()
    code = page.locator("#id_code")
    expect(code).to_be_visible()
    code.fill(_last_code(phone))
    with page.expect_navigation():
        page.locator("#phone-box button.primary").click()
    expect(page.locator("#phone-box .verified")).to_contain_text(mask_phone(phone))


def _english(site: Site) -> None:
    with site.page.expect_navigation():
        site.page.locator("#lang-select").select_option("en")


def _scan() -> bytes:
    image = Image.new("RGB", (800, 1100), (250, 250, 245))
    for y in range(200, 260):
        for x in range(100, 700):
            image.putpixel((x, y), (30, 30, 30))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# --- A survey on a phone ----------------------------------------------------------------------------


def test_a_survey_answered_on_a_phone_with_live_results(site: Site) -> None:
    tree = build_small_tree()
    worker = make_user("grid-a-worker", role=Role.GRID_WORKER, node=tree.grid_a)
    now = timezone.now()
    staff = resolve_actor(worker)
    survey = survey_create(
        actor=staff,
        node_id=tree.grid_a.pk,
        title="鼓楼花园供暖意愿调查",
        description="小区计划接入集中供暖，请每户填写一次。",
        respondent="household",
        opens_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(days=14),
        questions=[
            QuestionSpec("single", "您是否同意小区集中供暖改造？", ["同意", "不同意", "无所谓"]),
            QuestionSpec("multiple", "您最关心哪些问题？", ["费用", "工期", "安全", "噪音"], required=False),
            QuestionSpec("rating", "您对目前冬季室温的满意程度", required=False),
            QuestionSpec("text", "其他意见建议", required=False),
        ],
    )
    survey_open(actor=staff, survey_id=survey.pk)
    questions = list(survey.questions.all())
    page = site.page

    # The staff's survey pages: the list and a new survey's question rows.
    site.login("grid-a-worker")
    _english(site)
    site.goto("/surveys/new/")
    page.locator("button[value=add]").click()
    expect(page.locator("fieldset.question-row")).to_have_count(2)
    site.assert_accessible("survey new")
    site.screenshot("survey-new")

    # The resident: the QR link on a 375-px phone, the phone confirmed, the answers.
    resident = site.context.browser.new_context(locale="zh-CN", viewport=PHONE, timezone_id="Asia/Shanghai")
    phone_page = resident.new_page()
    phone_site = Site(page=phone_page, context=resident, base_url=site.base_url)
    phone_site.goto(f"/s/{survey.pk}/")
    expect(phone_page.locator("h1")).to_have_text("鼓楼花园供暖意愿调查")
    phone_site.assert_accessible("survey phone step")
    phone_site.screenshot("survey-resident-phone")
    phone_page.set_viewport_size(PHONE)
    _confirm_phone(phone_page, tree.resident_a.phone)
    phone_page.locator(f"input[name=answer-{questions[0].pk}][value='0']").check()
    phone_page.locator(f"input[name=answer-{questions[1].pk}][value='0']").check()
    phone_page.locator(f"input[name=answer-{questions[1].pk}][value='2']").check()
    phone_page.locator(f"input[name=answer-{questions[2].pk}][value='4']").check()
    phone_page.locator(f"textarea[name=answer-{questions[3].pk}]").fill("希望今年冬天前完工")
    expect(phone_page.locator("#survey-form button.submit")).to_have_text("提交我的回答")
    box = phone_page.locator("#survey-form button.submit").bounding_box()
    assert box is not None and box["height"] >= 56 and box["width"] >= 300, box
    widths = phone_page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths  # nothing sticks out of a 375-px screen
    phone_site.assert_accessible("survey answer form")
    phone_site.screenshot("survey-resident-answer")
    phone_page.set_viewport_size(PHONE)
    with phone_page.expect_navigation():
        phone_page.locator("#survey-form button.submit").click()
    expect(phone_page.locator(".done")).to_be_visible()
    phone_site.assert_accessible("survey thanks")
    phone_site.screenshot("survey-resident-thanks")
    assert SurveyResponse.objects.filter(survey=survey).count() == 1

    # A second answer from the same household is refused, nothing recorded.
    Person.objects.create(name="王秀兰", phone="13912345678", home=tree.household_a1)
    phone_site.goto(f"/s/{survey.pk}/")
    with phone_page.expect_navigation():
        phone_page.locator("#phone-box button.link").click()
    _confirm_phone(phone_page, "13912345678")
    phone_page.locator(f"input[name=answer-{questions[0].pk}][value='1']").check()
    with phone_page.expect_navigation():
        phone_page.locator("#survey-form button.submit").click()
    expect(phone_page.locator(".notice-error")).to_be_visible()
    phone_site.assert_accessible("survey refused")
    phone_site.screenshot("survey-resident-refused")
    assert SurveyResponse.objects.filter(survey=survey).count() == 1

    # The staff's list and the paper form.
    site.goto("/surveys/")
    expect(page.locator("main table")).to_contain_text("鼓楼花园供暖意愿调查")
    site.assert_accessible("survey list")
    site.screenshot("survey-list")
    site.goto(f"/surveys/{survey.pk}/paper/?q=102")
    expect(page.locator("#household-results input[name=household]")).to_have_count(1)
    site.assert_accessible("survey paper form")
    site.screenshot("survey-paper")

    # A per-person survey on paper: staff find the resident by name, a phone or not.
    Person.objects.create(name="刘桂兰", phone="", home=tree.household_a1)
    per_person = survey_create(
        actor=staff,
        node_id=tree.grid_a.pk,
        title="老年助餐需求调查",
        respondent="person",
        opens_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(days=14),
        questions=[QuestionSpec("single", "您是否需要社区助餐？", ["需要", "不需要"])],
    )
    survey_open(actor=staff, survey_id=per_person.pk)
    site.goto(f"/surveys/{per_person.pk}/paper/?q=刘")
    page.get_by_label("刘桂兰", exact=False).check()
    site.assert_accessible("paper answers for a person")
    site.screenshot("survey-paper-person")

    # Live results: charts with the figures in a table under each; a paper answer shows up by itself.
    site.goto(f"/surveys/{survey.pk}/")
    expect(page.locator(".responses-count")).to_contain_text("1 response")
    expect(page.locator("[data-chart] canvas")).to_have_count(3)
    survey_answer(
        survey_id=survey.pk,
        answers={questions[0].pk: 1, questions[2].pk: 2},
        household_id=tree.household_a2.pk,
        actor=staff,
    )
    expect(page.locator(".responses-count")).to_contain_text("2 responses", timeout=15_000)
    expect(page.locator("[data-chart] canvas")).to_have_count(3)
    site.assert_accessible("survey live results")
    site.screenshot("survey-live-results")

    # Published to residents.
    page.locator("form[action$='/publish/'] button").click()
    page.wait_for_load_state()
    assert Survey.objects.get(pk=survey.pk).results_published
    phone_site.goto(f"/s/{survey.pk}/results/")
    expect(phone_page.locator("[data-chart] canvas")).to_have_count(3)
    phone_page.set_viewport_size(PHONE)
    widths = phone_page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths  # the charts shrink with the phone's screen
    phone_site.assert_accessible("survey published results")
    phone_site.screenshot("survey-resident-results")
    resident.close()


# --- An owners' vote ------------------------------------------------------------------------------


def _compound() -> dict[str, object]:
    """鼓楼花园: 王 owns 1-101 and 1-102 (90 m² each), 李 1-201, 赵 1-202 (60 m² each), 钱 1-301 (70 m²)."""
    tree = build_small_tree()
    root = superactor()
    compound = node_create(
        actor=root, parent=tree.grid_a, kind=NodeKind.COMPOUND, code="GLHY", name="鼓楼花园"
    )
    building = node_create(actor=root, parent=compound, kind=NodeKind.BUILDING, code="GLHY-1", name="1号楼")
    doors = [("101", "90"), ("102", "90"), ("201", "60"), ("202", "60"), ("301", "70")]
    homes = nodes_bulk_add(
        building,
        [
            NodeSpec(
                NodeKind.HOUSEHOLD, f"GLHY-1-{door}", door, {"door_number": door, "floor_area": Decimal(area)}
            )
            for door, area in doors
        ],
    )
    owners = {}
    for home, (name, phone) in zip(
        homes,
        [
            ("王建国", "13900000001"),
            ("王建国", ""),
            ("李淑芬", "13900000002"),
            ("赵志强", "13900000003"),
            ("钱学森", "13900000004"),
        ],
        strict=True,
    ):
        if name not in owners:
            owners[name] = Person.objects.create(name=name, phone=phone, home=home)
        Residency.objects.create(person=owners[name], household=home, relation="owner", ownership_share=1)
    make_user("community-staff", role=Role.COMMUNITY_STAFF, node=tree.community)
    return {"compound": compound, "owners": owners}


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_an_owners_vote_on_the_heating_retrofit_crosses_its_thresholds(site: Site) -> None:
    world = _compound()
    owners = world["owners"]
    page = site.page
    site.login("community-staff")
    _english(site)

    # Prepare the vote: matter (7), which needs three-quarters.
    site.goto(f"/votes/new/?compound={world['compound'].pk}")  # type: ignore[attr-defined]
    page.locator("#id_question").fill("是否同意鼓楼花园集中供暖改造")
    page.locator("#id_description").fill("接入城市热网，户内改造由施工单位统一实施。")
    page.locator("#id_matter").select_option("rebuild")
    expect(page.locator("#threshold-hint")).to_contain_text("at least three-quarters")
    now = timezone.now()
    page.locator("#id_opens_at").fill(_local(now - dt.timedelta(minutes=5)))
    page.locator("#id_closes_at").fill(_local(now + dt.timedelta(days=14)))
    site.assert_accessible("vote new")
    site.screenshot("vote-new")
    with page.expect_navigation():
        page.locator("form.vote-form button[type=submit]").click()
    vote = Vote.objects.get()
    assert vote.threshold == "three_quarters"

    # Open it: the electorate is frozen and counted.
    with page.expect_navigation():
        page.locator(f"form[action='/votes/{vote.pk}/open/'] button").click()
    expect(page.locator(".messages")).to_contain_text("5 homes, 370.00 m², 4 owners")
    site.assert_accessible("vote detail open")
    site.screenshot("vote-detail-open")

    # The live tally, in a tab of its own.
    tally = site.context.new_page()
    tally_site = Site(page=tally, context=site.context, base_url=site.base_url)
    tally_site.goto(f"/votes/{vote.pk}/tally/")
    state = tally.locator("#tally-state")
    expect(state).to_have_attribute("data-state", "quorum_not_met")
    expect(state).to_contain_text("Quorum not yet met")
    tally_site.assert_accessible("vote tally empty")
    tally_site.screenshot("vote-tally-empty")

    # 王建国 votes in person on his phone, for both his homes.
    resident = site.context.browser.new_context(locale="zh-CN", viewport=PHONE, timezone_id="Asia/Shanghai")
    phone_page = resident.new_page()
    phone_site = Site(page=phone_page, context=resident, base_url=site.base_url)
    phone_site.goto(f"/v/{vote.pk}/")
    phone_site.assert_accessible("ballot phone step")
    phone_site.screenshot("vote-ballot-phone")
    # The "large text" switch of the residents' pages works here too.
    phone_page.set_viewport_size(PHONE)
    before = phone_page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    phone_page.locator("#large-text-toggle").click()
    after = phone_page.evaluate("() => parseFloat(getComputedStyle(document.documentElement).fontSize)")
    assert after >= before * 1.15, (before, after)
    phone_site.assert_accessible("ballot phone step, large text")
    phone_site.screenshot("vote-ballot-phone-large-text")
    phone_page.locator("#large-text-toggle").click()
    phone_page.set_viewport_size(PHONE)
    _confirm_phone(phone_page, "13900000001")
    expect(phone_page.locator(".homes li")).to_have_count(2)
    phone_page.locator("input[name=choice][value=for]").check()
    phone_site.assert_accessible("ballot choice")
    phone_site.screenshot("vote-ballot-choice")
    phone_page.set_viewport_size(PHONE)
    with phone_page.expect_navigation():
        phone_page.locator("button.submit").click()
    expect(phone_page.locator(".chosen")).to_have_class(re.compile("chosen-for"))
    phone_site.assert_accessible("ballot confirm")
    phone_site.screenshot("vote-ballot-confirm")
    phone_page.set_viewport_size(PHONE)
    with phone_page.expect_navigation():
        phone_page.locator("button.submit").click()
    short = phone_page.locator(".receipt-code").inner_text().strip()
    first = Ballot.objects.filter(vote=vote).order_by("seq").first()
    assert first is not None and short.replace(" ", "") == first.hash[:12]
    phone_site.assert_accessible("ballot receipt")
    phone_site.screenshot("vote-ballot-receipt")
    expect(state).to_contain_text("Quorum not yet met")

    # 李淑芬 by a proxy with the signed authorization; 赵志强 on paper with the scan.
    site.goto(f"/votes/{vote.pk}/ballots/new/")
    page.locator("#id_q").fill("李淑芬")
    page.locator(f"input[name=owner][value='{owners['李淑芬'].pk}']").check()  # type: ignore[index]
    page.locator("input[name=choice][value=for]").check()
    page.locator("input[name=method][value=proxy]").check()
    page.locator("#id_proxy_name").fill("李小明")
    page.locator("#id_document").set_input_files(
        files=[
            {
                "name": "委托书.pdf",
                "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4\n% signed authorization\n",
            }
        ]
    )
    site.assert_accessible("ballot entry")
    site.screenshot("vote-ballot-entry")
    with page.expect_navigation():
        page.locator("form.ballot-form button[type=submit]:not([formmethod])").click()
    expect(page.locator(".messages")).to_contain_text("The ballot is counted.")
    expect(state).to_contain_text("Quorum not yet met", timeout=10_000)

    page.locator("#id_q").fill("202")
    page.locator(f"input[name=owner][value='{owners['赵志强'].pk}']").check()  # type: ignore[index]
    page.locator("input[name=choice][value=for]").check()
    page.locator("input[name=method][value=paper]").check()
    page.locator("#id_document").set_input_files(
        files=[{"name": "选票.png", "mimeType": "image/png", "buffer": _scan()}]
    )
    with page.expect_navigation():
        page.locator("form.ballot-form button[type=submit]:not([formmethod])").click()
    expect(page.locator(".messages")).to_contain_text("The ballot is counted.")

    # The tally page crosses both thresholds by itself: 300 of 370 m², 3 of 4 owners, all for.
    expect(state).to_have_attribute("data-state", "passed", timeout=15_000)
    expect(state).to_contain_text("Passed")
    expect(tally.locator("[data-bar=quorum_area] .bar-figures")).to_contain_text("300.00 m² of 370.00 m²")
    expect(tally.locator("[data-bar=quorum_headcount] .bar-figures")).to_contain_text("3 owners of 4 owners")
    tally_site.assert_accessible("vote tally passed")
    tally_site.screenshot("vote-tally-passed")
    tally.close()

    # The voter checks the receipt.
    phone_site.goto(f"/v/{vote.pk}/verify/")
    phone_page.locator("#id_receipt").fill(short)
    with phone_page.expect_navigation():
        phone_page.locator("form button.primary").click()
    expect(phone_page.locator("[data-finding]")).to_have_attribute("data-finding", "counted")
    phone_site.assert_accessible("ballot verified")
    phone_site.screenshot("vote-ballot-verified")

    site.goto("/votes/")
    expect(page.locator("main table")).to_contain_text("是否同意鼓楼花园集中供暖改造")
    site.assert_accessible("vote list")
    site.screenshot("vote-list")

    # Staff close early, with the confirmation; the result is published with its record.
    site.goto(f"/votes/{vote.pk}/close/")
    page.locator("#id_reason").fill("业主大会决定：同意票已超过四分之三，提前结束表决以便赶在供暖季前招标。")
    page.locator("input[name=confirm]").check()
    site.assert_accessible("vote close")
    site.screenshot("vote-close")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert Vote.objects.get(pk=vote.pk).status == VoteStatus.CLOSED
    phone_site.goto(f"/v/{vote.pk}/result/")
    expect(phone_page.locator("#tally-state")).to_have_attribute("data-state", "passed")
    expect(phone_page.locator("#closed-early")).to_contain_text("提前结束表决以便赶在供暖季前招标")
    expect(phone_page.locator(f"a[href='/api/v1/votes/{vote.pk}/record']")).to_be_visible()
    expect(phone_page.locator("pre.command")).to_contain_text("gongzhi vote-verify")
    phone_site.assert_accessible("vote result")
    phone_site.screenshot("vote-result")
    resident.close()
