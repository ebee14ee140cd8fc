"""The composition root of `replay`: options in, a Report out.

It checks everything that can be checked before a byte is read (paths, config, DSN, state),
then wires the engine, the ledger, a sender (HTTP, or the dry-run's recording one) and the
outputs into the per-record loop of core/pipeline.py.
"""

import contextlib
import re
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
from core.delivery.options import DeliveryOptions
from core.delivery.recording import RecordingSender
from core.delivery.seam import Sender
from core.errors import ConfigError, UsageError
from core.input.cloud import is_cloud
from core.input.layouts import Window
from core.input.paths import STDIN, Expansion, expand_paths
from core.pipeline import Pipeline, ReplayIO
from core.report import Report
from core.rules.budget import DEFAULT_BUDGET, WorkBudget
from core.rules.engine import Engine, EngineOptions
from core.shard import Shard
from core.sinks import clobber_problem, state_problem
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
    shard: Shard = field(default_factory=Shard)  # --shard K/N (and a job's part of it)


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
    expansion: Expansion | None = None,
) -> Report:
    """Run one replay and return its report. Raises RudderSentryError before reading anything
    when the paths, the config or the DSN are unusable. `expansion`: the input listed already
    (a job of --jobs reads what its parent listed)."""
    started = clock.monotonic()
    expansion, config, dry_run, _ = _prepare(options, io, 1, expansion)
    paths = expansion.files
    report = Report(dry_run=dry_run, shard="" if options.shard.whole else str(options.shard))
    report.retention_days = options.engine.retention_days
    if config.debug_mode and not options.dry_run:
        report.notes.append("debugMode is on in the config: dry-run, nothing is sent")
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
    if expansion.pruned and options.window is not None:
        report.notes.append(window_note(expansion.pruned, options.window))
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
            shard=options.shard,
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


def window_note(pruned: int, window: Window) -> str:
    """What --since/--until left unopened, and what its slack cannot know."""
    hours = window.slack.total_seconds() / 3600
    return (
        f"{pruned:,} archive files left unopened: their arrivals are outside --since/--until "
        f"widened by --window-slack ({hours:g}h); an event that reached the archive more than "
        "that after its own time would be in them"
    )


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


def check_jobs(
    options: ReplayOptions, io: ReplayIO, jobs: int
) -> tuple[Expansion, list[Path | None]]:
    """What run_replay checks before reading, for a run split into `jobs` (--jobs): the input,
    listed once for all of them, and each job's state file (None: no state)."""
    expansion, _, _, states = _prepare(options, io, jobs)
    return expansion, states


def _prepare(
    options: ReplayOptions, io: ReplayIO, jobs: int, expansion: Expansion | None = None
) -> tuple[Expansion, DestinationConfig, bool, list[Path | None]]:
    """Everything checked before a byte is read (paths, config, outputs, state files, DSN):
    the input files (listed now unless given), the config, whether it is a dry-run, and each of
    the `jobs` state files."""
    if expansion is None:
        expansion = expand_paths(list(options.paths), options.window, io.stop.is_set)
    config = load_effective_config(options)
    dry_run = options.dry_run or config.debug_mode
    base = state_path_of(options, dry_run)
    if jobs == 1:
        states = [_state_path(options, dry_run)]
    else:
        shards = [options.shard.job(number, jobs) for number in range(jobs)]
        states = [shard_state_path(base, s) if base is not None else None for s in shards]
    _check_outputs(expansion.files, options, io, states)
    # a state file the user named for one shard is that shard's alone; otherwise the family
    # beside it must be split the same way
    if base is not None and (jobs > 1 or options.state_path is None or options.shard.whole):
        problem = state_family_problem(base, options.shard.job(0, jobs))
        if problem is not None:
            raise UsageError(problem)
    if not dry_run:
        check_dsn(config.dsn)
    return expansion, config, dry_run, states


def state_path_of(options: ReplayOptions, dry_run: bool) -> Path | None:
    """The state file named by the options (--state, or the default for real sends)."""
    if not options.use_state:
        return None
    if options.state_path is not None:
        return Path(options.state_path)
    return None if dry_run else DEFAULT_STATE_PATH


def shard_state_path(base: Path, shard: Shard) -> Path:
    """A shard's own state file beside `base` (the whole replay's is `base` itself)."""
    if shard.whole:
        return base
    return base.with_name(f"{base.name}.shard-{shard.index}-of-{shard.count}")


def state_family_problem(base: Path, shard: Shard) -> str | None:
    """Why state files beside `base` belong to a replay split another way (resuming with them
    missing would send their events again), or None."""
    pattern = re.compile(re.escape(base.name) + r"\.shard-\d+-of-(\d+)\Z")
    counts: set[int] = set()
    with contextlib.suppress(OSError):
        for sibling in base.parent.iterdir():
            found = pattern.match(sibling.name)
            if found is not None:
                counts.add(int(found.group(1)))
    if shard.whole:
        counts.discard(1)
        split = f"split {min(counts)} ways" if counts else ""
        done = ""
    else:
        counts.discard(shard.count)
        split = f"split {min(counts)} ways" if counts else ("not split" if base.exists() else "")
        done = f" (this one is split {shard.count} ways)"
    if not split:
        return None
    return (
        f"the state beside {base} is of a replay {split}{done}: finish it split the same way "
        "(--jobs, --shard), or give another --state"
    )


def _state_path(options: ReplayOptions, dry_run: bool) -> Path | None:
    """The state file this run reads (and, unless a dry-run, writes): a shard's own, beside
    the default one, unless --state names it."""
    base = state_path_of(options, dry_run)
    if base is None or options.state_path is not None:
        return base
    return shard_state_path(base, options.shard)


def _ledger(options: ReplayOptions, dry_run: bool, clock: Clock) -> Ledger:
    path = _state_path(options, dry_run)
    return Ledger(path, writable=path is not None and not dry_run, clock=clock)


def _check_outputs(
    paths: list[str], options: ReplayOptions, io: ReplayIO, states: list[Path | None]
) -> None:
    """No output may be a file the run reads (an input, standard input, the config, the CA
    bundle) or another output, and a state file must be a regular file: refused before
    anything is read or written."""
    reads: list[tuple[str, Path | int]] = [
        (f"the input {path}", Path(path)) for path in paths if path != STDIN and not is_cloud(path)
    ]
    if STDIN in paths and io.stdin is not None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            reads.append(("standard input (-)", io.stdin.fileno()))
    if options.config_path is not None:
        reads.append((f"the config {options.config_path}", Path(options.config_path)))
    if options.delivery.ca_bundle:
        reads.append(
            (f"the CA bundle {options.delivery.ca_bundle}", Path(options.delivery.ca_bundle))
        )
    outputs = [(sink.name, sink.path) for sink in io.sinks() if sink.path is not None]
    outputs.extend((f"the state file {state}", state) for state in states if state is not None)
    problem = clobber_problem(reads, outputs)
    for state in states:
        problem = problem or (state_problem(state) if state is not None else None)
    if problem is not None:
        raise UsageError(problem)
