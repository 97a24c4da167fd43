"""Phone verification in a Django project, with reverse-otp-client.

Settings: REVERSE_OTP_URL, REVERSE_OTP_API_KEY and REVERSE_OTP_CALLBACK_SECRET (`whsec_...`).
URLs:

    from django.urls import path
    from . import django_views as views

    urlpatterns = [
        path("phone/verify", views.start),
        path("phone/verify/done", views.done),
        path("reverse-otp/callbacks", views.callback),
    ]

The API key stays on the server; the browser follows the status with the token only; the
outcome is read from the API or the signed callback.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from reverse_otp_client import Client, InvalidCallback, verify_callback

otp = Client(settings.REVERSE_OTP_URL, settings.REVERSE_OTP_API_KEY)
log = logging.getLogger(__name__)


@login_required
@require_POST
def start(request: HttpRequest) -> JsonResponse:
    challenge = otp.create(phone=request.POST["phone"], metadata={"user": request.user.pk})
    request.session["challenge_id"] = challenge.id
    return JsonResponse(
        {
            "verify_url": challenge.verify_url,
            "body": challenge.body,
            "to": challenge.to,
            "sms_uri": challenge.sms_uri,
            "events_url": challenge.events_url,
        }
    )


@login_required
@require_POST
def done(request: HttpRequest) -> JsonResponse:
    challenge = otp.get(request.session["challenge_id"])
    if challenge.status != "verified":
        return JsonResponse({"status": challenge.status}, status=409)
    # save challenge.verified_phone on the user here
    return JsonResponse({"phone": challenge.verified_phone})


@csrf_exempt  # signed by reverse-otp instead; verified below
@require_POST
def callback(request: HttpRequest) -> HttpResponse:
    try:
        event = verify_callback(request.body, request.headers, settings.REVERSE_OTP_CALLBACK_SECRET)
    except InvalidCallback:
        return HttpResponse(status=400)
    # event.id is the same on every retry: skip the ids you have already processed
    log.info("%s %s", event.type, event.data.id)
    return HttpResponse(status=204)
