"""Hypothesis profiles for the stress suite.

``ci`` (the default) runs 200 examples per property, ``soak`` 5000. The stress
tests pick one by name from the environment variable
``CRUSHD_HYPOTHESIS_PROFILE`` and use it as the parent of their own settings,
so loading this file never changes the profile of the unit tests in ``tests/``.
The explain phase is left out: on these long operation lists it costs minutes
after a failure and adds little to the shrunk example.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import Phase, settings

_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]

settings.register_profile(
    "ci", max_examples=200, deadline=None, print_blob=True, phases=_PHASES
)
settings.register_profile(
    "soak", max_examples=5000, deadline=None, print_blob=True, phases=_PHASES
)


@pytest.fixture
def break_detach_grace(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Return a switch that makes the HTTP model's detach grace end a tick late.

    A model broken this way must disagree with the daemon; tests call the
    switch where the breakage should start (undone after the test).
    """
    from stress.statemachine import _model  # only the tests that ask load it

    detach = _model.Model.detach

    def late(self: _model.Model, stream: _model.MStream) -> None:
        detach(self, stream)
        claim = stream.ws.claims.get(stream.client)
        if claim is not None and claim.deadline is not None:
            claim.deadline += _model.TICK

    def switch() -> None:
        monkeypatch.setattr(_model.Model, "detach", late)

    return switch
