"""rnnlib._checks: the shared argument checks (messages that notebooks and tests match)."""

import numpy as np
import pytest

from rnnlib._checks import check_int, check_positive_int


def test_check_int_accepts_python_and_numpy_integers():
    assert check_int("k", 3, 1) == 3 and type(check_int("k", np.int64(3), 1, 5)) is int
    assert check_int("t", 0, 0, 0) == 0


@pytest.mark.parametrize("value", [True, 2.0, "2", None, np.float64(2)])
def test_check_int_rejects_bools_and_non_integers(value):
    with pytest.raises(ValueError, match=r"^n: expected an integer 0 <= n <= 9, got "):
        check_int("n", value, 0, 9)


def test_check_int_messages():
    with pytest.raises(ValueError, match=r"^t: expected an integer 0 <= t <= 12, got 13$"):
        check_int("t", 13, 0, 12)
    with pytest.raises(ValueError, match=r"^t: expected an integer 0 <= t <= T = 4, got 5$"):
        check_int("t", 5, 0, 4, high_name="T")
    with pytest.raises(ValueError, match=r"^k: expected an integer >= 1, got 0$"):
        check_int("k", 0, 1)
    with pytest.raises(ValueError, match=r"^i: expected an integer step 1 <= i <= T = 4, got 0$"):
        check_int("i", 0, 1, 4, high_name="T", noun="integer step")
    with pytest.raises(ValueError, match=r"^n_hidden: expected a positive integer, got True$"):
        check_positive_int("n_hidden", True)
