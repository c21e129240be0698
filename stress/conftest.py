"""Hypothesis profiles for the stress suite.

``ci`` (the default) runs 200 examples per property, ``soak`` 5000. The stress
tests pick one by name from the environment variable
``CRUSHD_HYPOTHESIS_PROFILE`` and use it as the parent of their own settings,
so loading this file never changes the profile of the unit tests in ``tests/``.
The explain phase is left out: on these long operation lists it costs minutes
after a failure and adds little to the shrunk example.
"""

from __future__ import annotations

from hypothesis import Phase, settings

_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]

settings.register_profile(
    "ci", max_examples=200, deadline=None, print_blob=True, phases=_PHASES
)
settings.register_profile(
    "soak", max_examples=5000, deadline=None, print_blob=True, phases=_PHASES
)
