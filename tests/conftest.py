"""Shared pytest set-up for the rnnlib unit tests.

- Matplotlib uses Agg here, set in code and not through MPLBACKEND: notebook kernels
  started by nbval would inherit the variable and lose their inline figures.
- Hypothesis runs a bounded profile by default, sized for a 2-core machine;
  pick another with HYPOTHESIS_PROFILE=dev.
- The `chromium_path` fixture gives the browser test Debian's chromium, or skips it
  with a reason; in CI (CI=true) a missing chromium is a failure, not a skip.
"""

import os
import shutil

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", max_examples=25, deadline=None)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium_path():
    """Path of Debian's chromium for playwright's `executable_path`."""
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = (
        f"{CHROMIUM} not found: the browser test needs Debian's chromium "
        "(apt-get install chromium; never `playwright install`)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " -- .ci/run should have installed it", pytrace=False)
    pytest.skip(reason)
