"""Dumps in object storage, through the real entry point against a real S3-compatible server
(SeaweedFS on loopback): the same records as from a local copy, in time order, a window that
opens only the objects that can hold its events, and one-line errors."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, error_event
from tests.seaweedfs import SeaweedFS

T0 = datetime(2024, 5, 1, tzinfo=UTC)
BUCKET = "dumps"


def stamp(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def archiver_key(day: int, hour: int, instance: str) -> str:
    first = int((T0 + timedelta(days=day, hours=hour)).timestamp())
    date = (T0 + timedelta(days=day)).strftime("%Y-%m-%d")
    return f"archive/src1/gw/{date}/{hour}/{instance}/{first}_{first + 3599}_ws1_{instance}.json.gz"


def tree() -> dict[str, bytes]:
    """An archiver tree (hours not zero-padded, two instances, two days) and a rudder-logs one.
    A visitor identifies in hour 2 and errors in hour 10: only time order gives the error its
    user under --scope visitor (text order reads …/10/ first)."""
    import gzip

    files: dict[str, list[dict[str, Any]]] = {}
    for day in (0, 1):
        for hour in (2, 10):
            for offset, instance in enumerate(("gw-0", "gw-1")):
                at = day * 24 + hour
                base = offset * 100_000 + at * 10  # distinct messageIds per instance
                events = [
                    error_event(base + n, originalTimestamp=stamp(at + n / 10)) for n in range(3)
                ]
                if hour == 2:
                    identify = {
                        "type": "identify",
                        "anonymousId": f"v{day}",
                        "userId": f"user-{day}",
                        "messageId": f"id-{day}-{instance}",
                        "originalTimestamp": stamp(at),
                        "context": {"traits": {"email": f"u{day}@example.org"}},
                    }
                    events.insert(0, identify)
                else:
                    late = stamp(at + 0.9)
                    events.append(
                        error_event(base + 9, anonymousId=f"v{day}", originalTimestamp=late)
                    )
                files[archiver_key(day, hour, instance)] = [
                    {
                        "userId": "",
                        "payload": {"batch": [event]},
                        "createdAt": event["originalTimestamp"],
                    }
                    for event in events
                ]
    uploaded = int((T0 + timedelta(hours=3)).timestamp())
    files[f"logs/rudder-logs/src1/2024-05-01/{uploaded}.src1.abc.json.gz"] = [
        error_event(900 + n, originalTimestamp=stamp(2.5)) for n in range(2)
    ]
    return {
        key: gzip.compress(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
        for key, lines in files.items()
    }


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SeaweedFS, Path]]:
    import obstore
    from obstore.store import S3Store

    root = tmp_path_factory.mktemp("seaweedfs")
    with SeaweedFS(root) as server:
        server.create_bucket(BUCKET)
        env = server.environment()
        store = S3Store(
            BUCKET,
            endpoint=server.endpoint,
            access_key_id=env["AWS_ACCESS_KEY_ID"],
            secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region=env["AWS_REGION"],
            allow_http=True,
        )
        local = root / "local"
        for key, data in tree().items():
            obstore.put(store, key, data)
            (local / key).parent.mkdir(parents=True, exist_ok=True)
            (local / key).write_bytes(data)
        yield server, local


def run(server: SeaweedFS, *args: str) -> tuple[int, dict[str, Any], str, str]:
    env = {**os.environ, "SENTRY_DSN": "", **server.environment()}
    command = [sys.executable, "-m", "cli", "replay", *args, "--no-progress", "--report", "json"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    report = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.returncode, report, result.stdout, result.stderr


def test_a_bucket_prefix_replays_like_its_local_copy(
    s3: tuple[SeaweedFS, Path], tmp_path: Path
) -> None:
    server, local = s3
    remote_out, local_out = tmp_path / "remote.jsonl", tmp_path / "local.jsonl"
    # --scope visitor: the user identified in hour 2 rides on the errors of hour 10
    code, report, _, err = run(
        server, f"s3://{BUCKET}/archive/", "--dry-run", "--scope", "visitor", "-o", str(remote_out)
    )
    assert code == 0, err
    local_code, local_report, _, _ = run(
        server, str(local / "archive"), "--dry-run", "--scope", "visitor", "-o", str(local_out)
    )
    assert local_code == 0
    assert report["outcomes"] == local_report["outcomes"]
    assert report["files"] == local_report["files"] == 8
    remote = [json.loads(line) for line in remote_out.read_text().splitlines()]
    mirrored = [json.loads(line) for line in local_out.read_text().splitlines()]
    for event in (*remote, *mirrored):
        event["extra"]["rudderstack"].pop("source")  # s3://… against the local path
    assert remote == mirrored  # record for record: same ids, same payloads
    late_errors = [e for e in remote if e["extra"]["rudderstack"]["messageId"].endswith("9")]
    assert late_errors
    assert all(e["user"]["id"].startswith("user-") for e in late_errors)  # hour 2 before 10


def test_a_window_opens_only_the_objects_that_can_hold_its_events(
    s3: tuple[SeaweedFS, Path],
) -> None:
    server, _ = s3
    since, until = stamp(10), stamp(11)  # day 0, hour 10
    window = ("--since", since, "--until", until)
    code, report, _, err = run(
        server, f"s3://{BUCKET}/", "--dry-run", *window, "--window-slack", "15m"
    )
    assert code == 0, err
    assert report["files"] == 2  # the two instances of day 0, hour 10
    assert report["files_outside_window"] == 7  # other hours, the other day, the logs file
    assert report["outcomes"] == {"would_send": 8}
    code, report, _, err = run(server, f"s3://{BUCKET}/", "--dry-run", *window)
    assert code == 0, err
    assert report["files"] == 6  # and a day's slack: day 1's arrivals up to hour 11 too
    assert report["outcomes"] == {"would_send": 8, "outside_window": 16}


def test_a_missing_bucket_is_one_line_before_anything_is_read(s3: tuple[SeaweedFS, Path]) -> None:
    server, _ = s3
    code, _, _, err = run(server, "s3://no-such-bucket/archive/", "--dry-run")
    assert code == 2
    assert err.startswith("rudder-sentry: error: s3://no-such-bucket/archive/: cannot list:")
    assert len(err.strip().splitlines()) == 1
    assert "replay-secret" not in err


def test_an_aws_profile_supplies_the_credentials(tmp_path: Path) -> None:
    """With auth on, only the right keys list the bucket; they come from the named profile."""
    keys = ("AKIDREPLAY", "right-secret")
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[good]\naws_access_key_id = {keys[0]}\naws_secret_access_key = {keys[1]}\n"
        f"[bad]\naws_access_key_id = {keys[0]}\naws_secret_access_key = wrong-secret\n"
    )
    with SeaweedFS(tmp_path / "auth", keys) as server:
        server.create_bucket(BUCKET)
        base = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            "SENTRY_DSN": "",
            "AWS_ENDPOINT_URL": server.endpoint,
            "AWS_ALLOW_HTTP": "true",
            "AWS_REGION": "us-east-1",
            "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
            "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
            "AWS_EC2_METADATA_DISABLED": "true",  # never ask an instance-metadata address
        }
        command = [sys.executable, "-m", "cli", "replay", f"s3://{BUCKET}/", "--dry-run"]
        command += ["--no-progress", "--report", "json"]
        good, bad = (
            subprocess.run(
                command,
                capture_output=True,
                text=True,
                cwd=ROOT,
                timeout=120,
                env={**base, "AWS_PROFILE": profile},
            )
            for profile in ("good", "bad")
        )
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["records"] == 0  # an empty bucket, listed
    assert bad.returncode == 2
    assert bad.stderr.startswith(f"rudder-sentry: error: s3://{BUCKET}/: cannot list:")
    assert "wrong-secret" not in bad.stderr
