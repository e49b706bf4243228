"""Start-up time to a visible window: the packaged app beside `make run`'s, measured in the same run.

Both are started the way a user starts them (`dist/gemchat/gemchat`, and
`.venv/bin/python -m gemchat` as `make run` does) in a private Xvfb server
with Qt's real X11 platform plugin, alternately, each after one unmeasured
warm-up start so both read from a warm page cache. The time is from starting
the process to the X server mapping gemchat's top-level window, which is
what `xdotool search --onlyvisible` would see; it is read from the X server's
MapNotify event (through libX11 with ctypes) rather than by polling, so the
measurement costs no CPU while the app starts. Each run then quits with
SIGTERM, which gemchat handles like Ctrl+Q.

No network: the app gets a dummy key and a base URL on a closed loopback port,
and sends nothing at start-up. Each variant has its own temporary data
directory. gemchat's bytecode is written first, as `pip install` and
PyInstaller do (benchmarks/startup.py says why): on a machine with
PYTHONDONTWRITEBYTECODE=1 the venv would otherwise compile gemchat on every
start, which no installed copy does.

`--against DIR` also starts another packaged build (a copy of dist/gemchat made
before a change to the spec) in the same rotation:

    .venv/bin/python benchmarks/startup_frozen.py [--runs N] [--against /tmp/gemchat-before]

Needs Xvfb and libX11 (Debian: xvfb); the packaged app needs `make package`.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._common import ROOT, compile_like_an_install

FROZEN = ROOT / "dist" / "gemchat" / "gemchat"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
MAP_NOTIFY = 19
SUBSTRUCTURE_NOTIFY_MASK = 1 << 19
WINDOW_TIMEOUT = 60.0


class _XMapEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("event", ctypes.c_ulong),
        ("window", ctypes.c_ulong),
        ("override_redirect", ctypes.c_int),
    ]


class _XEvent(ctypes.Union):
    _fields_ = [("type", ctypes.c_int), ("xmap", _XMapEvent), ("pad", ctypes.c_long * 24)]


class MapWatcher:
    """Reports when a top-level window is mapped on one X display (Xvfb has no window manager)."""

    def __init__(self, display: str) -> None:
        name = ctypes.util.find_library("X11")
        if name is None:
            raise RuntimeError("libX11 not found")
        self._x = ctypes.CDLL(name)
        self._x.XOpenDisplay.restype = ctypes.c_void_p
        self._x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        self._x.XDefaultRootWindow.restype = ctypes.c_ulong
        self._x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        self._x.XSelectInput.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_long]
        for function in ("XPending", "XConnectionNumber", "XFlush", "XCloseDisplay"):
            getattr(self._x, function).argtypes = [ctypes.c_void_p]
        self._x.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.POINTER(_XEvent)]
        self._display = self._x.XOpenDisplay(display.encode())
        if not self._display:
            raise RuntimeError(f"cannot open X display {display}")
        self._x.XSelectInput(self._display, self._x.XDefaultRootWindow(self._display), SUBSTRUCTURE_NOTIFY_MASK)
        self._x.XFlush(self._display)
        self._fd = self._x.XConnectionNumber(self._display)

    def drain(self) -> None:
        """Forgets events from earlier runs."""
        event = _XEvent()
        while self._x.XPending(self._display):
            self._x.XNextEvent(self._display, ctypes.byref(event))

    def wait_for_map(self, process: subprocess.Popen[bytes], timeout: float) -> float:
        """perf_counter() when a top-level, non-override-redirect window is mapped."""
        event = _XEvent()
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            while self._x.XPending(self._display):
                self._x.XNextEvent(self._display, ctypes.byref(event))
                if event.type == MAP_NOTIFY and not event.xmap.override_redirect:
                    return time.perf_counter()
            if process.poll() is not None:
                raise RuntimeError(f"the app exited with {process.returncode} before showing a window")
            select.select([self._fd], [], [], 0.05)
        raise RuntimeError(f"no window within {timeout:.0f} s")

    def close(self) -> None:
        self._x.XCloseDisplay(self._display)


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    number = b""
    while not number.endswith(b"\n"):
        ready, _, _ = select.select([read_end], [], [], 10)
        chunk = os.read(read_end, 16) if ready else b""
        if not chunk:
            server.kill()
            raise RuntimeError("Xvfb did not start")
        number += chunk
    os.close(read_end)
    return server, f":{number.decode().strip()}"


def cpu_seconds(pid: int) -> float:
    """CPU time the process's threads have used (Linux's scheduler accounting, in nanoseconds)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # a thread that ended meanwhile
    return total / 1e9


