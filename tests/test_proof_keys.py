"""Proof keys in the settings: where they come from, what is refused, what is never shown."""

from __future__ import annotations

import logging
import os
import stat
import tomllib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app import create_app
from app.config import load
from app.config.checks import ConfigError
from app.config.schema import Proofs
from app.ops.logfilter import redact
from app.proofs.keys import DEV_KEY_FILE
from tests.conftest import base_settings, development_settings, runtime
from tests.test_proofs import pem


def build(raw, environ=None):
    app = create_app(load(overrides=raw, environ=environ or {}))
    client = app.test_client()
    answer = client.get("/.well-known/jwks.json")
    runtime(app).ctx.store.dispose()  # type: ignore[attr-defined]
    return answer


def private_pem() -> bytes:
    return pem(ec.generate_private_key(ec.SECP256R1()))


def test_production_with_proofs_enabled_and_no_key_refuses_to_start_naming_the_key(tmp_path):
    with pytest.raises(ConfigError) as refused:
        load(overrides=base_settings(tmp_path, proofs={"enabled": True}), environ={})
    message = str(refused.value)
    assert message.startswith("proofs.key_file:")
    assert "\n" not in message
    assert "REVERSE_OTP_PROOFS__KEY" in message


def test_production_without_a_key_leaves_proofs_off(tmp_path):
    assert build(base_settings(tmp_path)).status_code == 404


def test_a_missing_key_file_is_named(tmp_path):
    raw = base_settings(tmp_path, proofs={"key_file": str(tmp_path / "nope.pem")})
    with pytest.raises(ConfigError, match=r"^proofs.key_file: cannot read .*nope.pem"):
        build(raw)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"not a key", "not a PEM file"),
        (pem(rsa.generate_private_key(65537, 2048)), "EC P-256"),
        (pem(ec.generate_private_key(ec.SECP384R1())), "EC P-256"),
        (
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "private key",
        ),
    ],
)
def test_an_unfit_signing_key_is_refused(tmp_path, content, problem):
    path = tmp_path / "key.pem"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=problem):
        build(base_settings(tmp_path, proofs={"key_file": str(path)}))


def test_key_and_key_file_together_are_refused(tmp_path):
    path = tmp_path / "key.pem"
    path.write_bytes(private_pem())
    raw = base_settings(tmp_path, proofs={"key_file": str(path), "key": private_pem().decode()})
    with pytest.raises(ConfigError, match="key_file or key, not both"):
        load(overrides=raw, environ={})


def test_the_key_can_come_from_the_environment(tmp_path):
    environ = {"REVERSE_OTP_PROOFS__KEY": private_pem().decode()}
    answer = build(base_settings(tmp_path), environ)
    assert answer.status_code == 200
    assert len(answer.json["keys"]) == 1


def test_a_verify_only_key_may_be_a_public_key(tmp_path):
    active, other = tmp_path / "a.pem", tmp_path / "b.pub.pem"
    active.write_bytes(private_pem())
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    raw = base_settings(
        tmp_path, proofs={"key_file": str(active), "verify_key_files": [str(other)]}
    )
    assert len(build(raw).json["keys"]) == 2


def test_development_generates_one_private_key_in_the_instance_folder_and_keeps_it(tmp_path):
    first = build(development_settings(tmp_path))
    path = tmp_path / "instance" / DEV_KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert first.json == build(development_settings(tmp_path)).json
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


def test_private_keys_are_never_shown(tmp_path, caplog):
    secret = private_pem().decode()
    caplog.set_level(logging.DEBUG)
    settings = load(overrides=base_settings(tmp_path), environ={"REVERSE_OTP_PROOFS__KEY": secret})
    body = secret.splitlines()[1]
    assert body not in repr(settings) and body not in str(settings.model_dump())
    answer = build(base_settings(tmp_path), {"REVERSE_OTP_PROOFS__KEY": secret})
    assert all("d" not in key for key in answer.json["keys"])
    assert body not in answer.get_data(as_text=True)
    assert body not in caplog.text


def test_the_log_filter_removes_private_keys_and_proofs():
    secret = private_pem().decode()
    assert secret.splitlines()[1] not in redact(f"loaded {secret} ok")
    assert redact(f"cut {secret[:60]}") == "cut [private-key]"
    token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIrMzM2MTIzNDU2NzgifQ.c2lnbmF0dXJl"
    assert redact(f"proof={token} end") == "proof=[jws] end"


def test_config_example_proofs_section_holds_the_defaults():
    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    section = tomllib.loads(example.read_text())["proofs"]
    assert Proofs(**section) == Proofs()
    commented = {"enabled", "key_file"}
    assert set(section) | commented | {"key"} == set(Proofs.model_fields)
