"""The email sender against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from app.senders import build
from app.senders.base import Outgoing, SendFailed
from app.senders.transport import Transport


class Inbox:
    def __init__(self, reply: str = "250 OK") -> None:
        self.envelopes: list[Envelope] = []
        self.reply = reply

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return self.reply


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server():
    servers = []

    def start(reply: str = "250 OK"):
        inbox = Inbox(reply)
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        servers.append(controller)
        return inbox, port

    yield start
    for controller in servers:
        controller.stop()


def sender(port: int):
    section = {"kind": "email", "host": "127.0.0.1", "port": port,
               "from": "codes@example.com", "starttls": False}  # fmt: skip
    return build([section])[0]


MESSAGE = Outgoing("user@example.org", "Your code is 482913", "snd_9", "", "Sign-in code")


def test_hands_the_code_to_the_smtp_server(smtp_server):
    inbox, port = smtp_server()
    accepted = Transport().send(sender(port), MESSAGE)
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "codes@example.com"
    assert envelope.rcpt_tos == ["user@example.org"]
    text = envelope.content.decode()
    assert "Subject: Sign-in code" in text and "Your code is 482913" in text
    assert accepted.provider_id in text  # the Message-ID


@pytest.mark.parametrize(("reply", "retryable"), [("451 try later", True), ("554 refused", False)])
def test_classifies_smtp_replies(smtp_server, reply, retryable):
    _, port = smtp_server(reply)
    with pytest.raises(SendFailed) as failed:
        Transport().send(sender(port), MESSAGE)
    assert failed.value.retryable is retryable


def test_an_unreachable_server_is_retryable():
    with pytest.raises(SendFailed) as failed:
        Transport().send(sender(free_port()), MESSAGE)
    assert failed.value.retryable


def test_email_serves_no_phone_country():
    assert sender(25).serves("") and not sender(25).serves("FR")
