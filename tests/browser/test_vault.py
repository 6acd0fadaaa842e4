"""The session vault: values encrypted at rest (the cookie is nowhere on disk, not in the Dagster
instance either), private file modes, a wrong key is a clear error, no secret in any log."""

from __future__ import annotations

import json
import logging
import stat

import pytest

from resources.vault import Vault, VaultError, passphrase
from tests.cli_helpers import run

from .conftest import VAULT_KEY, Answers, sessions
from .fake_dashboards import PASSWORD


def files_holding(root, needle: bytes) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_round_trip_modes_and_errors(tmp_path):
    vault = Vault(tmp_path / "secrets", VAULT_KEY)
    state = {"cookies": [{"name": "sid", "value": "s3cr3t-cookie-value", "expires": 1}], "origins": []}
    path = vault.put("distrokid", state)
    assert vault.get("distrokid") == state and vault.get("tiktok") is None
    assert b"s3cr3t-cookie-value" not in path.read_bytes() and VAULT_KEY.encode() not in path.read_bytes()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert VAULT_KEY not in repr(vault)

    with pytest.raises(VaultError, match=r"distrokid\.vault: cannot decrypt it with this vault key"):
        Vault(tmp_path / "secrets", "another-key-of-enough-length").get("distrokid")
    doc = json.loads(path.read_text())
    doc["token"] = doc["token"][:-8] + "AAAAAAAA"  # altered on disk
    path.write_text(json.dumps(doc))
    with pytest.raises(VaultError, match="or the file was altered"):
        vault.get("distrokid")
    path.write_text("not json")
    with pytest.raises(VaultError, match="not a soundlake vault file"):
        vault.get("distrokid")


def test_the_key_comes_from_the_environment_and_must_be_long(monkeypatch):
    assert passphrase({"SOUNDLAKE_VAULT_KEY": VAULT_KEY}) == VAULT_KEY
    with pytest.raises(VaultError, match="shorter than 16 characters"):
        passphrase({"SOUNDLAKE_VAULT_KEY": "short"})
    import resources.vault as vault_module

    monkeypatch.setattr(vault_module, "_keyring", lambda: None)  # a server without an OS keyring
    with pytest.raises(VaultError, match="no vault key: set SOUNDLAKE_VAULT_KEY.*no OS keyring is available"):
        passphrase({})


def test_no_secret_on_disk_in_the_instance_or_in_logs(browser_env, dashboards, caplog, capfd, monkeypatch):
    caplog.set_level(logging.DEBUG)
    answers = Answers()
    from pipelines import app
    from resources.settings import Settings

    app.login(Settings.from_env(), "linktree", prompt=answers, headless=True)
    result = run("-v", "extract", "linktree", "--json")
    assert result.exit_code == 0, result.output
    tokens = [t for t, (source, _) in dashboards.app.sessions.items() if source == "linktree"]
    assert tokens
    secrets = [*tokens, PASSWORD, VAULT_KEY]
    home = browser_env
    for secret in secrets:
        assert files_holding(home, secret.encode()) == [], "a secret reached a file under SOUNDLAKE_HOME"
    captured = capfd.readouterr()
    for secret in secrets:
        assert secret not in caplog.text and secret not in result.output
        assert secret not in captured.out and secret not in captured.err

    # what is on disk: the encrypted vault, and the value-free session file the alert reads
    summary = json.loads((home / "sessions" / "linktree.json").read_text())
    assert [c["name"] for c in summary["cookies"]] == ["lt_session"] and "value" not in summary["cookies"][0]
    assert summary["origins"][0]["localStorage"] == [{"name": "auth-token"}]
    for path in (home / "sessions" / "linktree.json", home / "secrets" / "linktree.vault"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sessions().load("linktree")["cookies"][0]["value"] in tokens  # decrypts with the key

    # a wrong key: a clear error naming the vault file, nothing extracted
    monkeypatch.setenv("SOUNDLAKE_VAULT_KEY", "not-the-key-it-was-saved-with")
    wrong = run("extract", "linktree")
    assert wrong.exit_code == 1
    assert "linktree.vault: cannot decrypt it with this vault key" in " ".join(wrong.output.split())
