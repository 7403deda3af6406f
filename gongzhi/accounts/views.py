"""Login (with lockout) and logout of the staff web."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from gongzhi.accounts.forms import LoginForm
from gongzhi.accounts.services import BadCredentials, LockedOut, login_check
from gongzhi.core.ratelimit import RateLimited, client_ip, ensure_within_rate


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return HttpResponseRedirect(_safe_next(request))
    form = LoginForm(request.POST or None)
    error = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            ensure_within_rate(name="login", key=client_ip(request) or "unknown")
            user = login_check(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                request=request,
            )
        except (LockedOut, RateLimited) as refused:
            error, status = str(refused.message), 429
        except BadCredentials:
            error, status = _("The username or password is wrong."), 200
        else:
            login(request, user)
            return HttpResponseRedirect(_safe_next(request))
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    return render(
        request, "accounts/login.html", {"form": form, "error": error, "next": next_url}, status=status
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)
