"""A real S3 server for tests: moto's, in a thread, on a free local port. It receives the
same signed HTTP requests a bucket of AWS S3 or MinIO would (`roadmap_shared.storage.s3`).

moto accepts any key until its IAM checks are switched on (`iam_checks`); then every
request must carry a valid signature by a key of an IAM user it knows."""

import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime

import httpx
from moto.server import ThreadedMotoServer

from roadmap_shared.storage.sigv4 import Credentials, sha256_hex, sign_request

REGION = "us-east-1"
# Accepted by moto while its IAM checks are off: a test key, never a real one.
ANY_KEY = Credentials("test-access-key", "test-secret-key", REGION)


@contextmanager
def s3_server() -> Iterator[str]:
    """Runs the server while the block runs; yields its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


async def signed(
    method: str,
    url: str,
    *,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    credentials: Credentials = ANY_KEY,
) -> httpx.Response:
    """One signed request to the S3 server, for setting up and inspecting a bucket."""
    request_url = httpx.URL(url)
    signed_headers = sign_request(
        method,
        request_url,
        headers or {},
        payload_hash=sha256_hex(body),
        credentials=credentials,
        now=datetime.now(UTC),
    )
    async with httpx.AsyncClient() as client:
        return await client.request(method, request_url, headers=signed_headers, content=body)


async def new_bucket(endpoint: str) -> str:
    """Creates an empty bucket with a name of its own; returns the name."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    response = await signed("PUT", f"{endpoint}/{name}")
    response.raise_for_status()
    return name


@asynccontextmanager
async def iam_checks(endpoint: str) -> AsyncIterator[None]:
    """moto's IAM checks, switched on for the block: every request must then carry a valid
    signature by a known access key, which moto recomputes and compares. (It does not check
    presigned GETs; the signer's tests check those against AWS's own example.)"""
    switch = f"{endpoint}/moto-api/reset-auth"  # the number of requests to let through
    async with httpx.AsyncClient() as client:
        (await client.post(switch, content=b"0")).raise_for_status()
        try:
            yield
        finally:
            (await client.post(switch, content=b"inf")).raise_for_status()


async def iam_user_with_s3_access(endpoint: str) -> Credentials:
    """An IAM user allowed `s3:*`, made through moto's IAM API (a signed form POST)."""
    iam = Credentials(ANY_KEY.access_key, ANY_KEY.secret_key, REGION, service="iam")

    async def call(action: str, **parameters: str) -> str:
        form = httpx.QueryParams({"Action": action, "Version": "2010-05-08", **parameters})
        response = await signed(
            "POST",
            f"{endpoint}/",
            body=str(form).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            credentials=iam,
        )
        response.raise_for_status()
        return response.text

    user = f"test-{uuid.uuid4().hex[:8]}"
    await call("CreateUser", UserName=user)
    policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
    )
    await call("PutUserPolicy", UserName=user, PolicyName="images", PolicyDocument=policy)
    keys = await call("CreateAccessKey", UserName=user)
    access_key = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", keys)
    secret_key = re.search(r"<SecretAccessKey>([^<]+)</SecretAccessKey>", keys)
    assert access_key is not None
    assert secret_key is not None
    return Credentials(access_key.group(1), secret_key.group(1), REGION)
