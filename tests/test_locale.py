"""`locale` on create, Accept-Language otherwise: the SMS and the page in the user's language,
and every enabled language's SMS verifies."""

from __future__ import annotations

from typing import Any

import pytest

from app.domain import locales
from app.domain.challenges import InboundMessage
from app.usecases import inbound
from tests.conftest import AUTH, NUMBER

PHONE = "+33612345678"


def create(client, headers=None, **body):
    return client.post("/api/v1/challenges", json=body, headers=AUTH | (headers or {}))


def on_simulator(client, headers=None, **body):
    for _ in range(4):
        made = create(client, headers, **body).json
        if made["to"] == NUMBER:
            return made
    raise AssertionError("no challenge on the simulator number")


def deliver(ctx, text, sender=PHONE, message_id="m1"):
    return inbound.record_inbound(
        ctx, InboundMessage("simulator", message_id, sender, NUMBER, text, sender)
    )


@pytest.mark.parametrize(
    ("locale", "stored", "keyword"),
    [("fr", "fr", "VERIFIER"), ("fr-CA", "fr", "VERIFIER"), ("pt-BR", "pt", "VERIFICAR"),
     ("de", "de", "BESTÄTIGEN"), ("ar-EG", "ar", "تحقق"), ("es_ES", "es", "VERIFICAR"),
     ("it", "it", "VERIFICA")],
)  # fmt: skip
def test_the_locale_sets_the_sms_language(client, locale, stored, keyword):
    answer = create(client, locale=locale)
    assert answer.status_code == 201
    assert answer.json["locale"] == stored
    assert answer.json["body"].split()[0] == keyword
    assert answer.json["body"].split()[1] == answer.json["code"]


def test_an_unknown_language_falls_back_to_the_browser_then_the_default(client):
    answer = create(client, locale="zh-Hant-TW")
    assert answer.status_code == 201
    assert answer.json["locale"] is None
    assert answer.json["body"].startswith("VERIFY ")
    token = answer.json["token"]
    html = client.get(f"/v/{token}", headers={"Accept-Language": "es-MX,es;q=0.9"}).get_data(
        as_text=True
    )
    assert '<html lang="es" dir="ltr">' in html
    assert "VERIFICAR " in html


@pytest.mark.parametrize("locale", ["", "english!", "fr--CA", "12", "<b>", "a" * 36, "fr\n"])
def test_a_malformed_locale_is_refused_with_400_naming_it(client, locale):
    answer = create(client, locale=locale)
    assert answer.status_code == 400
    assert answer.json["error"]["message"].startswith("locale")


@pytest.mark.parametrize("locale", [7, ["fr"], {"lang": "fr"}, True])
def test_a_locale_that_is_not_a_string_is_refused(client, locale):
    assert create(client, locale=locale).status_code == 400


def test_without_a_locale_the_create_answer_follows_accept_language(client):
    answer = create(client, {"Accept-Language": "de-DE,de;q=0.9"})
    assert answer.json["body"].startswith("BESTÄTIGEN ")
    assert answer.json["locale"] is None


def test_a_fixed_locale_wins_over_the_browser_on_the_page(client):
    created = create(client, locale="fr").json
    html = client.get(f"/v/{created['token']}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert '<html lang="fr" dir="ltr">' in html
    assert created["body"] in html


def test_arabic_pages_are_right_to_left(client):
    created = create(client, locale="ar").json
    html = client.get(f"/v/{created['token']}").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "تحقّق من رقم هاتفك" in html


@pytest.mark.parametrize("language", locales.LANGUAGES)
@pytest.mark.parametrize("phone", [PHONE, None])
def test_every_languages_sms_verifies_and_spends_no_budget(client, ctx, language, phone):
    created = on_simulator(client, locale=language, **({"phone": phone} if phone else {}))
    assert inbound.candidates_in(ctx.policy, created["body"]) == [created["code"]]
    assert deliver(ctx, created["body"]).outcome.value == "matched"


def test_a_message_in_any_language_verifies_a_challenge_of_another(client, ctx):
    created = on_simulator(client, locale="fr", phone=PHONE)
    spanish = locales.SMS_TEMPLATES["es"].format(code=created["code"], name="reverse-otp")
    assert deliver(ctx, spanish).outcome.value == "matched"


def test_the_status_page_qr_and_message_speak_the_challenges_language(client):
    created = create(client, locale="it").json
    message = client.get(f"/api/v1/status/{created['token']}/message").json
    assert message["body"] == created["body"]
    assert message["body"].startswith("VERIFICA ")


class TestWithSomeLanguagesEnabled:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"page": {"languages": ["en", "fr"], "default_language": "fr"}}

    def test_only_enabled_languages_are_used_and_the_default_is_the_operators(self, client):
        spanish = create(client, locale="es").json
        assert spanish["locale"] is None
        assert spanish["body"].startswith("VERIFIER ")  # the operator's default language
        html = client.get(f"/v/{spanish['token']}", headers={"Accept-Language": "es"})
        assert '<html lang="fr"' in html.get_data(as_text=True)

    def test_a_disabled_languages_keyword_is_not_stripped(self, ctx):
        assert "VER1F1CAR" not in ctx.policy.ignore_words
        assert "VER1F1ER" in ctx.policy.ignore_words
