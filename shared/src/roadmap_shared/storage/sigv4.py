"""AWS Signature Version 4, the way every S3-compatible service authenticates requests.

There is no magic in an S3 client: a request is plain HTTP, plus a signature that proves
the sender knows the secret key without sending it. The signature is an HMAC-SHA256 over
a normalised copy of the request (the *canonical request*), with a key derived from the
secret, the date, the region and the service. The server rebuilds the same canonical
request from what it received and compares; one byte of difference and it refuses.

    canonical request   one per line, each normalised: the method, the path, the query, the
                        headers, the names of the signed headers, the body's SHA-256
    string to sign      "AWS4-HMAC-SHA256", the time, the scope, SHA-256(canonical request)
    scope               20130524/us-east-1/s3/aws4_request (date, region, service)
    signing key         HMAC chain: "AWS4" + secret -> date -> region -> service -> "aws4_request"
    signature           hex(HMAC(signing key, string to sign))

The signature travels either in an `Authorization` header (`sign_request`) or in the
query string of a URL that anyone holding it may use until it expires (`presign_url`).
The rules are AWS's: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
"""

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

import httpx

ALGORITHM = "AWS4-HMAC-SHA256"
# The hash of a body S3 is told not to check: what presigned URLs sign, since the body of a
# request made later by someone else cannot be known now.
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
# The longest a presigned URL may live, in seconds (seven days).
MAX_PRESIGNED_EXPIRY_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str = field(repr=False)  # never in a log line or a traceback
    region: str
    service: str = "s3"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _uri_encode(value: str, *, keep_slashes: bool = False) -> str:
    # RFC 3986 percent-encoding of everything except the unreserved characters
    # A-Z a-z 0-9 - _ . ~ (which `quote` never encodes). Paths keep their slashes.
    return quote(value, safe="/" if keep_slashes else "")


def _amz_date(now: datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ")  # `now` must be in UTC


def _scope(now: datetime, credentials: Credentials) -> str:
    return f"{now:%Y%m%d}/{credentials.region}/{credentials.service}/aws4_request"


def _canonical_query(params: list[tuple[str, str]]) -> str:
    encoded = sorted((_uri_encode(name), _uri_encode(value)) for name, value in params)
    return "&".join(f"{name}={value}" for name, value in encoded)


def _canonical_request(
    method: str, url: httpx.URL, query: str, headers: dict[str, str], payload_hash: str
) -> tuple[str, str]:
    """The canonical request, and the `;`-separated names of the headers it signs."""
    # Header names lower-cased and sorted; values trimmed, inner runs of spaces collapsed.
    canonical_headers = {name.lower(): " ".join(value.split()) for name, value in headers.items()}
    names = sorted(canonical_headers)
    signed_headers = ";".join(names)
    request = "\n".join(
        [
            method,
            _uri_encode(url.path, keep_slashes=True),  # S3 encodes the (decoded) path once
            query,
            "".join(f"{name}:{canonical_headers[name]}\n" for name in names),
            signed_headers,
            payload_hash,
        ]
    )
    return request, signed_headers


def _signature(canonical_request: str, now: datetime, credentials: Credentials) -> str:
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            _amz_date(now),
            _scope(now, credentials),
            sha256_hex(canonical_request.encode()),
        ]
    )
    # The key is derived, never used raw: a leaked signing key is good for one day, in one
    # region, for one service.
    key = _hmac(f"AWS4{credentials.secret_key}".encode(), f"{now:%Y%m%d}")
    for part in (credentials.region, credentials.service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def host_header(url: httpx.URL) -> str:
    """The `Host` header for `url`, as signed and as sent: the port only if not the default."""
    return url.netloc.decode("ascii")


def sign_request(
    method: str,
    url: httpx.URL,
    headers: dict[str, str],
    *,
    payload_hash: str,
    credentials: Credentials,
    now: datetime,
) -> dict[str, str]:
    """`headers` plus `Host`, `x-amz-date`, `x-amz-content-sha256` and `Authorization`.

    Every header given is signed, so send exactly these; `payload_hash` is the hex SHA-256
    of the body (S3 checks the body against it) or `UNSIGNED_PAYLOAD`.
    """
    signed = {
        **headers,
        "Host": host_header(url),
        "x-amz-date": _amz_date(now),
        "x-amz-content-sha256": payload_hash,
    }
    query = _canonical_query(list(url.params.multi_items()))
    canonical_request, signed_headers = _canonical_request(method, url, query, signed, payload_hash)
    signature = _signature(canonical_request, now, credentials)
    signed["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{_scope(now, credentials)}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return signed


def presign_url(
    method: str, url: httpx.URL, *, expires_seconds: int, credentials: Credentials, now: datetime
) -> httpx.URL:
    """`url` with the signature in its query string, valid for `expires_seconds` from `now`.

    Only the `Host` header is signed, so any client can use the URL as it is.
    """
    if not 1 <= expires_seconds <= MAX_PRESIGNED_EXPIRY_SECONDS:
        raise ValueError(f"a presigned URL lives 1 to {MAX_PRESIGNED_EXPIRY_SECONDS} seconds")
    params = [
        *url.params.multi_items(),
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", f"{credentials.access_key}/{_scope(now, credentials)}"),
        ("X-Amz-Date", _amz_date(now)),
        ("X-Amz-Expires", str(expires_seconds)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    query = _canonical_query(params)
    canonical_request, _ = _canonical_request(
        method, url, query, {"host": host_header(url)}, UNSIGNED_PAYLOAD
    )
    signature = _signature(canonical_request, now, credentials)
    # The query is already encoded; `raw_path` carries it to httpx untouched.
    path = _uri_encode(url.path, keep_slashes=True)
    return url.copy_with(raw_path=f"{path}?{query}&X-Amz-Signature={signature}".encode())
