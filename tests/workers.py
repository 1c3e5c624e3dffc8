"""Real processes for the fault tests: Celery workers, a private Redis, a slow SMS provider.

Every process starts in a session of its own, so a test can SIGKILL it with all
its children (a prefork worker's pool processes) in one go, and always does so
in the end.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from appointments.notifications.sms import FileSmsBackend

BASE_DIR = Path(__file__).resolve().parent.parent


class SlowFileSmsBackend(FileSmsBackend):
    """The recording file backend with a provider's latency.

    `SPREEKUUR_TEST_SMS_DELAY_MS` (read in the worker) passes before the provider
    accepts (the line is written), and stretches a batch out, so a test can kill
    a worker or its broker halfway through. `SPREEKUUR_TEST_SMS_REPLY_MS` passes
    after it accepted, before the answer is back: a kill then falls in the window
    in which a message goes out twice.
    """

    def send(self, *, to: str, body: str, reference: str) -> str:
        time.sleep(int(os.environ.get("SPREEKUUR_TEST_SMS_DELAY_MS", "0")) / 1000)
        provider_id = super().send(to=to, body=body, reference=reference)
        time.sleep(int(os.environ.get("SPREEKUUR_TEST_SMS_REPLY_MS", "0")) / 1000)
        return provider_id


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def recorded_references(path: Path) -> Counter:
    """How often each reference was handed to the provider (one JSON line per SMS)."""
    if not path.exists():
        return Counter()
    return Counter(json.loads(line)["reference"] for line in path.read_text().splitlines())


def _kill_group(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=10)


class Worker:
    """`celery -A spreekuur worker` as production runs it, in its own process group."""

    def __init__(self, name: str, *, env: dict[str, str], log_dir: Path):
        self.name = name
        self.env = env
        self.log_path = log_dir / f"worker-{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        celery = Path(sys.executable).with_name("celery")
        command = [str(celery)] if celery.exists() else [sys.executable, "-m", "celery"]
        command += [
            "-A",
            "spreekuur",
            "worker",
            "-Q",
            "spreekuur",
            "--concurrency",
            "2",
            "--pool",
            "prefork",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
            "--hostname",
            f"{self.name}@%h",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - a fixed command, no input
                command,
                cwd=BASE_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = 30) -> "Worker":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited:\n{self.log_tail()}")
            if b" ready." in self.log_path.read_bytes():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"worker {self.name} not ready after {timeout} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL to the worker and its pool processes: no shutdown, no acks, no cleanup."""
        if self.process is not None:
            _kill_group(self.process)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class RedisServer:
    """A private, throwaway redis-server on its own port: safe to crash and restart."""

    def __init__(self, *, log_dir: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_dir / f"redis-{self.port}.log"
        self.process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def start(self, timeout: float = 10) -> "RedisServer":
        command = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - a fixed command, no input
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on {self.port} did not come up")

    def crash(self) -> None:
        """SIGKILL: everything in it (the queued tasks) is gone."""
        if self.process is not None:
            _kill_group(self.process)
