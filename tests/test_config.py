"""Config shapes, destination selection, normalization and overrides (docs/behaviour.md,
"Configuration")."""

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core.config import (
    Overrides,
    apply_overrides,
    load_config,
    mask_dsn,
    mask_dsn_value,
    normalize,
    select_destination,
)
from core.errors import ConfigError
from tests.conftest import SAMPLES, examples

CONFIGS = SAMPLES / "configs"


def _write(tmp_path: Path, document: Any) -> str:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document))
    return str(path)


def _dest(
    config: dict[str, Any], *, id_: str = "d1", name: str = "SENTRY", enabled: Any = True
) -> dict[str, Any]:
    return {
        "id": id_,
        "name": f"dest {id_}",
        "enabled": enabled,
        "config": config,
        "destinationDefinition": {
            "name": name,
            "displayName": "Sentry" if name == "SENTRY" else name,
        },
    }


def test_every_sample_shape_loads_the_same_config() -> None:
    bare = load_config(str(CONFIGS / "destination.json")).config
    source = load_config(str(CONFIGS / "sourceconfig.json")).config
    workspace = load_config(str(CONFIGS / "workspace.json"), "2M2I7gZ9L474wHE0mzMdIo84gIK").config
    for loaded in (source, workspace):
        assert loaded.dsn == bare.dsn
        assert (
            loaded.ignore_errors
            == bare.ignore_errors
            == (
                "ResizeObserver loop",
                "/^NetworkError when attempting/i",
            )
        )
        assert loaded.deny_urls == ("ads.tracker.example.net",)
        assert loaded.allow_urls == ()
        assert loaded.blacklisted_events == [{"eventName": "Heartbeat"}]
    assert source.destination_id == "2M2I7gZ9L474wHE0mzMdIo84gIK"


def test_multi_workspace_map(tmp_path: Path) -> None:
    document = {
        "ws-1": {"sources": [{"destinations": [_dest({"dsn": "https://k@h/1"}, id_="a")]}]},
        "ws-2": {
            "sources": [{"destinations": [_dest({"dsn": "https://k@h/2"}, id_="b", enabled=False)]}]
        },
    }
    assert load_config(_write(tmp_path, document)).config.dsn == "https://k@h/1"


def test_selection_errors() -> None:
    two = {"sources": [{"destinations": [_dest({}, id_="a"), _dest({}, id_="b")]}]}
    with pytest.raises(ConfigError, match=r"2 Sentry destinations .*--destination"):
        select_destination(two, None)
    assert select_destination(two, "b")[1] == "b"
    with pytest.raises(ConfigError, match="no enabled Sentry destination with id or name 'c'"):
        select_destination(two, "c")
    disabled = {"sources": [{"destinations": [_dest({}, enabled=False), _dest({}, name="AM")]}]}
    with pytest.raises(ConfigError, match=r"no enabled Sentry destination \(1 disabled\)"):
        select_destination(disabled, None)


def test_display_name_alone_selects() -> None:
    entry = {"config": {"dsn": "x"}, "destinationDefinition": {"displayName": "Sentry"}}
    assert select_destination({"source": {"destinations": [entry]}}, None)[0] == {"dsn": "x"}


def test_normalization() -> None:
    config = normalize(
        {
            "dsn": {"web": "https://k@h/1"},
            "environment": "",
            "ignoreErrors": [
                {"ignoreErrors": ""},
                {"ignoreErrors": None},
                {"ignoreErrors": " "},
                "plain",
                {"other": 1},
            ],
            "includePaths": {"web": [{"includePaths": "a\\.js"}]},
            "whitelistedEvents": ["Signup", {"eventName": ""}, {"name": "broken"}],
            "debugMode": {"web": True},
        }
    )
    assert config.dsn == "https://k@h/1"
    assert config.ignore_errors == (" ", "plain")  # " " survives ramda isEmpty
    assert config.include_paths == ("a\\.js",)
    assert config.allow_urls == ()  # missing list → []
    assert config.whitelisted_events == [
        {"eventName": "Signup"},
        {"eventName": ""},
        {"name": "broken"},
    ]
    assert config.debug_mode is True


