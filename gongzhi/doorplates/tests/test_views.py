from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.accounts.models import User
from gongzhi.doorplates.models import PrintJob, PrintLayout, PrintStatus
from gongzhi.doorplates.tests.factories import PlateTree

pytestmark = pytest.mark.django_db


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_the_print_page_counts_the_plates_and_hides_reissue_from_grid_workers(
    client: Client, plates: PlateTree
) -> None:
    response = login(client, plates.worker_a).get(reverse("doorplates:print", args=[plates.compound_a.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "2 plates" in page
    assert 'name="reissue"' not in page


def test_community_staff_see_the_reissue_switch(client: Client, plates: PlateTree) -> None:
    response = login(client, plates.community_staff).get(
        reverse("doorplates:print", args=[plates.tree.community.pk])
    )

    assert response.status_code == 200
    assert 'name="reissue"' in response.content.decode()


def test_printing_from_the_page_runs_the_job_and_offers_the_download(
    client: Client, plates: PlateTree, django_capture_on_commit_callbacks
) -> None:
    login(client, plates.worker_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("doorplates:print", args=[plates.compound_a.pk]), {"layout": PrintLayout.SINGLE}
        )

    job = PrintJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("doorplates:job", args=[job.pk])
    assert job.status == PrintStatus.SUCCEEDED
    page = client.get(response["Location"]).content.decode()
    assert reverse("doorplates:download", args=[job.pk]) in page
    download = client.get(reverse("doorplates:download", args=[job.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert "attachment" in download["Content-Disposition"]
    assert b"".join(download.streaming_content).startswith(b"%PDF-")  # type: ignore[attr-defined]


def test_a_running_job_polls_its_progress_with_htmx(client: Client, plates: PlateTree) -> None:
    job = PrintJob.objects.create(
        node=plates.tree.community,
        requested_by=plates.community_staff,
        status=PrintStatus.RUNNING,
        total=40,
        done=10,
    )
    login(client, plates.community_staff)

    response = client.get(reverse("doorplates:job", args=[job.pk]), headers={"HX-Request": "true"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert 'hx-trigger="every 2s"' in page
    assert '<progress id="job-progress" value="10" max="40">' in page
    assert "10 of 40 plates drawn" in page


def test_jobs_and_downloads_outside_the_scope_are_not_found(
    client: Client, plates: PlateTree, django_capture_on_commit_callbacks
) -> None:
    login(client, plates.worker_b)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("doorplates:print", args=[plates.tree.building_b.pk]), {"layout": PrintLayout.SHEETS}
        )
    job = PrintJob.objects.get()

    login(client, plates.worker_a)
    assert client.get(reverse("doorplates:job", args=[job.pk])).status_code == 404
    assert client.get(reverse("doorplates:download", args=[job.pk])).status_code == 404
    assert client.get(reverse("doorplates:print", args=[plates.tree.grid_b.pk])).status_code == 404
    response = client.post(reverse("doorplates:print", args=[plates.tree.grid_b.pk]), {"layout": "sheets"})
    assert response.status_code == 404
    assert job.node.name not in client.get(reverse("doorplates:jobs")).content.decode()
    assert PrintJob.objects.count() == 1


def test_a_grid_worker_posting_reissue_is_forbidden(client: Client, plates: PlateTree) -> None:
    response = login(client, plates.worker_a).post(
        reverse("doorplates:print", args=[plates.compound_a.pk]), {"layout": "sheets", "reissue": "on"}
    )

    assert response.status_code == 403
    assert PrintJob.objects.count() == 0


def test_a_bad_layout_is_refused_with_the_form(client: Client, plates: PlateTree) -> None:
    response = login(client, plates.worker_a).post(
        reverse("doorplates:print", args=[plates.compound_a.pk]), {"layout": "poster"}
    )

    assert response.status_code == 422
    assert PrintJob.objects.count() == 0


def test_an_unfinished_job_has_nothing_to_download(client: Client, plates: PlateTree) -> None:
    job = PrintJob.objects.create(node=plates.tree.community, requested_by=plates.community_staff, total=3)

    response = login(client, plates.community_staff).get(reverse("doorplates:download", args=[job.pk]))

    assert response.status_code == 404


def test_households_have_no_print_page(client: Client, plates: PlateTree) -> None:
    response = login(client, plates.community_staff).get(
        reverse("doorplates:print", args=[plates.tree.household_a1.pk])
    )

    assert response.status_code == 404


def test_the_recent_jobs_page_lists_jobs_in_scope(client: Client, plates: PlateTree) -> None:
    PrintJob.objects.create(node=plates.compound_a, requested_by=plates.worker_a, total=2)

    page = login(client, plates.community_staff).get(reverse("doorplates:jobs")).content.decode()

    assert "春都华府" in page


def test_the_node_page_links_to_printing_its_doorplates(client: Client, plates: PlateTree) -> None:
    login(client, plates.community_staff)

    compound_page = client.get(reverse("territory:node", args=[plates.compound_a.pk])).content.decode()
    household_page = client.get(
        reverse("territory:node", args=[plates.tree.household_a1.pk])
    ).content.decode()

    assert reverse("doorplates:print", args=[plates.compound_a.pk]) in compound_page
    assert "doorplates/print/" not in household_page
