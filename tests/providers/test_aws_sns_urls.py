"""SNS certificate and subscription URLs: only https on an SNS host, and an unreadable URL is
refused like any other, never an error (a forged envelope found it with a "[" in the host)."""

from __future__ import annotations

import pytest

from app.providers.aws_sns import sns_url


@pytest.mark.parametrize(
    "url",
    [
        "https://[sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem",
        "https://sns.eu-west-1.amazonaws.com]/x.pem",
        "http://sns.eu-west-1.amazonaws.com/x.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/x.pem",
        None,
    ],
)
def test_refuses_urls_that_are_not_https_on_an_sns_host(url):
    assert not sns_url(url)


def test_accepts_an_sns_certificate_url():
    assert sns_url("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem")
