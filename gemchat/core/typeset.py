"""LaTeX to SVG with ziamath, in a process of its own: `gemchat --typeset-worker`.

ziamath is pure Python: importing it takes 0.3-0.6 s and a formula 10-100 ms
here. In a thread of the app's own process that work would hold the GIL, and
every call the UI thread makes into Qt would wait for it: 600 small Qt calls
took 73 ms instead of 3 beside a busy Python thread. In a process it costs the
window nothing, and a formula that takes too long or too much memory can be
stopped (the app kills the worker; `MEMORY_LIMIT` caps it from inside).

The protocol is one JSON object per line. The worker says ``{"ready": true}``
once ziamath is imported (or ``{"broken": why}`` and exits), then answers each
``{"tex": str, "display": bool}`` with ``{"svg": str}`` or ``{"error": why}``,
in order. The SVG is drawn in `INK` at `REFERENCE_SIZE`: the app puts the text
colour in its place and scales it to the text, so one typesetting serves every
theme and zoom.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from typing import IO

from gemchat.core.formulas import MAX_LENGTH

WORKER_ARGUMENT = "--typeset-worker"
"""The command-line argument that makes `gemchat` this worker instead of the app."""

REFERENCE_SIZE = 20.0
"""The font size, in SVG units, formulas are typeset at."""

INK = "#010203"
"""The colour formulas are drawn in: a value no formula asks for, replaced by the text colour when drawn."""

MEMORY_LIMIT = 1 << 30
"""Address space the worker may use (bytes): a formula that needs more fails instead of exhausting memory."""

_REFERENCE = re.compile(r"""(?:href|src)\s*=\s*["']([^"']*)["']|url\(\s*([^)]*)\)|<\s*(image|script|foreignObject|iframe)\b""",
                        re.IGNORECASE)


def typeset(tex: str, display: bool) -> str:
    """The SVG of one formula; raises whatever ziamath raises for LaTeX it cannot typeset."""
    import ziamath

    ziamath.config.svg2 = False  # QtSvg draws SVG 1.1's <use xlink:href>, not SVG 2's plain href
    return ziamath.Latex(tex, size=REFERENCE_SIZE, inline=not display, color=INK).svg()


def is_safe_svg(svg: str) -> bool:
    """Whether an SVG refers to nothing outside itself: only ``#id`` links, no images, scripts or foreign objects."""
    if not svg.lstrip().startswith("<svg"):
        return False
    for link, url, element in _REFERENCE.findall(svg):
        if element or not (link or url).strip().strip("'\"").startswith("#"):
            return False
    return True


def run_worker() -> int:
    """`gemchat --typeset-worker`: the worker's process, within its limits, answering on stdout until stdin ends."""
    _stay_in_bounds()
    return serve(sys.stdin, sys.stdout)


def serve(requests: IO[str], answers: IO[str]) -> int:
    """The worker's loop: typesets each request from `requests` to `answers` until `requests` ends."""
    try:
        import ziamath  # noqa: F401 (imported now, so the first formula does not wait for it)

        typeset("x", False)  # loads the math font's tables
    except Exception as exc:  # a broken installation: the app shows every formula as its source
        _answer(answers, {"broken": f"{type(exc).__name__}: {exc}"})
        return 1
    _answer(answers, {"ready": True})
    for line in requests:
        _answer(answers, _typeset_request(line))
    return 0


def _typeset_request(line: str) -> dict[str, str]:
    try:
        request = json.loads(line)
        tex, display = str(request["tex"]), bool(request["display"])
    except (ValueError, KeyError, TypeError) as exc:
        return {"error": f"not a request: {exc}"}
    if not 0 < len(tex) <= MAX_LENGTH:
        return {"error": f"a formula has 1 to {MAX_LENGTH} characters"}
    try:
        svg = typeset(tex, display)
    except Exception as exc:  # LaTeX that ziamath cannot read, a formula too deep or too large for the limits
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    if not is_safe_svg(svg):
        return {"error": "the SVG refers to something outside itself"}
    return {"svg": svg}


def _answer(answers: IO[str], answer: Mapping[str, object]) -> None:
    answers.write(json.dumps(answer) + "\n")
    answers.flush()


def _stay_in_bounds() -> None:
    """Caps the worker's memory, lets the app's window go first for the CPU, and leaves Ctrl+C to the app."""
    import os
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the app stops it, or it ends when the app's pipe closes
    try:
        import resource
    except ImportError:  # Windows: no limits, the app's time limit still applies
        return
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        os.nice(5)
    except (OSError, ValueError):
        pass  # a limit the OS refuses: the app's time limit still applies


__all__ = ["INK", "MEMORY_LIMIT", "REFERENCE_SIZE", "WORKER_ARGUMENT", "is_safe_svg", "run_worker", "serve", "typeset"]