def test_a_list_that_is_not_a_list_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="ignoreErrors must be a list"):
        normalize({"ignoreErrors": "Script error"})


def test_overrides_replace_and_append() -> None:
    config = normalize({"dsn": "https://a@h/1", "environment": "prod", "denyUrls": ["x"]})
    changed = apply_overrides(
        config,
        Overrides(dsn="https://b@h/2", environment="", deny_urls=("y",), ignore_errors=("z",)),
    )
    assert changed.dsn == "https://b@h/2"
    assert changed.environment == ""
    assert changed.deny_urls == ("x", "y")
    assert changed.ignore_errors == ("z",)


def test_config_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(str(bad))
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="must be a JSON object"):
        load_config(_write(tmp_path, [1, 2]))


@pytest.mark.parametrize(
    ("dsn", "masked"),
    [
        ("https://abc123@o1.ingest.sentry.io/42", "https://****@o1.ingest.sentry.io/42"),
        ("https://pub:secret@host/1", "https://****@host/1"),
        (
            "error for https://k@h/1 and http://k2@h/2",
            "error for https://****@h/1 and http://****@h/2",
        ),
        ("no dsn here", "no dsn here"),
    ],
)
def test_mask_dsn(dsn: str, masked: str) -> None:
    assert mask_dsn(dsn) == masked


@pytest.mark.parametrize(
    ("dsn", "masked"),
    [
        ("https://abc123@o1.ingest.sentry.io/42", "https://****@o1.ingest.sentry.io/42"),
        ("http:/abc123@h/1", "http:/****@h/1"),
        ("abc123@h/1", "****@h/1"),
        ("http://ab c1\n23@h/1", "http://****@h/1"),
        ("http://pub:sec@ret@h/1", "http://****@h/1"),
        ("https://h/1", "https://h/1"),
        ("pub:secret@h/1", "****@h/1"),
    ],
)
def test_mask_dsn_value(dsn: str, masked: str) -> None:
    assert mask_dsn_value(dsn) == masked


@given(
    st.sampled_from(["https://", "http:/", "", "sentry+https://"]),
    st.text(st.sampled_from("ab:\n .é"), min_size=1) | st.text(min_size=1),
)
def test_a_masked_dsn_never_shows_its_key(scheme: str, key: str) -> None:
    assume("@" not in key and "/" not in key)
    masked = mask_dsn_value(f"{scheme}{key}@o1.ingest.sentry.io/42")
    assert masked == f"{scheme}****@o1.ingest.sentry.io/42"


CONFIG_KEYS = st.sampled_from(
    [
        "dsn",
        "web",
        "ignoreErrors",
        "allowUrls",
        "denyUrls",
        "includePaths",
        "whitelistedEvents",
        "eventFilteringOption",
        "debugMode",
        "sources",
        "source",
        "destinations",
        "config",
        "destinationDefinition",
        "name",
        "displayName",
        "enabled",
        "id",
        "SENTRY",
        "Sentry",
    ]
)
CONFIG_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 2) | st.sampled_from(["", "SENTRY", "Sentry", "x"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(CONFIG_KEYS, children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=examples(1000))
@given(CONFIG_JSON)
def test_any_json_loads_or_fails_with_a_config_error(document: Any) -> None:
    message = ""
    try:
        raw, _, _ = select_destination(document, None)
        config = normalize(raw)
    except ConfigError as exc:
        message = str(exc)
    if message:
        assert "\n" not in message  # one line, for the one-line error of the CLI
        return
    assert isinstance(config.ignore_errors, tuple)
    assert all(isinstance(entry, str) for entry in config.include_paths)
