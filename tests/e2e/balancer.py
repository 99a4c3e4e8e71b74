"""nginx from the machine's packages in front of bot workers, configured from deploy/nginx.

The site configuration is the operators' template, `deploy/nginx/reportbot.conf`, rendered with
this run's ports and files (a plain-HTTP listen on 127.0.0.1); a small main configuration around
it keeps everything nginx writes in a temporary folder, so no root paths are needed. nginx runs
in the foreground (`daemon off`) as the test's own child process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import string
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.harness import PROJECT, WEBHOOK_SECRET, BotProcess

TEMPLATE = PROJECT / "deploy" / "nginx" / "reportbot.conf"
START_TIMEOUT = 20.0
STOP_TIMEOUT = 20.0

MAIN = """\
daemon off;
worker_processes 1;
{user}
pid {folder}/nginx.pid;
error_log {folder}/error.log notice;
events {{
    worker_connections 1024;
}}
http {{
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/reportbot.conf;
}}
"""
_ACCESS = re.compile(
    r"^(?P<time>\S+) status=(?P<status>\d+) request_s=(?P<request_s>[\d.]+) "
    r"upstream=(?P<upstream>.*?) upstream_status=(?P<upstream_status>.*?) upstream_s=(?P<up_s>.*)$"
)


def nginx_binary() -> str | None:
    """Where nginx is installed (Debian puts it in /usr/sbin), or None."""
    found = shutil.which("nginx")
    if found:
        return found
    debian = Path("/usr/sbin/nginx")
    return str(debian) if debian.exists() else None


def render(
    *,
    workers: list[str],
    listen: str,
    path: str,
    access_log: Path,
    server_name: str = "localhost",
    tls: str = "",
) -> str:
    """The site configuration: the template with this deployment's values (as envsubst would)."""
    values = {
        "REPORTBOT_WORKERS": " ".join(f"server {address};" for address in workers),
        "REPORTBOT_LISTEN": listen,
        "REPORTBOT_SERVER_NAME": server_name,
        "REPORTBOT_TLS": tls,
        "REPORTBOT_WEBHOOK_PATH": path,
        "REPORTBOT_ACCESS_LOG": str(access_log),
    }
    # safe_substitute leaves nginx's own $variables as they are, as envsubst with a list does.
    site = string.Template(TEMPLATE.read_text()).safe_substitute(values)
    left = sorted(set(re.findall(r"\$\{?(REPORTBOT_\w+)", site)))
    assert not left, f"the template uses values the test does not give: {left}"
    return site


@dataclass(frozen=True)
class Access:
    """One line of the balancer's access log: a webhook call and where it went."""

    status: int
    upstreams: list[str]
    upstream_statuses: list[str]


class Balancer:
    """nginx listening on 127.0.0.1:PORT, spreading PATH over WORKERS (host:port each)."""

    def __init__(self, folder: Path, *, port: int, workers: list[str], path: str) -> None:
        """Prepare the configuration in FOLDER (created); nothing runs until start()."""
        binary = nginx_binary()
        assert binary is not None, "nginx is not installed"
        self.binary = binary
        self.folder = folder
        self.port = port
        self.workers = workers
        self.path = path
        self.process: asyncio.subprocess.Process | None = None
        folder.mkdir(parents=True, exist_ok=True)
        self.access_log = folder / "access.log"
        self.output = folder / "nginx.out"
        # nginx started by root hands its work to an unprivileged user, who could not enter
        # the test's private temporary folder: keep root then.
        user = "user root;" if os.geteuid() == 0 else ""
        (folder / "reportbot.conf").write_text(
            render(
                workers=workers,
                listen=f"127.0.0.1:{port}",
                path=path,
                access_log=self.access_log,
            )
        )
        self.config = folder / "nginx.conf"
        self.config.write_text(MAIN.format(folder=folder, user=user))

    @property
    def url(self) -> str:
        """The webhook URL Telegram is given: the balancer's."""
        return f"http://127.0.0.1:{self.port}{self.path}"

    def worker_env(self, port: int, max_chats: int) -> dict[str, str]:
        """The settings of a worker behind this balancer that listens on PORT."""
        return {
            "WEBHOOK_URL": self.url,
            "WEBHOOK_SECRET": WEBHOOK_SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
            "MAX_CONCURRENT_CHATS": str(max_chats),
        }

    def _command(self, *extra: str) -> list[str]:
        return [
            self.binary,
            "-p",
            str(self.folder),
            "-c",
            str(self.config),
            "-e",
            str(self.folder / "error.log"),
            *extra,
        ]

    async def start(self) -> None:
        """Check the configuration, start nginx and wait until it accepts connections."""
        check = await asyncio.create_subprocess_exec(
            *self._command("-t"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        said, _ = await check.communicate()
        assert check.returncode == 0, f"nginx -t refused the configuration:\n{said.decode()}"
        with self.output.open("ab") as output:
            self.process = await asyncio.create_subprocess_exec(
                *self._command(),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
            )
        async with asyncio.timeout(START_TIMEOUT):
            while True:
                if self.process.returncode is not None:
                    raise AssertionError(f"nginx exited at start:\n{self.log()}")
                try:
                    _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                except OSError:
                    await asyncio.sleep(0.05)  # polling the port: nginx gives no other sign
                    continue
                writer.close()
                return

    async def stop(self) -> int:
        """Stop nginx gracefully (SIGQUIT), or kill it; returns its exit code."""
        if self.process is None or self.process.returncode is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGQUIT)
        try:
            return await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            return await self.process.wait()

    def log(self) -> str:
        """What nginx wrote to its error log and its output."""
        parts = [
            path.read_text(errors="replace")
            for path in (self.folder / "error.log", self.output)
            if path.exists()
        ]
        return "\n".join(parts)

    def accesses(self) -> list[Access]:
        """Every webhook call the balancer answered so far."""
        if not self.access_log.exists():
            return []
        found = []
        for line in self.access_log.read_text().splitlines():
            match = _ACCESS.match(line)
            if match is None:
                continue
            found.append(
                Access(
                    status=int(match["status"]),
                    upstreams=re.split(r"[, ]+", match["upstream"]),
                    upstream_statuses=re.split(r"[, ]+", match["upstream_status"]),
                )
            )
        return found


class Cluster:
    """Several workers, as the victims see them: up while any of them is."""

    def __init__(self, workers: list[BotProcess]) -> None:
        """The WORKERS behind one address (nginx passes calls to whichever serves)."""
        self.workers = workers

    @property
    def up(self) -> bool:
        """Whether some worker serves."""
        return any(worker.up for worker in self.workers)
