"""Back office: the read-only outbox with "retry now", webhook endpoints whose secret shows once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from gongzhi.accounts.models import Role
from gongzhi.audit.models import AuditEntry
from gongzhi.core.testing import make_user, superactor
from gongzhi.notifications.models import DeliveryStatus, Notification, WebhookEndpoint
from gongzhi.notifications.services import notify

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def admin_client(client, tree):
    client.force_login(superactor().user)
    return client


def test_the_outbox_changelist_filters_and_masks_phones(admin_client) -> None:
    notify(key="e", event_type="ticket.accepted.resident", subject="已受理", phones=["13812345678"])
    url = reverse("admin:notifications_notification_changelist")
    response = admin_client.get(url + "?status__exact=pending&channel__exact=sms", **EN)
    html = response.content.decode()
    assert response.status_code == 200
    assert "138****5678" in html and "13812345678" not in html
    row = Notification.objects.get()
    change = admin_client.get(reverse("admin:notifications_notification_change", args=[row.pk]), **EN)
    assert change.status_code == 200 and "13812345678" not in change.content.decode()
    assert admin_client.get(reverse("admin:notifications_notification_add")).status_code == 403


def test_retry_now_requeues_dead_rows_only(admin_client) -> None:
    notify(key="e", event_type="t", subject="s", phones=["13812345678", "13900000000"])
    dead, sent = Notification.objects.order_by("phone")
    Notification.objects.filter(pk=dead.pk).update(status=DeliveryStatus.DEAD, attempts=8, last_error="x")
    Notification.objects.filter(pk=sent.pk).update(status=DeliveryStatus.SENT)
    response = admin_client.post(
        reverse("admin:notifications_notification_changelist"),
        {"action": "retry_now", "_selected_action": [str(dead.pk), str(sent.pk)]},
        **EN,
    )
    assert response.status_code == 302
    dead.refresh_from_db()
    sent.refresh_from_db()
    assert (dead.status, dead.attempts) == (DeliveryStatus.PENDING, 0)
    assert sent.status == DeliveryStatus.SENT


def test_a_new_endpoint_gets_a_secret_shown_once_then_only_its_prefix(admin_client) -> None:
    response = admin_client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {
            "name": "城管局系统",
            "url": "https://cg.example.gov.cn/hook",
            "events": '["ticket.whistle"]',
            "is_active": "on",
        },
        follow=True,
        **EN,
    )
    endpoint = WebhookEndpoint.objects.get()
    assert len(endpoint.secret) >= 40
    assert endpoint.secret in response.content.decode()  # once, on the page after saving
    change = admin_client.get(reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk]), **EN)
    html = change.content.decode()
    assert endpoint.secret not in html
    assert endpoint.secret[:6] + "…" in html
    list_html = admin_client.get(
        reverse("admin:notifications_webhookendpoint_changelist"), **EN
    ).content.decode()
    assert endpoint.secret not in list_html
    # The audit row of the creation never holds the secret.
    audit = AuditEntry.objects.get(target_type="notifications.webhookendpoint")
    assert endpoint.secret not in str(audit.changes)


def test_a_given_secret_is_kept_and_rotation_replaces_it(admin_client) -> None:
    admin_client.post(
        reverse("admin:notifications_webhookendpoint_add"),
        {"name": "hook", "url": "https://x.example/hook", "events": "[]", "new_secret": "agreed-secret-1234"},
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == "agreed-secret-1234"
    response = admin_client.post(
        reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk]),
        {"name": "hook", "url": "https://x.example/hook", "events": "[]", "rotate_secret": "on"},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.secret != "agreed-secret-1234"
    assert any(endpoint.secret in str(m) for m in get_messages(response.wsgi_request))
    # After the one message, the change page never shows the secret, not even in the form's fields.
    admin_client.get(reverse("admin:notifications_webhookendpoint_changelist"))  # shows the message
    html = admin_client.get(reverse("admin:notifications_webhookendpoint_change", args=[endpoint.pk])).content
    assert endpoint.secret.encode() not in html
    for entry in AuditEntry.objects.filter(target_type="notifications.webhookendpoint"):
        assert endpoint.secret not in str(entry.changes) and "agreed-secret-1234" not in str(entry.changes)


def test_staff_without_the_district_admin_role_cannot_read_the_outbox(client, tree) -> None:
    from django.contrib.auth.models import Permission

    from gongzhi.accounts.models import Role
    from gongzhi.core.testing import make_user

    staff = make_user(role=Role.COMMUNITY_STAFF, node=tree.community)
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(Permission.objects.get(codename="view_notification"))
    client.force_login(staff)
    assert client.get(reverse("admin:notifications_notification_changelist")).status_code == 403


@pytest.mark.parametrize(
    ("role", "on", "allowed"),
    [(Role.DISTRICT_ADMIN, "district", True), (Role.COMMUNITY_SECRETARY, "community", False)],
)
def test_webhook_endpoints_are_managed_by_district_admins_only(client, tree, role, on, allowed) -> None:
    # Both hold every permission of the model; only the district admin's scope is the installation's.
    user = make_user(role=role, node=getattr(tree, on))
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="notifications"))
    endpoint = WebhookEndpoint.objects.create(name="全局", url="https://x.example/hook", secret="s" * 40)
    client.force_login(user)
    expected = 200 if allowed else 403
    for name, args in [("changelist", []), ("add", []), ("change", [endpoint.pk]), ("delete", [endpoint.pk])]:
        response = client.get(reverse(f"admin:notifications_webhookendpoint_{name}", args=args), **EN)
        assert response.status_code == expected, name
    index = client.get(reverse("admin:index"), **EN).content.decode()
    assert ("Webhook" in index) is allowed
