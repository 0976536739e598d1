"""Builds the gRPC code from `proto/` whenever the package is installed (`uv sync`, a
wheel, a Docker image), so generated code is never committed or edited by hand.

`protoc` writes `src/ledger/v1/ledger_pb2.py` (messages), `ledger_pb2_grpc.py` (the
client stub and the servicer base class) and `.pyi` stubs for both, which mypy reads."""

from pathlib import Path
from typing import Any

from grpc_tools import protoc  # a build requirement (pyproject.toml), not a runtime one
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class GenerateGrpcCode(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        proto, out = Path(self.root) / "proto", Path(self.root) / "src"
        protos = sorted(str(path) for path in proto.rglob("*.proto"))
        arguments = [
            "grpc_tools.protoc",
            f"--proto_path={proto}",
            *[f"--{kind}_out={out}" for kind in ("python", "grpc_python", "mypy", "mypy_grpc")],
            *protos,
        ]
        if protoc.main(arguments) != 0:
            raise RuntimeError(f"protoc failed on {', '.join(protos)}")
