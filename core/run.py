"""The composition root of `replay`: options in, a Report out.

It checks everything that can be checked before a byte is read (paths, config, DSN, state),
then wires the engine, the ledger, a sender (HTTP, or the dry-run's recording one) and the
outputs into the per-record loop of core/pipeline.py.
"""

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from core.clock import SYSTEM_CLOCK, Clock
from core.config import (
    DestinationConfig,
    LoadedConfig,
    Overrides,
    apply_overrides,
    dsn_problem,
    load_config,
    mask_dsn_value,
)
from core.delivery.jobs import Sender
from core.delivery.options import DeliveryOptions
from core.delivery.recording import RecordingSender
from core.errors import ConfigError, UsageError
from core.input.layouts import Window
from core.input.paths import STDIN, expand_paths
from core.pipeline import Pipeline, ReplayIO
from core.report import Report
from core.rules.budget import DEFAULT_BUDGET, WorkBudget
from core.rules.engine import Engine, EngineOptions
from core.sinks import clobber_problem
from core.state import DEFAULT_STATE_PATH, Ledger


@dataclass(frozen=True)
class ReplayOptions:
    """Everything `replay` was asked to do, as plain values."""

    paths: tuple[str, ...] = (STDIN,)
    config_path: str | None = None
    destination: str | None = None
    overrides: Overrides = field(default_factory=Overrides)
    dry_run: bool = False
    engine: EngineOptions = field(default_factory=EngineOptions)
    delivery: DeliveryOptions = field(default_factory=DeliveryOptions)
    state_path: str | None = None
    use_state: bool = True
    limit: int | None = None
    strict: bool = False
    regex_budget: float = DEFAULT_BUDGET  # seconds of regex work per error event
    window: Window | None = None  # --since / --until


SenderFactory = Callable[[str, DeliveryOptions, threading.Event, Clock], Sender]


def load_effective_config(options: ReplayOptions) -> DestinationConfig:
    """The selected destination's config with the command-line overrides applied."""
    loaded = (
        load_config(options.config_path, options.destination)
        if options.config_path
        else LoadedConfig({}, DestinationConfig())
    )
    return apply_overrides(loaded.config, options.overrides)


def run_replay(
    options: ReplayOptions,
    io: ReplayIO,
    *,
    now: datetime | None = None,
    clock: Clock = SYSTEM_CLOCK,
    sender_factory: SenderFactory | None = None,
) -> Report:
    """Run one replay and return its report. Raises RudderSentryError before reading anything
    when the paths, the config or the DSN are unusable."""
    started = clock.monotonic()
    expansion = expand_paths(list(options.paths), options.window)
    paths = expansion.files
    config = load_effective_config(options)
    dry_run = options.dry_run or config.debug_mode
    _check_outputs(paths, io, _state_path(options, dry_run))
    report = Report(dry_run=dry_run)
    if config.debug_mode and not options.dry_run:
        report.notes.append("debugMode is on in the config: dry-run, nothing is sent")
    if not dry_run:
        check_dsn(config.dsn)
    report.destination = {
        "id": config.destination_id,
        "name": config.destination_name,
        "dsn": mask_dsn_value(config.dsn),
    }
    budget = WorkBudget(options.regex_budget)
    engine = Engine(
        config, options.engine, now=now or clock.wall(), explain=bool(io.explain), budget=budget
    )
    report.warnings.extend([*expansion.warnings, *config.warnings, *engine.warnings])
    report.files_outside_window = expansion.pruned
    ledger = _ledger(options, dry_run, clock)  # opened and written before anything is sent
    try:  # the ledger is closed whatever happens: its last batch of accepted ids matters
        sender = _sender(config, options, io, dry_run, clock, sender_factory)
        pipeline = Pipeline(
            io,
            engine,
            ledger,
            sender,
            report,
            limit=options.limit,
            strict=options.strict,
            window=options.window,
        )
        try:
            pipeline.read_all(paths)
        finally:
            pipeline.finish()
    finally:
        ledger.close()
        budget.close()
        report.duration_s = clock.monotonic() - started
    if ledger.unrecorded:
        report.notes.append(
            f"{ledger.unrecorded:,} accepted event ids could not be written to the state file: "
            "a re-run sends them again (Sentry drops the copies by event id)"
        )
    return report


def _sender(
    config: DestinationConfig,
    options: ReplayOptions,
    io: ReplayIO,
    dry_run: bool,
    clock: Clock,
    factory: SenderFactory | None,
) -> Sender:
    if dry_run:
        return RecordingSender(clock=clock)
    if factory is None:
        from core.delivery.sender import http_sender  # sockets and sentry-sdk: real sends only

        factory = http_sender
    return factory(config.dsn, options.delivery, io.stop, clock)


def check_dsn(dsn: str) -> None:
    """A real send needs a DSN that sentry-sdk can parse."""
    if not dsn:
        raise ConfigError("no DSN: set dsn in the config, --dsn or SENTRY_DSN (or use --dry-run)")
    problem = dsn_problem(dsn)
    if problem is not None:
        raise ConfigError(problem)


def _state_path(options: ReplayOptions, dry_run: bool) -> Path | None:
    """The state file this run reads (and, unless a dry-run, writes)."""
    if not options.use_state:
        return None
    if options.state_path is not None:
        return Path(options.state_path)
    return None if dry_run else DEFAULT_STATE_PATH


def _ledger(options: ReplayOptions, dry_run: bool, clock: Clock) -> Ledger:
    path = _state_path(options, dry_run)
    return Ledger(path, writable=path is not None and not dry_run, clock=clock)


def _check_outputs(paths: list[str], io: ReplayIO, state: Path | None) -> None:
    """No output may be an input or another output (SPEC §8): refused before reading."""
    outputs = [(sink.name, sink.path) for sink in io.sinks() if sink.path is not None]
    if state is not None:
        outputs.append((f"the state file {state}", state))
    problem = clobber_problem(paths, outputs)
    if problem is not None:
        raise UsageError(problem)
