"""Phone verification in a Flask app, with reverse-otp-client.

    pip install flask reverse-otp-client
    export REVERSE_OTP_URL=https://verify.example.com REVERSE_OTP_API_KEY=...
    export REVERSE_OTP_CALLBACK_SECRET=whsec_... FLASK_SECRET_KEY=...
    flask --app flask_app run

Your backend creates the challenge with the API key (never shown to the browser); the user's
browser follows it with the status token only (the hosted page, the widget, or `events_url`);
your backend reads the outcome from the API or from the signed callback, never from the browser.
"""

from __future__ import annotations

import os

from flask import Flask, abort, jsonify, request, session
from flask.typing import ResponseReturnValue

from reverse_otp_client import Client, InvalidCallback, verify_callback

app = Flask(__name__)
app.secret_key = os.environ["FLASK_SECRET_KEY"]
otp = Client(os.environ["REVERSE_OTP_URL"], os.environ["REVERSE_OTP_API_KEY"])
CALLBACK_SECRET = os.environ["REVERSE_OTP_CALLBACK_SECRET"]


@app.post("/phone/verify")
def start() -> ResponseReturnValue:
    """Start: the browser gets what to show the user and how to follow the status."""
    challenge = otp.create(phone=request.form["phone"], metadata={"user": session["user_id"]})
    session["challenge_id"] = challenge.id
    return jsonify(
        verify_url=challenge.verify_url,  # the hosted page: send the user there, or
        body=challenge.body,  # show the text to send,
        to=challenge.to,  # the number to text,
        sms_uri=challenge.sms_uri,  # a link opening the messaging app, and
        events_url=challenge.events_url,  # follow the status live (EventSource)
    )


@app.post("/phone/verify/done")
def done() -> ResponseReturnValue:
    """The browser says it is verified: ask the API, which is the only source of truth."""
    challenge = otp.get(session["challenge_id"])
    if challenge.status != "verified":
        abort(409, f"the verification is {challenge.status}")
    # save challenge.verified_phone as the user's verified number here
    return jsonify(phone=challenge.verified_phone)


@app.post("/reverse-otp/callbacks")
def callback() -> ResponseReturnValue:
    """Signed callbacks: verify the raw body before reading it, answer 2xx once stored."""
    try:
        event = verify_callback(request.get_data(), request.headers, CALLBACK_SECRET)
    except InvalidCallback:
        abort(400)
    # event.id is the same on every retry: skip the ids you have already processed
    app.logger.info("%s %s", event.type, event.data.id)
    return "", 204
