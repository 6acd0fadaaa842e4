"""The secret vault: browser sessions (cookies and storage state) encrypted at rest under
``$SOUNDLAKE_HOME/secrets``.

One file per secret, ``secrets/<name>.vault``: JSON with the scrypt salt and cost and a Fernet
token (AES-128-CBC + HMAC-SHA256, from ``cryptography``) of the secret. The key is derived from a
passphrase: ``SOUNDLAKE_VAULT_KEY`` when set, else the OS keyring (service ``soundlake``, user
``vault``) when the ``keyring`` package is installed and has a backend; ``soundlake login`` stores
a new random passphrase there on first use. Neither is a dependency of soundlake: on a server,
set ``SOUNDLAKE_VAULT_KEY``. Files are mode 0600 in a 0700 folder, written atomically. A wrong
key (or an altered file) is a :class:`VaultError` naming the file; no secret ever reaches a
message, a log or ``repr``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Mapping

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

FORMAT = "soundlake-vault/1"
KEY_ENV = "SOUNDLAKE_VAULT_KEY"
KEYRING_SERVICE, KEYRING_USER = "soundlake", "vault"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_KEY_CHARS = 16
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class VaultError(RuntimeError):
    """The vault cannot be used: no key, a wrong key, a damaged file. The message says what to do."""


def _keyring():
    """The ``keyring`` module when it is installed and has a usable backend, else None."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        if isinstance(keyring.get_keyring(), fail.Keyring):
            return None
    except Exception:  # a backend that fails to load (no D-Bus) is no keyring
        return None
    return keyring


def passphrase(environ: Mapping[str, str] | None = None, *, create: bool = False) -> str:
    """The vault's passphrase: ``SOUNDLAKE_VAULT_KEY``, else the OS keyring's (a new random one is
    stored there when ``create`` and there is none yet)."""
    env = os.environ if environ is None else environ
    value = env.get(KEY_ENV) or ""
    if value:
        if len(value) < MIN_KEY_CHARS:
            raise VaultError(f"{KEY_ENV} is shorter than {MIN_KEY_CHARS} characters: use a long random value, "
                             "e.g. the output of `python -c \"import secrets; print(secrets.token_urlsafe(32))\"`")
        return value
    ring = _keyring()
    if ring is not None:
        stored = ring.get_password(KEYRING_SERVICE, KEYRING_USER)
        if stored:
            return stored
        if create:
            stored = secrets.token_urlsafe(32)
            ring.set_password(KEYRING_SERVICE, KEYRING_USER, stored)
            return stored
    raise VaultError(f"no vault key: set {KEY_ENV} to a long random value (keep it outside the repository, e.g. "
                     "`export SOUNDLAKE_VAULT_KEY=$(python -c \"import secrets; print(secrets.token_urlsafe(32))\")` "
                     "in the service's environment)"
                     + ("" if ring is not None else "; no OS keyring is available here (the `keyring` package is "
                                                    "not installed or has no backend)"))


def _fernet(key: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> Fernet:
    derived = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(derived))


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, mode 0600, in a folder of mode 0700."""
    _private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class Vault:
    """Encrypted JSON secrets in one folder (``$SOUNDLAKE_HOME/secrets``)."""

    def __init__(self, folder: Path, key: str):
        self.folder = Path(folder)
        self._key = key

    def __repr__(self) -> str:  # the key stays out of logs and tracebacks
        return f"Vault({str(self.folder)!r})"

    @classmethod
    def open(cls, folder: Path, environ: Mapping[str, str] | None = None, *, create: bool = False) -> "Vault":
        return cls(folder, passphrase(environ, create=create))

    def path(self, name: str) -> Path:
        if not _NAME.match(name):
            raise ValueError(f"not a vault entry name: {name!r}")
        return self.folder / f"{name}.vault"

    def has(self, name: str) -> bool:
        return self.path(name).is_file()

    def put(self, name: str, value) -> Path:
        """Encrypt ``value`` (anything JSON can hold) as ``<name>.vault``."""
        salt = secrets.token_bytes(16)
        token = _fernet(self._key, salt).encrypt(json.dumps(value, separators=(",", ":")).encode("utf-8"))
        doc = {"format": FORMAT, "kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P,
               "salt": base64.b64encode(salt).decode("ascii"), "token": token.decode("ascii")}
        path = self.path(name)
        write_private(path, json.dumps(doc, indent=1).encode("utf-8"))
        return path

    def get(self, name: str):
        """The decrypted value of ``<name>.vault``; None when there is none."""
        path = self.path(name)
        try:
            doc = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise VaultError(f"{path}: not a soundlake vault file ({type(exc).__name__}); delete it and log in again") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise VaultError(f"{path}: not a {FORMAT} file; delete it and log in again")
        try:
            fernet = _fernet(self._key, base64.b64decode(doc["salt"]), int(doc["n"]), int(doc["r"]), int(doc["p"]))
            plain = fernet.decrypt(doc["token"].encode("ascii"))
        except InvalidToken:
            raise VaultError(f"{path}: cannot decrypt it with this vault key: {KEY_ENV} (or the keyring's key) is not "
                             "the one it was saved with, or the file was altered. Set the right key, or log in "
                             "again to replace it") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise VaultError(f"{path}: damaged vault file ({type(exc).__name__}); delete it and log in again") from None
        return json.loads(plain)

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)
