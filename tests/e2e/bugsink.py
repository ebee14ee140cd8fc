"""Run a real Bugsink (a Sentry-compatible server) on 127.0.0.1 with SQLite, from its own venv.

Steps, as Bugsink's own docs give them for a local install: create a `local` config, turn
phone-home off, raise (or set) the quotas, keep every path inside the data dir, migrate, create
a user, team and project, make an API token, start gunicorn, wait for /health/ready; stop by PID.
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BOOTSTRAP = """
from django.contrib.auth import get_user_model
from teams.models import Team, TeamMembership, TeamRole
from projects.models import Project, ProjectMembership, ProjectRole
u = get_user_model().objects.create_superuser(
    username="admin", email="admin@example.invalid", password="admin"
)
t = Team.objects.create(name="e2e")
TeamMembership.objects.create(team=t, user=u, role=TeamRole.ADMIN, accepted=True)
p = Project.objects.create(team=t, name="replay", retention_max_event_count=1_000_000)
ProjectMembership.objects.create(project=p, user=u, role=ProjectRole.ADMIN, accepted=True)
print("DSN=" + p.dsn)
print("PROJECT=" + str(p.id))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Bugsink:
    """One Bugsink instance in `data_dir`; `max_events` sets every quota (None: effectively off)."""

    def __init__(self, venv: Path, data_dir: Path, *, max_events: int | None = None) -> None:
        self.venv = venv
        self.data_dir = data_dir
        self.max_events = max_events if max_events is not None else 1_000_000_000
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dsn = ""
        self.project = ""
        self.token = ""
        self.process: subprocess.Popen[bytes] | None = None
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bugsink_conf",
            "PYTHONPATH": str(data_dir),
        }
        self.env.pop("SENTRY_DSN", None)

    def _run(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [str(self.venv / "bin" / args[0]), *args[1:]],
            cwd=self.data_dir,
            env=self.env,
            input=stdin.encode() if stdin else None,
            capture_output=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} {args[1:]} failed: {result.stderr.decode()[-2000:]}")
        return result.stdout.decode()

    def start(self) -> "Bugsink":
        """Configure, migrate, bootstrap and start; returns once /health/ready answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._run(
            "bugsink-create-conf", "--template=local", "--host=127.0.0.1", f"--port={self.port}"
        )
        quota = self.max_events
        overrides = {
            "PHONEHOME": False,
            "INGEST_STORE_BASE_DIR": str(self.data_dir / "ingestion"),
            **{
                f"MAX_EVENTS_PER_{scope}{window}": quota
                for scope in ("PROJECT_PER_", "")
                for window in ("5_MINUTES", "HOUR", "MONTH")
            },
        }
        with (self.data_dir / "bugsink_conf.py").open("a", encoding="utf-8") as conf:
            conf.write(f"\nBUGSINK.update({overrides!r})\n")
            conf.write(
                f"SNAPPEA = {{**SNAPPEA, 'WAKEUP_CALLS_DIR': {str(self.data_dir / 'wakeup')!r}}}\n"
            )
        self._run("bugsink-manage", "migrate", "-v", "0")
        self._run("bugsink-manage", "migrate", "snappea", "--database=snappea", "-v", "0")
        out = self._run("bugsink-manage", "shell", "--no-imports", "-v", "0", "-c", BOOTSTRAP)
        values = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
        self.dsn, self.project = values["DSN"], values["PROJECT"]
        self.token = self._run("bugsink-manage", "create_auth_token").strip().split()[-1]
        self.process = subprocess.Popen(
            [
                str(self.venv / "bin" / "gunicorn"),
                "bugsink.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--threads",
                "4",
                "--no-control-socket",
            ],
            cwd=self.data_dir,
            env=self.env,
            stdout=(self.data_dir / "gunicorn.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.data_dir / "gunicorn.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"gunicorn exited: {log}")
            try:
                with urllib.request.urlopen(f"{self.url}/health/ready", timeout=2):
                    return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        raise RuntimeError("Bugsink did not become ready in 60 s")

    def stop(self) -> None:
        """TERM the gunicorn master (its worker exits with it); KILL after 10 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def api(self, path: str) -> Any:
        """GET the REST API (`/api/canonical/0/...`) with the token."""
        request = urllib.request.Request(
            f"{self.url}/api/canonical/0/{path}",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def event(self, event_id: str) -> dict[str, Any] | None:
        """The stored event (its `data`), looked up by the SDK event id; None when absent."""
        try:
            found = self.api(f"events/lookup/?project={self.project}&event_id={event_id}")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise
        data = found.get("data")
        return data if isinstance(data, dict) else None

    def stored_count(self) -> int:
        """Events stored in the project."""
        return int(self.api(f"projects/{self.project}/")["stored_event_count"])
