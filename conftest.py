"""Hypothesis profiles shared by the test suite and by users running it.

``dev`` is quick, ``ci`` is derandomised (the default when the CI variable is
set) and ``thorough`` draws many examples, for nightly or manual runs:
``pytest --hypothesis-profile=thorough``.
"""

import os

from hypothesis import HealthCheck, settings

_SLOW_DRAWS = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "dev", max_examples=15, deadline=None, suppress_health_check=_SLOW_DRAWS
)
settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=_SLOW_DRAWS,
)
settings.register_profile(
    "thorough", max_examples=300, deadline=None, suppress_health_check=_SLOW_DRAWS
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)
