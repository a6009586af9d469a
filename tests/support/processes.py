"""`pdm-bot` processes on a test's Redis and fake servers, started, killed and stopped by their pid only."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import REPO_ROOT, free_port
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import FakeSlack
from tests.support.web import SIGNING_SECRET, WEBHOOK_SECRET
from tests.support.worker import POLICY, TOKEN

PDM_BOT = str(Path(sys.executable).with_name("pdm-bot"))
ANYTIME = POLICY.replace(
    "index_and_constraint:  {windows: [weekend]", "index_and_constraint:  {windows: [always]"
)


def wait_for(check: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    """Poll `check` every 50 ms until it holds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(0.05)


def listens(pid: int, port: int) -> bool:
    """Whether process `pid` holds the socket listening on 127.0.0.1:`port` (Linux /proc)."""
    owned: set[str] = set()
    with contextlib.suppress(OSError):  # the process is gone, or is not ours
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(FileNotFoundError):  # closed meanwhile
                owned.add(os.readlink(fd))
    if not owned:
        return False
    local = f"0100007F:{port:04X}"  # 127.0.0.1 as /proc/net/tcp writes it
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[3] == "0A" and f"socket:[{fields[9]}]" in owned:  # 0A: LISTEN
            return True
    return False


def start_listening(
    spawn: Callable[[int], subprocess.Popen[bytes]], timeout: float = 30.0
) -> tuple[subprocess.Popen[bytes], int]:
    """`spawn(port)` a server on a free port until it listens there itself: another test process may take
    a free port before the server binds it (the server then exits, and is started again on another)."""
    for _ in range(3):
        port = free_port()
        proc = spawn(port)
        deadline = time.monotonic() + timeout
        while proc.poll() is None:
            if listens(proc.pid, port):
                return proc, port
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not listen on port {port} within {timeout} s")
            time.sleep(0.05)
    raise AssertionError("the server exited three times without listening on its free port")


@contextmanager
def pdm_processes(
    redis_url: str,
    gitlab: FakeGitLabApi,
    slack: FakeSlack,
    workdir: Path,
    *,
    stderr: int = subprocess.DEVNULL,
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """`start(*args)` runs `pdm-bot ARGS...` on the ANYTIME policy (short lock TTL and poll interval);
    every process still running at the end is stopped by its pid."""
    policy_file = workdir / "policy.yaml"
    policy_file.write_text(ANYTIME, encoding="utf-8")
    env = {
        **os.environ,
        "PDM_REDIS_URL": redis_url,
        "PDM_GITLAB_URL": gitlab.url,
        "PDM_GITLAB_TOKEN": TOKEN,
        "PDM_GITLAB_PROJECT": "app",
        "PDM_GITLAB_PIPELINE_PROJECT": "deployer",
        "PDM_SLACK_API_URL": slack.api_url,
        "PDM_SLACK_BOT_TOKEN": "xoxb-test",
        "PDM_SLACK_CHANNEL": "C0RELEASE",
        "PDM_SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "PDM_GITLAB_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "PDM_POLICY_FILE": str(policy_file),
        "PDM_STARTING_SOON_SECONDS": "0",
        "PDM_RUN_LOCK_TTL_SECONDS": "2",
        "PDM_POLL_INTERVAL_SECONDS": "1",
    }
    started: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [PDM_BOT, *args], env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=stderr
        )
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a `pdm-bot worker` and the job process it forked (both started by this test)."""
    path = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    kids = [int(p) for p in path.read_text().split()] if path.exists() else []
    for pid in [*kids, proc.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=10)
