"""The redaction set: real-shaped secrets are masked (keeping what says what they were), near misses are not."""

from __future__ import annotations

import pytest

from dos.core.redact import MASK, redact, redact_data

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # 40 characters, AWS's documented shape
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
       ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
PEM_BODY = ("MIIEowIBAAKCAQEAuKL8Z1x3tEvy0nTqA4d2v1dlbM2b9mQe0rP0y9+0Hk2xX7Tz\n"
            "c3K0Wl6w8dV9g4mJmQ2fU0k3tX1r5y7Qe2wW1wq1R0nQ8zjG5dY6uX4P1tC9/yZq\n"
            "b5L0a2Jv8nR3kQ==")

# (what was typed, what must be stored)
MASKED = [
    (f"aws_secret_access_key={AWS_SECRET}", f"aws_secret_access_key={MASK}"),
    (f"export AWS_SECRET_ACCESS_KEY='{AWS_SECRET}'", f"export AWS_SECRET_ACCESS_KEY='{MASK}'"),
    (f'{{"SecretAccessKey": "{AWS_SECRET}"}}', f'{{"SecretAccessKey": "{MASK}"}}'),
    (f"aws_secret_access_key = {AWS_SECRET}\nregion = eu-west-1", f"aws_secret_access_key = {MASK}\nregion = eu-west-1"),
    ("charge it with sk_live_51H8xYzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789", f"charge it with {MASK}"),
    ("restricted: rk_live_51H8xYzAbCdEfGhIjKlMnOpQrSt", f"restricted: {MASK}"),
    ("test mode: sk_test_4eC39HqLyjWDarjtT1zdp7dc", f"test mode: {MASK}"),
    (f"the session cookie is {JWT} ok", f"the session cookie is {MASK} ok"),
    ("postgres://app:s3cr3t-P4ss@db.internal:5432/prod", f"postgres://app:{MASK}@db.internal:5432/prod"),
    ("git clone https://alice:ghs_token123@github.com/acme/x.git", f"git clone https://alice:{MASK}@github.com/acme/x.git"),
    ("REDIS_URL=redis://default:hunter2@cache:6379", f"REDIS_URL=redis://default:{MASK}@cache:6379"),
    (f"key:\n-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----\nthanks",
     f"key:\n-----BEGIN RSA PRIVATE KEY-----\n{MASK}\n-----END RSA PRIVATE KEY-----\nthanks"),
    (f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----",
     f"-----BEGIN PRIVATE KEY-----\n{MASK}\n-----END PRIVATE KEY-----"),
    (f"-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----",
     f"-----BEGIN OPENSSH PRIVATE KEY-----\n{MASK}\n-----END OPENSSH PRIVATE KEY-----"),
    (f"-----BEGIN ENCRYPTED PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B\n\n{PEM_BODY}\n"
     "-----END ENCRYPTED PRIVATE KEY-----",
     f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{MASK}\n-----END ENCRYPTED PRIVATE KEY-----"),
    # a block cut short (a streaming partial, a paste that lost its end): the body still never lands
    (f"here: -----BEGIN EC PRIVATE KEY-----\n{PEM_BODY[:70]}", f"here: -----BEGIN EC PRIVATE KEY-----\n{MASK}"),
    (f"-----BEGIN EC PRIVATE KEY-----\n{PEM_BODY[:70]}\n(truncated)", f"-----BEGIN EC PRIVATE KEY-----\n{MASK}(truncated)"),
]

NEAR_MISSES = [
    "commit 3f786850e387550fdab836ed7e6dc881de23001b fixed it",  # a git commit hash: 40 characters, no context
    "AWS_DEFAULT_REGION=eu-west-1 and 3f786850e387550fdab836ed7e6dc881de23001b",
    "request 123e4567-e89b-12d3-a456-426614174000 failed",  # a UUID
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "a base64 JSON header eyJhbGciOiJIUzI1NiJ9 alone is not a token",
    "set aws_secret_access_key in ~/.aws/credentials",  # the name without a value
    "ssh://git@github.com/acme/x.git and git@github.com:acme/x.git",  # a user, no password
    "http://localhost:8080/notes@today",  # a port, not a password
    "pk_live_51H8xYzAbCdEfGhIjKlMnOpQrSt is a publishable key",
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUEXAMPLE\n-----END CERTIFICATE-----",
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEXAMPLE\n-----END PUBLIC KEY-----",
]


@pytest.mark.parametrize("text, stored", MASKED)
def test_real_shaped_secrets_are_masked(text, stored):
    assert redact(text) == stored


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_left_alone(text):
    assert redact(text) == text


def test_secrets_inside_data_are_masked_too():
    assert redact_data({"env": [f"aws_secret_access_key={AWS_SECRET}"], "n": 1}) == {
        "env": [f"aws_secret_access_key={MASK}"], "n": 1}