def time_one_start(command: list[str], env: dict[str, str], watcher: MapWatcher) -> tuple[float, float]:
    """Seconds to the window's MapNotify, and the CPU seconds the app had used by then.

    The app is stopped (SIGSTOP) as soon as the window is mapped while its CPU
    time is read, so the figure is the start-up's alone; load on the machine
    moves it far less than the wall time.
    """
    watcher.drain()
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        shown = watcher.wait_for_map(process, WINDOW_TIMEOUT)
    except RuntimeError as exc:
        process.kill()
        _, err = process.communicate()
        raise RuntimeError(f"{' '.join(command)}: {exc}\n{err.decode(errors='replace')[-2000:]}") from None
    process.send_signal(signal.SIGSTOP)
    used = cpu_seconds(process.pid)
    process.send_signal(signal.SIGCONT)
    process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
    return shown - started, used


def app_env(display: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GEMINI", "GOOGLE", "GEMCHAT", "QT_", "WAYLAND"))}
    env.update(
        DISPLAY=display,
        QT_QPA_PLATFORM="xcb",
        GEMINI_API_KEY="benchmark-dummy-key",  # no key dialog; nothing is sent at start-up
        GOOGLE_GEMINI_BASE_URL="http://127.0.0.1:9",
        GEMCHAT_DATA_DIR=str(data_dir),
        PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring",
    )
    return env


def describe(samples: list[float]) -> str:
    return f"median {statistics.median(samples):6.3f} s   min {min(samples):6.3f}   max {max(samples):6.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="measured starts of each (default 7)")
    parser.add_argument("--against", type=Path, help="another packaged build's folder, started in turn with these")
    args = parser.parse_args(argv)
    title = "startup_frozen: start-up to a visible window (Xvfb, xcb)"
    if shutil.which("Xvfb") is None or ctypes.util.find_library("X11") is None:
        print(f"{title}: skipped, needs Xvfb and libX11 (apt-get install xvfb)")
        return 0
    variants: dict[str, list[str]] = {"make run (.venv/bin/python -m gemchat)": [str(VENV_PYTHON), "-m", "gemchat"]}
    if FROZEN.exists():
        variants["packaged (dist/gemchat/gemchat)"] = [str(FROZEN)]
    if args.against is not None:
        if not (args.against / "gemchat").exists():
            parser.error(f"{args.against} holds no gemchat executable")
        variants[f"packaged ({args.against}/gemchat)"] = [str(args.against / "gemchat")]
    compile_like_an_install()
    server, display = start_xvfb()
    try:
        watcher = MapWatcher(display)
        with tempfile.TemporaryDirectory(prefix="gemchat-bench-") as temp:
            envs = {name: app_env(display, Path(temp) / str(i)) for i, name in enumerate(variants)}
            for name, command in variants.items():
                time_one_start(command, envs[name], watcher)  # warm-up: page cache, database created
            wall: dict[str, list[float]] = {name: [] for name in variants}
            cpu: dict[str, list[float]] = {name: [] for name in variants}
            for _ in range(args.runs):
                for name, command in variants.items():
                    shown, used = time_one_start(command, envs[name], watcher)
                    wall[name].append(shown)
                    cpu[name].append(used)
        watcher.close()
    finally:
        server.terminate()
        server.wait(10)
    print(f"{title}, {args.runs} runs each, alternating, after one warm-up start; load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    width = max(len(name) for name in variants)
    for label, samples in (("wall time", wall), ("CPU time by then", cpu)):
        print(f" {label}")
        for name, values in samples.items():
            print(f"  {name:{width}} {describe(values)}")
        venv, *packaged = (statistics.median(v) for v in samples.values())
        baseline = next(iter(samples.values()))
        for name, frozen in zip(list(samples)[1:], packaged, strict=True):
            # Starts alternate, so each packaged start has a make run start beside it under the same load.
            paired = [mine - theirs for mine, theirs in zip(samples[name], baseline, strict=True)]
            print(f"  {name} / make run: {frozen / venv:.2f}x ({(frozen - venv) * 1000:+.0f} ms); "
                  f"paired differences: median {statistics.median(paired) * 1000:+.0f} ms, "
                  f"packaged faster in {sum(d < 0 for d in paired)} of {len(paired)}")
    if len(variants) == 1:
        print("  packaged app not built: run `make package` to measure it beside this")
    return 0


if __name__ == "__main__":
    sys.exit(main())
