"""Hypothesis profiles for the stress suite.

``ci`` (the default) runs 200 examples per property, ``soak`` 5000. The stress
tests pick one by name from the environment variable
``CRUSHD_HYPOTHESIS_PROFILE`` and use it as the parent of their own settings,
so loading this file never changes the profile of the unit tests in ``tests/``.
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("ci", max_examples=200, deadline=None, print_blob=True)
settings.register_profile("soak", max_examples=5000, deadline=None, print_blob=True)
