"""Ed25519 signatures of evidence seals (``cryptography``).

``UGPP_BRIDGE_SIGNING_KEY`` names a PEM file with an Ed25519 private key (PKCS#8, unencrypted;
``openssl genpkey -algorithm ed25519 -out firma.pem``). The bundle carries the public key; the
auditor compares its fingerprint (SHA-256 of the DER public key) with the one the entity
publishes.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ugpp_bridge.errors import ConfigurationError


class Ed25519Signer:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        public = private_key.public_key()
        self.public_key_pem: bytes = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.fingerprint: str = fingerprint(public)

    @classmethod
    def from_file(cls, path: Path) -> Ed25519Signer:
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except OSError as exc:
            raise ConfigurationError(
                f"UGPP_BRIDGE_SIGNING_KEY: cannot read {path} ({exc.strerror}).",
                setting="UGPP_BRIDGE_SIGNING_KEY",
            ) from exc
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(
                f"UGPP_BRIDGE_SIGNING_KEY: {path} is not an unencrypted PEM private key "
                "(make one with: openssl genpkey -algorithm ed25519 -out firma.pem).",
                setting="UGPP_BRIDGE_SIGNING_KEY",
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigurationError(
                f"UGPP_BRIDGE_SIGNING_KEY: {path} holds a {type(key).__name__}; an Ed25519 key "
                "is required.",
                setting="UGPP_BRIDGE_SIGNING_KEY",
            )
        return cls(key)

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)


def fingerprint(public: Ed25519PublicKey) -> str:
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def check_signature(public_key_pem: bytes, signature_b64: bytes, data: bytes) -> str | None:
    """The key's fingerprint when ``signature_b64`` signs ``data``; None when it does not (or
    the key or the signature cannot be read)."""
    try:
        public = serialization.load_pem_public_key(public_key_pem)
        if not isinstance(public, Ed25519PublicKey):
            return None
        public.verify(base64.b64decode(signature_b64.strip(), validate=True), data)
    except (InvalidSignature, ValueError, TypeError):
        return None
    return fingerprint(public)
