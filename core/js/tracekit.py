"""JavaScript `Error.stack` parsing as @sentry/browser 6.13.1 does it (TraceKit;
docs/behaviour.md, "Error tracks → Sentry error events").

`compute_stack_trace` mirrors tracekit.ts `computeStackTrace` (newest frame first), including its
quirks: the Firefox `columnNumber` hack that throws, bogus gecko frames from header lines with a
URL, the Minified-React pop. `prepare_frames` mirrors parsers.ts `prepareFramesForEvent`: strip
capture*/sentryWrapped frames, keep the 50 newest, map to Sentry frames, reverse (oldest first).
The regexes are the 6.13.1 sources, rewritten to Python with JavaScript's `.`/`\\s`/`$` meanings.
"""

import math
import re
from dataclasses import dataclass, field
from typing import Any

from core.js.regex import js_to_python
from core.js.value import is_truthy, js_string

UNKNOWN_FUNCTION = "?"
STACKTRACE_LIMIT = 50


def _js(source: str) -> re.Pattern[str]:
    # /i without /u: ASCII-only case folding, ASCII \d and \w, as in a browser
    return re.compile(js_to_python(source), re.IGNORECASE | re.ASCII)


def _js_ascii(source: str) -> re.Pattern[str]:
    r"""The same regex for lines that are ASCII without \r: there Python's `.`, `$` and ASCII
    `\s` mean exactly what JavaScript's do (no line holds a \n), and the plain form is faster."""
    return re.compile(source, re.IGNORECASE | re.ASCII)


CHROME_SOURCE = (
    r"^\s*at (?:(.*?) ?\()?((?:file|https?|blob|chrome-extension|address|native|eval|webpack"
    r"|<anonymous>|[-a-z]+:|.*bundle|\/).*?)(?::(\d+))?(?::(\d+))?\)?\s*$"
)
GECKO_SOURCE = (
    r"^\s*(.*?)(?:\((.*?)\))?(?:^|@)?((?:file|https?|blob|chrome|webpack|resource|moz-extension"
    r"|capacitor).*?:\/.*?|\[native code\]|[^@]*(?:bundle|\d+\.js)|\/[\w\-. /=]+)"
    r"(?::(\d+))?(?::(\d+))?\s*$"
)
WINJS_SOURCE = (
    r"^\s*at (?:((?:\[object object\])?.+) )?\(?((?:file|ms-appx|https?|webpack|blob):.*?)"
    r":(\d+)(?::(\d+))?\)?\s*$"
)
LINE_PARSERS = (_js(CHROME_SOURCE), _js(WINJS_SOURCE), _js(GECKO_SOURCE))
ASCII_LINE_PARSERS = (
    _js_ascii(CHROME_SOURCE),
    _js_ascii(WINJS_SOURCE),
    _js_ascii(GECKO_SOURCE),
)
# Group 3 of the gecko regex must match somewhere in the line, and each of its alternatives
# contains a literal: ":/" or "/", "[native code]", "bundle" or a digit then ".js" (all ASCII,
# case-insensitive). A line with none of them cannot match, so the regex (which backtracks for
# tens of microseconds over a header line such as "TypeError: ...") need not run.
_GECKO_DIGIT_JS = re.compile(r"[0-9]\.js", re.IGNORECASE)


def could_be_gecko(line: str) -> bool:
    """False only when the gecko regex certainly does not match `line`."""
    if "/" in line:
        return True
    lowered = line.lower()
    return (
        "[native code]" in lowered
        or "bundle" in lowered
        or _GECKO_DIGIT_JS.search(line) is not None
    )


GECKO_EVAL = _js(r"(\S+) line (\d+)(?: > eval line \d+)* > eval")
CHROME_EVAL = re.compile(js_to_python(r"\((\S*)(?::(\d+))(?::(\d+))\)"), re.ASCII)
REACT_MINIFIED = _js(r"Minified React error #\d+;")
OPERA10 = _js(r" line (\d+).*script (?:in )?(\S+)(?:: in function (\S+))?$")
OPERA11 = _js(
    r" line (\d+), column (\d+)\s*(?:in (?:<anonymous function: ([^>]+)>|([^\)]+))\((.*)\))?"
    r" in (.*):\s*$"
)


@dataclass(slots=True)
class TraceFrame:
    """A TraceKit frame: url, func, args, line, column (None = JS null)."""

    url: Any
    func: Any
    args: list[str] = field(default_factory=list)
    line: int | None = None
    column: int | None = None


@dataclass(slots=True)
class StackTrace:
    """computeStackTrace's result: frames newest first."""

    name: Any
    message: Any
    frames: list[TraceFrame]
    failed: bool = False


class _TraceKitError(Exception):
    """Something that throws inside TraceKit; the SDK catches it and reports no frames."""


def extract_message(ex: dict[str, Any]) -> Any:
    """ex.message, its `.error.message` when it is an event, or 'No error message'."""
    message = ex.get("message")
    if not is_truthy(message):
        return "No error message"
    if isinstance(message, dict):
        error = message.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return error["message"]
    return message


def _num(text: str | None) -> int | None:
    return int(text) if text else None


def _safari_extension(func: str, url: str) -> tuple[str, str]:
    """extractSafariExtensionDetails: Safari extension frames carry the scheme in the function."""
    for marker in ("safari-extension", "safari-web-extension"):
        if marker in func:
            name = func.split("@")[0] if "@" in func else UNKNOWN_FUNCTION
            return name, f"{marker}:{url}"
    return func, url


