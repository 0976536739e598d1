"""The request signer, against the worked examples in AWS's S3 documentation
(https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html and
sig-v4-query-string-auth.html): same keys, same time, same requests, same signatures."""

from datetime import UTC, datetime

import httpx
import pytest

from roadmap_shared.storage.sigv4 import (
    UNSIGNED_PAYLOAD,
    Credentials,
    presign_url,
    sha256_hex,
    sign_request,
)

EXAMPLE = Credentials(
    access_key="AKIAIOSFODNN7EXAMPLE",
    secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    region="us-east-1",
)
EXAMPLE_TIME = datetime(2013, 5, 24, tzinfo=UTC)
BUCKET = "https://examplebucket.s3.amazonaws.com"
EMPTY_BODY_HASH = sha256_hex(b"")


def signature_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].rpartition("Signature=")[2]


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "signature"),
    [
        pytest.param(
            "GET",
            "/test.txt",
            {"Range": "bytes=0-9"},
            b"",
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            id="get-object",
        ),
        pytest.param(
            "PUT",
            "/test$file.text",  # the `$` is percent-encoded in the canonical path
            {"Date": "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY"},
            b"Welcome to Amazon S3.",
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
            id="put-object",
        ),
        pytest.param(
            "GET",
            "/?lifecycle",
            {},
            b"",
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
            id="get-bucket-lifecycle",
        ),
        pytest.param(
            "GET",
            "/?max-keys=2&prefix=J",
            {},
            b"",
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            id="list-objects",
        ),
    ],
)
def test_signed_requests_match_the_aws_examples(
    method: str, path: str, headers: dict[str, str], body: bytes, signature: str
) -> None:
    signed = sign_request(
        method,
        httpx.URL(BUCKET + path),
        headers,
        payload_hash=sha256_hex(body),
        credentials=EXAMPLE,
        now=EXAMPLE_TIME,
    )

    assert signature_of(signed) == signature
    assert signed["Authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
    )
    assert signed["x-amz-date"] == "20130524T000000Z"
    assert signed["Host"] == "examplebucket.s3.amazonaws.com"


def test_a_presigned_url_matches_the_aws_example() -> None:
    url = presign_url(
        "GET",
        httpx.URL(BUCKET + "/test.txt"),
        expires_seconds=86400,
        credentials=EXAMPLE,
        now=EXAMPLE_TIME,
    )

    assert str(url) == (
        "https://examplebucket.s3.amazonaws.com/test.txt"
        "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z"
        "&X-Amz-Expires=86400"
        "&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
    )


def test_the_signature_covers_the_body_and_the_secret() -> None:
    def sign(body: bytes, credentials: Credentials) -> str:
        url = httpx.URL(BUCKET + "/photo.png")
        return signature_of(
            sign_request(
                "PUT",
                url,
                {},
                payload_hash=sha256_hex(body),
                credentials=credentials,
                now=EXAMPLE_TIME,
            )
        )

    other_secret = Credentials(EXAMPLE.access_key, "another-secret", EXAMPLE.region)

    assert sign(b"one", EXAMPLE) != sign(b"two", EXAMPLE)
    assert sign(b"one", EXAMPLE) != sign(b"one", other_secret)


def test_a_port_is_part_of_the_signed_host() -> None:
    signed = sign_request(
        "DELETE",
        httpx.URL("http://127.0.0.1:9000/media/a.png"),
        {},
        payload_hash=UNSIGNED_PAYLOAD,
        credentials=EXAMPLE,
        now=EXAMPLE_TIME,
    )

    assert signed["Host"] == "127.0.0.1:9000"


def test_presigned_urls_live_at_most_seven_days() -> None:
    with pytest.raises(ValueError, match="604800"):
        presign_url(
            "GET",
            httpx.URL(BUCKET + "/test.txt"),
            expires_seconds=604801,
            credentials=EXAMPLE,
            now=EXAMPLE_TIME,
        )


def test_the_secret_never_appears_in_a_repr() -> None:
    assert EXAMPLE.secret_key not in repr(EXAMPLE)
