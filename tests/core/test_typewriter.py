"""The typing effect's pacing, without a clock or a widget."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gemchat.core.typewriter import Typewriter
from tests.examples import examples


def drive(tw: Typewriter, arrivals: list[tuple[float, str]], end: float, step: float = 1 / 60) -> list[tuple[float, str]]:
    """Feeds text at its arrival times and ticks every frame; returns what was shown when."""
    shown: list[tuple[float, str]] = []
    queue = sorted(arrivals, key=lambda a: a[0])
    t = 0.0
    while t <= end:
        while queue and queue[0][0] <= t:
            tw.feed(queue.pop(0)[1], t)
        if out := tw.take(t):
            shown.append((t, out))
        t += step
    return shown


def test_a_burst_is_revealed_over_several_frames_not_at_once() -> None:
    tw = Typewriter(chars_per_second=200, max_lag=1.0)
    shown = drive(tw, [(0.0, "x" * 150)], end=2.0)
    assert len(shown) > 10
    assert "".join(s for _, s in shown) == "x" * 150


def test_steady_pace_when_there_is_no_backlog() -> None:
    tw = Typewriter(chars_per_second=100, max_lag=5.0, catch_up=10.0)
    shown = drive(tw, [(0.0, "y" * 30)], end=1.0)
    # 30 characters at 100/s take about 0.3 s, give or take a frame.
    assert 0.25 <= shown[-1][0] <= 0.36


def test_never_more_than_max_lag_behind_the_network() -> None:
    tw = Typewriter(chars_per_second=20, max_lag=1.0)
    arrivals = [(i * 0.1, "z" * 200) for i in range(20)]  # 2,000 chars/s, far above the pace
    shown = drive(tw, arrivals, end=4.0)
    revealed_at: list[float] = []
    for t, text in shown:
        revealed_at.extend([t] * len(text))
    arrived_at: list[float] = []
    for t, text in arrivals:
        arrived_at.extend([t] * len(text))
    lags = [r - a for r, a in zip(revealed_at, arrived_at, strict=False)]
    assert len(revealed_at) == len(arrived_at)
    assert max(lags) <= 1.0 + 1 / 30


def test_speeds_up_when_far_behind() -> None:
    slow = Typewriter(chars_per_second=50, max_lag=10.0, catch_up=0.5)
    shown = drive(slow, [(0.0, "w" * 1000)], end=0.5)
    assert sum(len(s) for _, s in shown) > 50 * 0.5 * 4


def test_flush_shows_everything_left_at_once() -> None:
    tw = Typewriter(chars_per_second=10)
    tw.feed("hello world", 0.0)
    first = tw.take(0.1)
    assert first + tw.flush() == "hello world"
    assert tw.pending == 0 and tw.take(5.0) == ""


def test_a_pause_does_not_bank_credit_for_a_jump() -> None:
    tw = Typewriter(chars_per_second=100, max_lag=10.0, catch_up=100.0)
    tw.take(0.0)
    tw.feed("a" * 100, 50.0)  # arrives after a long idle time
    assert len(tw.take(50.02)) <= 3


@settings(max_examples=examples(200), deadline=None)
@given(
    pieces=st.lists(
        st.tuples(st.floats(min_value=0, max_value=3, allow_nan=False), st.text(max_size=300)),
        max_size=25,
    ),
    pace=st.floats(min_value=1, max_value=5000),
    flush_at=st.one_of(st.none(), st.floats(min_value=0, max_value=4)),
)
def test_text_is_shown_in_order_whole_and_once(
    pieces: list[tuple[float, str]], pace: float, flush_at: float | None
) -> None:
    tw = Typewriter(chars_per_second=pace, max_lag=1.0)
    arrivals = sorted(pieces, key=lambda p: p[0])
    out: list[str] = []
    t, queue = 0.0, list(arrivals)
    while t <= 5.0:
        while queue and queue[0][0] <= t:
            tw.feed(queue.pop(0)[1], t)
        out.append(tw.take(t))
        if flush_at is not None and t >= flush_at:
            out.append(tw.flush())
            flush_at = None
        t += 1 / 60
    out.append(tw.flush())
    assert "".join(out) == "".join(text for _, text in arrivals)


@settings(max_examples=examples(200), deadline=None)
@given(
    pieces=st.lists(
        st.tuples(st.floats(min_value=0, max_value=3, allow_nan=False), st.text(min_size=1, max_size=300)),
        min_size=1, max_size=25,
    ),
    pace=st.floats(min_value=1, max_value=5000),
    max_lag=st.floats(min_value=0.1, max_value=2),
)
def test_without_any_flush_every_piece_is_shown_in_order_within_max_lag_of_arriving(
    pieces: list[tuple[float, str]], pace: float, max_lag: float
) -> None:
    """The answer ends whole on screen by the pacing alone: no piece lost, doubled, reordered or held too long."""
    tw = Typewriter(chars_per_second=pace, max_lag=max_lag)
    arrivals = sorted(pieces, key=lambda p: p[0])
    step = 1 / 60
    shown = drive(tw, arrivals, end=arrivals[-1][0] + max_lag + 2 * step, step=step)
    full = "".join(text for _, text in arrivals)
    assert "".join(text for _, text in shown) == full
    assert tw.pending == 0
    revealed_at: list[float] = []
    for t, text in shown:
        revealed_at.extend([t] * len(text))
    arrived_at: list[float] = []
    for t, text in arrivals:
        arrived_at.extend([t] * len(text))
    assert all(r >= a for r, a in zip(revealed_at, arrived_at))  # nothing before it arrived
    assert all(r - a <= max_lag + 2 * step for r, a in zip(revealed_at, arrived_at))


def test_an_answer_longer_than_four_kilobytes_keeps_flowing_in_order_and_on_time() -> None:
    """Shown text is dropped from the buffer past 4096 characters; what follows must not notice."""
    tw = Typewriter(chars_per_second=250, max_lag=1.0)
    shown = ""
    now = 0.0
    pieces = [f"{n:04d}" * 100 for n in range(15)]  # 15 pieces of 400 characters
    for piece in pieces:
        tw.feed(piece, now)
        for _ in range(5):
            now += 0.25
            shown += tw.take(now)
        assert shown == "".join(pieces)[:len(shown)]
    assert shown == "".join(pieces) and tw.pending == 0


def test_text_that_arrives_after_a_pause_starts_at_the_next_frame() -> None:
    tw = Typewriter(chars_per_second=250)
    assert tw.take(10.0) == ""
    tw.feed("hello world", 10.0)
    assert tw.take(10.0) == ""  # no time has passed since it arrived: nothing earned yet
    assert tw.take(10.1) == "hello world"  # 0.1 s at 250 characters a second


def test_a_character_is_out_exactly_max_lag_after_it_arrived() -> None:
    tw = Typewriter(chars_per_second=1, max_lag=1.0, catch_up=1000)  # a crawl: only the lag promise hurries it
    tw.feed("abcdef", 0.0)
    assert tw.take(0.5) == ""
    assert tw.take(1.0) == "abcdef"