def _from_stack_prop(ex: dict[str, Any]) -> list[TraceFrame] | None:
    stack = ex.get("stack")
    if not is_truthy(stack):
        return None
    if not isinstance(stack, str):
        raise _TraceKitError("stack is not a string")
    frames: list[TraceFrame] = []
    for index, line in enumerate(stack.split("\n")):
        plain = line.isascii() and "\r" not in line
        chrome, winjs, gecko = ASCII_LINE_PARSERS if plain else LINE_PARSERS
        if parts := chrome.match(line):
            url = parts[2]
            is_native = url.startswith("native")
            line_no, column = parts[3], parts[4]
            if url.startswith("eval") and (sub := CHROME_EVAL.search(url)):
                url, line_no, column = sub[1], sub[2], sub[3]
            func, url_out = _safari_extension(
                parts[1] or UNKNOWN_FUNCTION, url.removeprefix("address at ")
            )
            element = TraceFrame(
                url=url_out,
                func=func,
                args=[url] if is_native else [],
                line=_num(line_no),
                column=_num(column),
            )
        elif parts := winjs.match(line):
            element = TraceFrame(
                url=parts[2],
                func=parts[1] or UNKNOWN_FUNCTION,
                line=int(parts[3]),
                column=_num(parts[4]),
            )
        elif could_be_gecko(line) and (parts := gecko.match(line)):
            url, func, line_no, column = parts[3], parts[1], parts[4], parts[5]
            if " > eval" in url and (sub := GECKO_EVAL.search(url)):
                func = func or "eval"
                url, line_no, column = sub[1], sub[2], ""
            elif index == 0 and not column and "columnNumber" in ex:
                # the Firefox hack writes to stack[0] while the stack is still empty: a TypeError
                raise _TraceKitError("columnNumber hack on an empty stack")
            func, url = _safari_extension(func or UNKNOWN_FUNCTION, url)
            element = TraceFrame(
                url=url,
                func=func,
                args=parts[2].split(",") if parts[2] else [],
                line=_num(line_no),
                column=_num(column),
            )
        else:
            continue
        frames.append(element)
    return frames or None


def _from_stacktrace_prop(ex: dict[str, Any]) -> list[TraceFrame] | None:
    """Opera 10/11 `ex.stacktrace`: every second line is a frame."""
    stacktrace = ex.get("stacktrace")
    if not is_truthy(stacktrace):
        return None
    if not isinstance(stacktrace, str):
        raise _TraceKitError("stacktrace is not a string")
    frames: list[TraceFrame] = []
    lines = stacktrace.split("\n")
    for line in lines[::2]:
        if parts := OPERA10.search(line):
            element = TraceFrame(url=parts[2], func=parts[3], line=int(parts[1]))
        elif parts := OPERA11.search(line):
            element = TraceFrame(
                url=parts[6],
                func=parts[3] or parts[4],
                args=parts[5].split(",") if parts[5] else [],
                line=int(parts[1]),
                column=int(parts[2]),
            )
        else:
            continue
        if not element.func and element.line:
            element.func = UNKNOWN_FUNCTION
        frames.append(element)
    return frames or None


def _pop_size(ex: dict[str, Any]) -> int:
    frames_to_pop = ex.get("framesToPop")
    if isinstance(frames_to_pop, int | float) and not isinstance(frames_to_pop, bool):
        return int(frames_to_pop) if math.isfinite(frames_to_pop) else 0
    if REACT_MINIFIED.search(js_string(ex.get("message", "undefined"))):
        return 1
    return 0


def compute_stack_trace(ex: dict[str, Any]) -> StackTrace:
    """tracekit.ts computeStackTrace for an error-like object {name, message, stack, ...}."""
    pop = _pop_size(ex)
    for parse in (_from_stacktrace_prop, _from_stack_prop):
        try:
            frames = parse(ex)
        except (_TraceKitError, TypeError, ValueError):
            continue
        if frames:
            return StackTrace(ex.get("name"), extract_message(ex), frames[pop:])
    return StackTrace(ex.get("name"), extract_message(ex), [], failed=True)


def prepare_frames(frames: list[TraceFrame]) -> list[dict[str, Any]]:
    """parsers.ts prepareFramesForEvent: Sentry frames, oldest first, at most 50."""
    if not frames:
        return []
    local = frames
    first_func = frames[0].func if isinstance(frames[0].func, str) else ""
    last_func = frames[-1].func if isinstance(frames[-1].func, str) else ""
    if "captureMessage" in first_func or "captureException" in first_func:
        local = local[1:]
    if "sentryWrapped" in last_func:
        local = local[:-1]
    result: list[dict[str, Any]] = []
    for frame in local[:STACKTRACE_LIMIT]:
        sentry_frame: dict[str, Any] = {}
        if frame.column is not None:
            sentry_frame["colno"] = frame.column
        filename = frame.url if is_truthy(frame.url) else local[0].url
        if filename is not None:
            sentry_frame["filename"] = filename
        sentry_frame["function"] = frame.func if is_truthy(frame.func) else UNKNOWN_FUNCTION
        sentry_frame["in_app"] = True
        if frame.line is not None:
            sentry_frame["lineno"] = frame.line
        result.append(sentry_frame)
    result.reverse()
    return result


def parse_stack(ex: dict[str, Any]) -> list[dict[str, Any]]:
    """The Sentry frames 6.13.1 sends for an error-like object (oldest first; may be empty)."""
    return prepare_frames(compute_stack_trace(ex).frames)
