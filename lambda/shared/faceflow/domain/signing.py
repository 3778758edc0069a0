"""CloudFront signed URLs for shares, signed with a private key kept in Secrets Manager.

- `url(key, expires)`: a canned policy (one resource, "until"), for the archive: the short URL
  an email carries;
- `prefix_urls(prefix, keys, expires)`: one custom policy whose resource is the prefix with a
  wildcard, signed once for all of a share's photos (one RSA signature per request, however
  many photos).

RSA-2048, PKCS#1 v1.5 with SHA-256 (`Hash-Algorithm=SHA256`; CloudFront's default is SHA-1).
The key pair: one per generation, made at deploy time by the signing-key custom resource
(lambda/sharing/share_keys.py) with `generate_key_pair`, the private half written to its
secret as `{"generation", "privateKey"}`, the public half registered as a CloudFront public
key in the distribution's key group (docs/sharing.md, "Signing keys"). The deployment's signer
(its key read from Secrets Manager) is faceflow.storage.signing_keys.signer().
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from urllib.parse import quote

HASH_ALGORITHM = "SHA256"
KEY_BITS = 2048  # CloudFront takes RSA 2048 (or ECDSA P-256) public keys
_B64_TO_URL = str.maketrans("+=/", "-_~")  # CloudFront's URL-safe base64
_URL_TO_B64 = str.maketrans("-_~", "+=/")


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode().translate(_B64_TO_URL)


def decode(text: str) -> bytes:
    return base64.b64decode(text.translate(_URL_TO_B64), validate=True)


def canned_policy(resource: str, expires: int) -> str:
    """The exact JSON CloudFront rebuilds from a canned URL (no whitespace)."""
    statement = {"Resource": resource, "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}
    return json.dumps({"Statement": [statement]}, separators=(",", ":"))


def generate_key_pair() -> tuple[str, str]:
    """(private key PKCS#8 PEM, public key SubjectPublicKeyInfo PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return private.decode(), public_key_of(private.decode())


def public_key_of(private_pem: str) -> str:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return public.decode()


class UrlSigner:
    def __init__(self, key_pair_id: str, private_pem: str, domain: str, scheme: str = "https"):
        from cryptography.hazmat.primitives import serialization

        self.key_pair_id = key_pair_id
        self.base = f"{scheme}://{domain}"
        self._key = serialization.load_pem_private_key(private_pem.encode(), password=None)

    def _sign(self, policy: str) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        return encode(self._key.sign(policy.encode(), padding.PKCS1v15(), hashes.SHA256()))

    def resource(self, key: str) -> str:
        return f"{self.base}/{quote(key, safe='/')}"

    def url(self, key: str, expires: int) -> str:
        """A canned-policy URL of one object, valid until `expires` (epoch seconds)."""
        resource = self.resource(key)
        signature = self._sign(canned_policy(resource, expires))
        return (
            f"{resource}?Expires={expires}&Signature={signature}"
            f"&Key-Pair-Id={self.key_pair_id}&Hash-Algorithm={HASH_ALGORITHM}"
        )

    def prefix_urls(self, prefix: str, keys: Iterable[str], expires: int) -> list[str]:
        """URLs of objects under `prefix`, all carrying one custom policy for `prefix*`."""
        statement = {
            "Resource": f"{self.resource(prefix)}*",
            "Condition": {"DateLessThan": {"AWS:EpochTime": expires}},
        }
        policy = json.dumps({"Statement": [statement]}, separators=(",", ":"))
        query = (
            f"Policy={encode(policy.encode())}&Signature={self._sign(policy)}"
            f"&Key-Pair-Id={self.key_pair_id}&Hash-Algorithm={HASH_ALGORITHM}"
        )
        urls = []
        for key in keys:
            if not key.startswith(prefix):
                raise ValueError(f"{key} is not under {prefix}")
            urls.append(f"{self.resource(key)}?{query}")
        return urls
