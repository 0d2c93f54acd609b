"""The archive signing key: Ed25519, created on first use under `<data_dir>/keys/`.

`archive_ed25519.pem` is the private key (PKCS8 PEM, unencrypted, mode 0600);
`archive_ed25519.pub.pem` next to it is the public key that `verify` trusts.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from recording.canonical import fsync_dir, write_atomic

KEYS_DIR = "keys"
PRIVATE_KEY_FILE = "archive_ed25519.pem"
PUBLIC_KEY_FILE = "archive_ed25519.pub.pem"


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of a public key."""
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return key.public_bytes(serialization.Encoding.PEM, spki)


def public_key_b64(key: Ed25519PublicKey) -> str:
    """The raw 32 key bytes, base64."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """Read a PEM public key; raise ValueError if it is not Ed25519."""
    key = serialization.load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 public key")
    return key


def verify_signature(public_key: Ed25519PublicKey, data: bytes, signature: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of `data`."""
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


class ArchiveSigner:
    """Signs archive manifests with the data dir's Ed25519 key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()

    @classmethod
    def load_or_create(cls, data_dir: str | os.PathLike[str]) -> ArchiveSigner:
        """Load `<data_dir>/keys/archive_ed25519.pem`, creating it (0600) if absent."""
        folder = Path(data_dir) / KEYS_DIR
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = folder / PRIVATE_KEY_FILE
        if not path.exists():
            _create_private_key(path)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path}: not an Ed25519 private key")
        signer = cls(key)
        pub_path = folder / PUBLIC_KEY_FILE
        if not pub_path.exists() or pub_path.read_bytes() != signer.public_key_pem():
            write_atomic(pub_path, signer.public_key_pem())
        return signer

    def sign(self, data: bytes) -> bytes:
        """Raw 64-byte Ed25519 signature of `data`."""
        return self._key.sign(data)

    def public_key_pem(self) -> bytes:
        """The public key as PEM."""
        return public_key_pem(self.public_key)

    def public_key_b64(self) -> str:
        """The raw public key, base64."""
        return public_key_b64(self.public_key)


def _create_private_key(path: Path) -> None:
    """Write a new key atomically; if another process won the race, keep theirs."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    try:
        os.link(tmp, path)  # fails if the key appeared meanwhile: never overwrite a key
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    fsync_dir(path.parent)
