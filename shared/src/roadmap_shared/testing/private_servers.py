"""Private PostgreSQL and Redis servers for fault tests: killed, hung (SIGSTOP) and brought
back without touching the shared servers every other test uses.

Each server runs on a free port picked at start, with its data in a temporary directory,
and is always stopped and removed when its `with` block ends. Tests reach them through the
`private_postgres` and `private_redis` fixtures of the harness plugin.
"""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

STARTUP_SECONDS = 30.0
# PostgreSQL refuses to run as root; as root we run its binaries as this user instead.
POSTGRES_OS_USER = "postgres"


def free_port() -> int:
    """A port nothing listens on right now (the server binds it a moment later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_listening(port: int, process: "subprocess.Popen[bytes] | None" = None) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {STARTUP_SECONDS} s")


def _signal_tree(root_pid: int, signum: int) -> None:
    """Sends `signum` to a process and all its descendants: PostgreSQL serves each
    connection from a child of the postmaster, so stopping only the parent hangs nothing."""
    children: dict[int, list[int]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # The command name (field 2) may hold spaces; the fields after its ")" do not.
            fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(Path(stat).parent.name))
    pending = [root_pid]
    while pending:
        pid = pending.pop()
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
        pending.extend(children.get(pid, []))


class _PrivateServer:
    port: int

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def _pid(self) -> int:
        raise NotImplementedError

    def pause(self) -> None:
        """Hangs the server: connections stay open, nothing is answered (SIGSTOP)."""
        _signal_tree(self._pid(), signal.SIGSTOP)

    def resume(self) -> None:
        _signal_tree(self._pid(), signal.SIGCONT)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Hung inside the block, answering again after it."""
        self.pause()
        try:
            yield
        finally:
            self.resume()

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """Killed inside the block, restarted (same port) after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()


class PrivateRedis(_PrivateServer):
    """`redis-server` on a free port, without persistence."""

    def __init__(self) -> None:
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        # Fixed program, arguments we built: nothing here comes from outside.
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL)  # noqa: S603
        wait_until_listening(self.port, self._process)

    def stop(self) -> None:
        """Kills the server (SIGKILL); `start` brings it back, empty, on the same port."""
        if self._process is not None:
            self.resume()  # a stopped process does not die of SIGKILL until continued
            self._process.kill()
            self._process.wait()
            self._process = None

    def close(self) -> None:
        self.stop()

    def _pid(self) -> int:
        if self._process is None:
            raise RuntimeError("the server is not running")
        return self._process.pid


class PrivatePostgres(_PrivateServer):
    """A throw-away PostgreSQL cluster (initdb, pg_ctl) on a free port, trust auth."""

    def __init__(self) -> None:
        self.port = free_port()
        self._directory = Path(tempfile.mkdtemp(prefix="private-postgres-"))
        self._data = self._directory / "data"
        self._initialised = False

    @property
    def url(self) -> str:
        """The `postgres` database, through SQLAlchemy's asyncpg driver."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        if not self._initialised:
            if os.geteuid() == 0:
                shutil.chown(self._directory, POSTGRES_OS_USER, POSTGRES_OS_USER)
            self._run("initdb", "-D", str(self._data), "-U", "postgres", "-A", "trust")
            self._initialised = True
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self._directory} -F"
        log = str(self._directory / "server.log")
        self._run("pg_ctl", "start", "-w", "-D", str(self._data), "-l", log, "-o", options)
        wait_until_listening(self.port)

    def stop(self) -> None:
        """Kills the server at once (immediate shutdown); `start` brings it back."""
        if (self._data / "postmaster.pid").exists():
            self.resume()
            self._run("pg_ctl", "stop", "-D", str(self._data), "-m", "immediate", check=False)

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self._directory, ignore_errors=True)

    def _pid(self) -> int:
        return int((self._data / "postmaster.pid").read_text().split()[0])

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        binary = _postgres_binary(program)
        as_user = ["runuser", "-u", POSTGRES_OS_USER, "--"] if os.geteuid() == 0 else []
        command = [*as_user, binary, *args]
        subprocess.run(command, check=check, capture_output=True, timeout=STARTUP_SECONDS)  # noqa: S603


def _postgres_binary(program: str) -> str:
    """`program` from the newest PostgreSQL under /usr/lib/postgresql, else from PATH."""
    versions = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{program}"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    found = versions[-1] if versions else shutil.which(program)
    if found is None:
        raise FileNotFoundError(f"{program} not found; install the PostgreSQL server binaries")
    return found
