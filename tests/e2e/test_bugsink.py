"""End to end against a real Sentry-compatible server (Bugsink), read back over its REST API."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, SAMPLES
from tests.e2e.bugsink import Bugsink
from tests.e2e.conftest import bugsink_venv

pytestmark = pytest.mark.e2e


def cli(*args: str, dsn: str) -> tuple[int, dict[str, Any], str]:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "replay", *args, "--report", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
        env={**os.environ, "SENTRY_DSN": dsn},
    )
    return result.returncode, json.loads(result.stdout), result.stderr


def test_samples_are_stored_with_users_frames_and_context(bugsink: Bugsink, tmp_path: Path) -> None:
    dumps, config = str(SAMPLES / "dumps"), str(SAMPLES / "configs" / "destination.json")
    state = str(tmp_path / "state.sqlite")
    dry_code, dry, _ = cli(
        dumps, "-c", config, "--dry-run", "--output", str(tmp_path / "dry.jsonl"), dsn=""
    )
    code, report, err = cli(
        dumps,
        "-c",
        config,
        "--state",
        state,
        "--output",
        str(tmp_path / "sent.jsonl"),
        dsn=bugsink.dsn,
    )
    assert code == 0 == dry_code, err
    assert report["outcomes"]["sent"] == dry["outcomes"]["would_send"] == 7
    assert bugsink.dsn.split("@")[0].split("//")[1] not in err
    sent = [json.loads(line) for line in (tmp_path / "sent.jsonl").read_text().splitlines()]
    dry_events = [json.loads(line) for line in (tmp_path / "dry.jsonl").read_text().splitlines()]
    assert sorted(e["event_id"] for e in sent) == sorted(e["event_id"] for e in dry_events)

    stored = {e["event_id"]: bugsink.event(e["event_id"]) for e in sent}
    assert all(stored.values()), "every accepted event is stored"
    by_message = {
        (s.get("message") or s["exception"]["values"][0]["value"]): s
        for s in stored.values()
        if s is not None
    }
    cart = by_message["Cannot read properties of undefined (reading 'price')"]
    assert cart["user"]["id"] == "u-1001"
    assert cart["user"]["email"] == "ada@example.org"
    assert cart["user"]["username"] == "Ada Lovelace"
    assert cart["environment"] == "production"
    assert cart["release"] == "shop-web@5.2.0"
    assert cart["tags"]["logger"] == "rudderstack"
    assert cart["tags"]["component"] == "cart"
    assert cart["sdk"]["settings"]["infer_ip"] == "never"
    frames = cart["exception"]["values"][0]["stacktrace"]["frames"]
    assert [(f["function"], f["in_app"]) for f in frames] == [
        ("?", False),
        ("HTMLButtonElement.onClick", True),
        ("renderCart", True),
        ("Array.reduce", False),
        ("computeTotal", True),
    ]
    crumbs = [c["category"] for c in cart["breadcrumbs"]["values"]]
    assert crumbs == ["navigation", "rudderstack.track", "navigation"]
    assert cart["request"]["url"] == "https://shop.example.com/cart"
    assert "server_name" not in cart or cart["server_name"] in ("", None)

    before = bugsink.stored_count()
    code, again, _ = cli(dumps, "-c", config, "--state", state, dsn=bugsink.dsn)
    assert code == 0
    assert again["outcomes"]["already_sent"] == 7
    assert "sent" not in again["outcomes"]
    assert bugsink.stored_count() == before


def test_a_real_quota_429_is_waited_on_and_nothing_is_counted_sent(tmp_path: Path) -> None:
    """Bugsink at a 5-event quota answers 429 + X-Sentry-Rate-Limits 60::key; the tool waits
    instead of dropping, and an interrupt accounts for every record (exit 4, resumable)."""
    server = Bugsink(bugsink_venv(), tmp_path / "bugsink", max_events=5).start()
    try:
        lines = [
            json.dumps(
                {
                    "type": "track",
                    "event": "Error",
                    "anonymousId": f"v{n}",
                    "messageId": f"q{n}",
                    "originalTimestamp": "2024-05-01T10:00:00Z",
                    "properties": {"message": f"quota {n}"},
                }
            )
            for n in range(8)
        ]
        dump = tmp_path / "dump.ndjson"
        dump.write_text("\n".join(lines) + "\n")
        failures = tmp_path / "failures.jsonl"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli",
                "replay",
                str(dump),
                "--workers",
                "1",
                "--report",
                "json",
                "--state",
                str(tmp_path / "state.sqlite"),
                "--failures",
                str(failures),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "SENTRY_DSN": server.dsn},
        )
        deadline = time.monotonic() + 60
        while server.stored_count() < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # the sixth event meets the 429 and the sender waits
        assert process.poll() is None, "the tool must wait on a 429, not give up"
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        report = json.loads(out)
        assert process.returncode == 4, err
        assert report["outcomes"]["sent"] == 5 == server.stored_count()
        assert report["failed"] == {"interrupted": 3}
        assert sum(report["outcomes"].values()) == report["records"] == 8
        assert len(failures.read_text().splitlines()) == 3
    finally:
        server.stop()


def test_consent_dedupe_normalize_and_sentry_event_breadcrumbs_in_bugsink(
    bugsink: Bugsink, tmp_path: Path
) -> None:
    def event(kind: str, anon: str, n: int, **fields: Any) -> dict[str, Any]:
        return {
            "type": kind,
            "anonymousId": anon,
            "messageId": f"consent-{anon}-{n}",
            "originalTimestamp": f"2024-05-01T10:00:{n:02d}.000Z",
            **fields,
        }

    def context(allowed: list[str], denied: list[str]) -> dict[str, Any]:
        manager = {"provider": "oneTrust", "allowedConsentIds": allowed, "deniedConsentIds": denied}
        return {"consentManagement": manager, "autoTrack": {"page": {"pageViewId": f"pv-{denied}"}}}

    denied, granted = context(["C0001"], ["C0004"]), context(["C0001", "C0004"], [])
    deep = {"email": "b@example.org", "address": {"geo": {"point": {"lat": 59.9}}}}
    records = [
        event("identify", "a", 1, userId="u-denied", context={**denied, "traits": {"x": 1}}),
        event("track", "a", 2, event="Error", context=denied, properties={"message": "denied"}),
        event("identify", "b", 3, userId="u-deep", context={**granted, "traits": deep}),
        event("track", "b", 4, event="Error", context=granted, properties={"message": "first"}),
        event("track", "b", 5, event="Error", context=granted, properties={"message": "first"}),
        event("track", "b", 6, event="Error", context=granted, properties={"message": "second"}),
    ]
    dump = tmp_path / "consent.ndjson"
    dump.write_text("".join(json.dumps(r) + "\n" for r in records))
    config = tmp_path / "config.json"
    consents = [{"provider": "oneTrust", "consents": [{"consent": "C0004"}]}]
    config.write_text(json.dumps({"consentManagement": {"web": consents}}))
    before = bugsink.stored_count()
    code, report, err = cli(
        str(dump),
        "-c",
        str(config),
        "--no-state",
        "--output",
        str(tmp_path / "sent.jsonl"),
        dsn=bugsink.dsn,
    )
    assert code == 0, err
    assert report["outcomes"] == {"consent_denied": 2, "sent": 3, "deduplicated": 1}
    sent = [json.loads(line) for line in (tmp_path / "sent.jsonl").read_text().splitlines()]
    assert bugsink.stored_count() == before + 3  # nothing of the visitor who denied consent
    stored = {e["message"]: bugsink.event(e["event_id"]) for e in sent}
    assert all(s is not None and s["user"]["id"] == "u-deep" for s in stored.values())
    first, second = stored["first"], stored["second"]
    assert first is not None
    assert second is not None
    assert second["user"]["address"] == {"geo": {"point": "[Object]"}}
    crumbs = second["breadcrumbs"]["values"]
    assert [(c["category"], c.get("event_id"), c.get("message")) for c in crumbs] == [
        ("sentry.event", first["event_id"], "first")
    ]


def test_session_updates_are_accepted(bugsink: Bugsink, tmp_path: Path) -> None:
    """Release-health session items go to Bugsink like events; it accepts them (it does not
    show them), so none fails, and the errors stored are the page loads' crashes."""
    from tests.test_delivery import page_loads

    dump = tmp_path / "pages.ndjson"
    dump.write_text("".join(json.dumps(e) + "\n" for e in page_loads(3)))
    before = bugsink.stored_count()
    code, report, err = cli(str(dump), "--release", "shop@2", "--no-state", dsn=bugsink.dsn)
    assert code == 0, err
    assert report["sessions"] == 12
    assert report["sessions_failed"] == {}
    assert report["outcomes"] == {"breadcrumb": 9, "sent": 3}
    assert bugsink.stored_count() == before + 3
