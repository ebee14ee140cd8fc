"""Secrets in any shape: whatever JSON type a field that can carry a DSN key, a proxy password
or a bucket credential is given, no command echoes the secret: not `validate` (text or JSON),
not `replay` (warnings, errors, either report), not `diff`."""

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.app import app
from tests.conftest import ROOT

PUBLIC, SECRET = "PUBKEY0f6d2b1e", "SECRETKEY9a4c"
DSN = f"https://{PUBLIC}:{SECRET}@o450001.ingest.sentry.io/4504000000000001"
SHAPES: dict[str, Any] = {
    "a DSN": DSN,
    "no scheme": f"{PUBLIC}:{SECRET}@o450001.ingest.sentry.io/1",
    "one slash": f"https:/{PUBLIC}:{SECRET}@o450001.ingest.sentry.io/1",
    "a space in the key": f"https://{PUBLIC} {SECRET}@o450001.ingest.sentry.io/1",
    "a newline in the key": f"https://{PUBLIC}\n{SECRET}@o450001.ingest.sentry.io/1",
    "over 300 characters": f"https://{PUBLIC}{'x' * 300}{SECRET}@o450001.ingest.sentry.io/1",
    "a template's fallback": "{{ message.context.dsn || '" + DSN + "' }}",
    "an array": [DSN],
    "an object": {"url": DSN},
    "an object's key": {DSN: 1},
    "nested": [{"a": [DSN, {"b": DSN}]}],
    "web-wrapped": {"web": DSN},
    "web-wrapped array": {"web": [DSN]},
    "a number": 4504000000000001,
    "a boolean": True,
    "null": None,
}
SAMPLE = ROOT / "samples" / "configs" / "destination.json"
WORKSPACE = ROOT / "samples" / "configs" / "workspace.json"
DUMPS = str(ROOT / "samples" / "dumps")
runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Exit code, and stdout and stderr together."""
    result = runner.invoke(app, list(args), env={"SENTRY_DSN": "", **(env or {})})
    return result.exit_code, result.stdout + result.stderr


def assert_masked(code: int, text: str) -> None:
    assert code in (0, 1, 2, 3, 4), text  # never 70: no shape is a crash
    assert SECRET not in text
    assert PUBLIC not in text


def with_dsn(template: Path, value: Any, path: Path) -> Path:
    """The config file at `template` with every destination's dsn set to `value`."""
    document = json.loads(template.read_text(encoding="utf-8"))
    if "sources" in document:
        for source in document["sources"]:
            for destination in source["destinations"]:
                destination["config"]["dsn"] = value
    else:
        document["dsn"] = value
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("template", [SAMPLE, WORKSPACE], ids=["destination", "workspace"])
def test_a_config_dsn_of_any_shape_is_never_echoed(
    shape: str, template: Path, tmp_path: Path
) -> None:
    config = with_dsn(template, SHAPES[shape], tmp_path / "config.json")
    chosen = ["--destination", "Sentry"] if template == WORKSPACE else []
    assert_masked(*invoke("validate", str(config)))
    assert_masked(*invoke("validate", str(config), "--report", "json"))
    for report in ("text", "json"):
        assert_masked(
            *invoke("replay", DUMPS, "-c", str(config), *chosen, "--dry-run", "--report", report)
        )
    assert_masked(*invoke("diff", str(config), str(SAMPLE), DUMPS, *chosen, "--report", "json"))
    assert_masked(*invoke("diff", str(SAMPLE), str(config), DUMPS, *chosen))


def as_text(value: Any) -> str:
    """A shape as a command-line value: a string as it is, anything else as its JSON."""
    return value if isinstance(value, str) else json.dumps(value)


@pytest.mark.parametrize("shape", SHAPES)
def test_a_dsn_option_or_variable_of_any_shape_is_never_echoed(shape: str) -> None:
    value = as_text(SHAPES[shape])
    base = ("replay", DUMPS, "-c", str(SAMPLE), "--dry-run", "--report", "json")
    assert_masked(*invoke(*base, "--dsn", value))
    assert_masked(*invoke(*base, env={"SENTRY_DSN": value}))
    assert_masked(*invoke(*base[:-2], env={"SENTRY_DSN": value}))


@pytest.mark.parametrize("shape", SHAPES)
def test_a_proxy_of_any_shape_is_never_echoed(shape: str) -> None:
    value = as_text(SHAPES[shape]).replace("https://", "http://", 1)
    code, text = invoke(
        "replay", DUMPS, "-c", str(SAMPLE), "--dsn", f"http://{PUBLIC}@127.0.0.1:9/1",
        "--proxy", value, "--no-state", "--give-up-after", "1", "--report", "json",
    )  # fmt: skip
    assert_masked(code, text)


@pytest.mark.parametrize(
    "url",
    [
        f"s3://{PUBLIC}:{SECRET}@bucket/archive/",
        f"s3://{PUBLIC}:{SECRET}@bucket:9000/?x=1#y",
        f"gs://{PUBLIC}:{SECRET}@bucket",
        f"az://{PUBLIC}:{SECRET}@container/path",
    ],
)
def test_a_bucket_url_with_credentials_is_never_echoed(url: str) -> None:
    code, text = invoke("replay", url, "-c", str(SAMPLE), "--dry-run")
    assert code == 2
    assert_masked(code, text)


def test_a_proxy_password_in_the_environment_is_never_echoed() -> None:
    proxy = f"http://{PUBLIC}:{SECRET}@127.0.0.1:9"
    code, text = invoke(
        "replay", DUMPS, "-c", str(SAMPLE), "--dsn", f"http://{PUBLIC}@127.0.0.1:9/1",
        "--no-state", "--give-up-after", "1",
        env={"http_proxy": proxy, "ALL_PROXY": proxy},
    )  # fmt: skip
    assert code == 4
    assert "cannot reach Sentry" in text
    assert_masked(code, text)
