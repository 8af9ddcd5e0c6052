"""HTTPS for the local AWS: a certificate authority of its own, and clients that trust it.

In AWS every endpoint is HTTPS, and a bucket policy that denies
``aws:SecureTransport = false`` (the trail role writes one) only holds if the
local AWS is HTTPS too. moto's server takes a certificate and key
(``--ssl-cert``/``--ssl-key``); this module makes them: a CA, and a server
certificate for ``127.0.0.1`` and ``localhost`` signed by it.

They are made once and kept under ``build/local-aws-tls/`` (about 0.2 s to
make, and every server of every test session shares them), so any process on
the machine finds the CA at ``CA_FILE`` without being told. Clients get it as
``AWS_CA_BUNDLE`` (botocore, the AWS CLI, amazon.aws) and through
``urlopen`` below (the control API calls made with urllib).

Nothing here imports moto.
"""

from __future__ import annotations

import datetime
import os
import shutil
import ssl
import tempfile
import urllib.request
from typing import Any

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TLS_DIR = os.path.join(REPO_ROOT, "build", "local-aws-tls")
CA_FILE = os.path.join(TLS_DIR, "ca.pem")
CERT_FILE = os.path.join(TLS_DIR, "server.pem")
KEY_FILE = os.path.join(TLS_DIR, "server-key.pem")

# Long enough that a cached CA never expires under a checkout; a fresh
# checkout (or `make clean`) makes new ones.
VALID_DAYS = 3650


def _make(directory: str) -> None:
    """Write ca.pem, server.pem and server-key.pem into ``directory``."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    until = now + datetime.timedelta(days=VALID_DAYS)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "trailops local AWS test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(until)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    with open(os.path.join(directory, "ca.pem"), "wb") as handle:
        handle.write(ca.public_bytes(pem))
    with open(os.path.join(directory, "server.pem"), "wb") as handle:
        handle.write(server.public_bytes(pem))
    with open(os.path.join(directory, "server-key.pem"), "wb") as handle:
        handle.write(server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(os.path.join(directory, "server-key.pem"), 0o600)


def ensure_certificates() -> tuple[str, str, str]:
    """(CA file, server certificate, server key), made on first use.

    Several test sessions may start servers at the same moment: each makes its
    set in a private directory and renames it into place; a rename that finds
    the directory already there loses, and everyone uses the winner's set.
    """
    if not os.path.exists(KEY_FILE):
        os.makedirs(os.path.dirname(TLS_DIR), exist_ok=True)
        scratch = tempfile.mkdtemp(prefix=".local-aws-tls-", dir=os.path.dirname(TLS_DIR))
        try:
            _make(scratch)
            os.chmod(scratch, 0o755)
            os.rename(scratch, TLS_DIR)
        except OSError:
            if not os.path.exists(KEY_FILE):
                raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return CA_FILE, CERT_FILE, KEY_FILE


def ssl_context() -> ssl.SSLContext:
    """A client context that trusts the local AWS's CA (and checks host names)."""
    return ssl.create_default_context(cafile=ensure_certificates()[0])


def urlopen(request: Any, timeout: float) -> Any:
    """``urllib.request.urlopen`` for the local AWS's control API, over its HTTPS."""
    return urllib.request.urlopen(request, timeout=timeout, context=ssl_context())
