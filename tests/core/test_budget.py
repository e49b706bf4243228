"""The renderer's step size follows what steps cost, within its bounds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gemchat.core.budget import StepBudget
from tests.examples import examples


def test_slow_steps_shrink_the_budget_to_its_floor_and_quick_full_ones_grow_it_to_its_ceiling() -> None:
    budget = StepBudget(400, 100, 2000, target_ms=2.0)
    budget.observe(5.0, 400)
    assert budget.value < 400
    for _ in range(20):
        budget.observe(5.0, budget.value)
    assert budget.value == 100
    for _ in range(60):
        budget.observe(0.5, budget.value)
    assert budget.value == 2000


def test_a_quick_step_that_had_little_to_do_does_not_grow_the_budget() -> None:
    budget = StepBudget(400, 100, 2000, target_ms=2.0)
    budget.observe(0.1, 30)
    assert budget.value == 400


def test_nonsense_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        StepBudget(50, 100, 2000, target_ms=2.0)
    with pytest.raises(ValueError):
        StepBudget(400, 100, 2000, target_ms=0)


@settings(max_examples=examples(100))
@given(st.lists(st.tuples(st.floats(0, 50), st.integers(0, 10_000)), max_size=200))
def test_the_budget_never_leaves_its_bounds(steps: list[tuple[float, int]]) -> None:
    budget = StepBudget(300, 50, 3000, target_ms=1.5)
    for elapsed, used in steps:
        before = budget.value
        budget.observe(elapsed, used)
        assert 50 <= budget.value <= 3000
        if elapsed > 1.5:
            assert budget.value <= before


def test_a_step_right_at_the_target_keeps_the_budget_and_only_one_under_half_of_it_grows_it() -> None:
    budget = StepBudget(400, 100, 2000, target_ms=2.0)
    budget.observe(2.0, 400)  # on target: as it should be
    assert budget.value == 400
    budget.observe(1.0, 400)  # quick, but not twice as quick as wanted
    assert budget.value == 400
    budget.observe(0.8, 400)
    assert budget.value == int(400 * StepBudget.GROW)  # 459: 400 * 1.15 is 459.99… in floating point


def test_a_tiny_budget_still_grows_one_character_at_a_time() -> None:
    budget = StepBudget(3, 1, 10, target_ms=2.0)
    budget.observe(0.1, 3)
    assert budget.value == 4  # 3 * 1.15 rounds down to 3; it must still move


def test_the_tightest_bounds_that_make_sense_are_accepted() -> None:
    assert StepBudget(1, 1, 1, target_ms=0.5).value == 1
    with pytest.raises(ValueError, match=r"^need 0 < low <= initial <= high and a positive target$"):
        StepBudget(0, 0, 10, target_ms=2.0)
