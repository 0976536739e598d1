"""How a stage's arq jobs are written to Redis: as JSON.

arq pickles by default, and unpickling runs code: anyone who could write to Redis could
run code in the worker. JSON carries only data. A worker passes the pair to arq
(`job_serializer=serialize_job, job_deserializer=deserialize_job`), and anything else that
enqueues to its queue must use the same pair (`arq.create_pool(..., job_serializer=...)`).
"""

import json
from typing import Any


def serialize_job(job: dict[str, Any]) -> bytes:
    return json.dumps(job, default=str).encode()


def deserialize_job(data: bytes) -> dict[str, Any]:
    job: dict[str, Any] = json.loads(data)
    return job
