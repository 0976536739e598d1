"""Problem types this stage raises besides the shared ones."""

from http import HTTPStatus

from roadmap_shared.errors import ProblemError


class UnprocessableContent(ProblemError):
    """422: the request is well-formed but refers to something that cannot be used
    (a parent category that does not exist, an idempotency key reused for another body)."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY


class UnsupportedMediaType(ProblemError):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE


class ContentTooLarge(ProblemError):
    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE


class ServiceUnavailable(ProblemError):
    """503: a service this request needs (the image storage) is failing; try again later."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
