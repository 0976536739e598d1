"""Images in a bucket of any S3-compatible service: AWS S3, MinIO, Ceph, Cloudflare R2, ...

No SDK: an object is stored with a signed `PUT {endpoint}/{bucket}/{key}`, removed with a
signed `DELETE`, and the bucket listed with a signed `GET {endpoint}/{bucket}?list-type=2`
(sigv4.py does the signing). Addressing is path-style, the
bucket in the path rather than in the host name, which every S3-compatible service
accepts and which needs no wildcard DNS for a local MinIO.

The bucket stays private. Clients get presigned GET URLs: anyone holding one may read
that one object until it expires, and nothing else. Set `public_url` instead when the
objects are public anyway (a public-read bucket, a CDN in front of it): plain URLs
are stable, so browsers and CDNs cache them.
"""

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import quote
from xml.etree import ElementTree

import httpx

from roadmap_shared.storage.base import StorageError, StoredObject
from roadmap_shared.storage.sigv4 import Credentials, presign_url, sha256_hex, sign_request

# Per network step (connect, each read, each write), not for the whole request.
TIMEOUT_SECONDS = 10.0


def _error_code(body: bytes) -> str:
    """The `<Code>` of an S3 error document (`NoSuchBucket`, `AccessDenied`,
    `SignatureDoesNotMatch`, ...), the most useful word in it for whoever reads the log."""
    match = re.search(rb"<Code>([A-Za-z0-9.]{1,64})</Code>", body)
    return match.group(1).decode() if match else "no error code"


def _xml(body: bytes) -> ElementTree.Element:
    """A listing from our own bucket. ElementTree expands no external entities, and the
    expat it uses refuses entity bombs; a page that is not XML is the bucket failing."""
    try:
        return ElementTree.fromstring(body)  # noqa: S314  (see above)
    except ElementTree.ParseError as exc:
        raise StorageError(f"the bucket listing is not XML: {exc}") from exc


class S3ImageStorage:
    def __init__(
        self,
        *,
        endpoint_url: str,
        bucket: str,
        credentials: Credentials,
        url_expiry_seconds: int,
        public_url: str = "",
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._bucket_url = f"{endpoint_url.rstrip('/')}/{quote(bucket)}"
        self._credentials = credentials
        self._url_expiry_seconds = url_expiry_seconds
        self._public_url = public_url.rstrip("/")
        # One client for the app's lifetime: it keeps connections to the endpoint open.
        self._client = client or httpx.AsyncClient(timeout=TIMEOUT_SECONDS)

    def _object_url(self, key: str) -> httpx.URL:
        # Percent-encoded once, exactly as the signature's canonical path encodes it.
        return httpx.URL(f"{self._bucket_url}/{quote(key)}")

    async def save(self, key: str, data: bytes, content_type: str) -> None:
        # The body's SHA-256 is signed: S3 refuses a body altered or cut short on the way.
        await self._send("PUT", self._object_url(key), data, {"Content-Type": content_type})

    async def delete(self, key: str) -> None:
        # S3 answers 204 whether or not the object existed.
        await self._send("DELETE", self._object_url(key), b"", {})

    async def stored_objects(self, prefix: str) -> AsyncIterator[StoredObject]:
        """ListObjectsV2: at most 1,000 keys a page; a truncated page ends with a token
        that asks for the keys after it, so objects deleted meanwhile shift nothing."""
        query = {"list-type": "2", "prefix": prefix}
        while True:
            listing = httpx.URL(self._bucket_url, params=query)
            page = _xml(await self._send("GET", listing, b"", {}))
            for item in page.iterfind("{*}Contents"):
                modified = datetime.fromisoformat(item.findtext("{*}LastModified", ""))
                yield StoredObject(item.findtext("{*}Key", ""), modified)
            token = page.findtext("{*}NextContinuationToken")
            if page.findtext("{*}IsTruncated") != "true" or not token:
                return
            query["continuation-token"] = token

    async def _send(
        self, method: str, url: httpx.URL, body: bytes, headers: dict[str, str]
    ) -> bytes:
        signed_headers = sign_request(
            method,
            url,
            headers,
            payload_hash=sha256_hex(body),
            credentials=self._credentials,
            now=datetime.now(UTC),
        )
        try:
            response = await self._client.request(method, url, headers=signed_headers, content=body)
        except httpx.HTTPError as exc:
            raise StorageError(f"{method} {url.path}: {exc!r}") from exc
        if response.is_error:
            code = _error_code(response.content)
            raise StorageError(f"{method} {url.path}: {response.status_code} {code}")
        return response.content

    def url(self, key: str) -> str:
        if self._public_url:
            return f"{self._public_url}/{quote(key)}"
        presigned = presign_url(
            "GET",
            self._object_url(key),
            expires_seconds=self._url_expiry_seconds,
            credentials=self._credentials,
            now=datetime.now(UTC),
        )
        return str(presigned)

    async def close(self) -> None:
        await self._client.aclose()
