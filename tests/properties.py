"""What the property tests (Hypothesis) share: their settings, and the check that an input is
either taken or refused with one clear error."""

from hypothesis import HealthCheck, settings

from whyrec.errors import WhyrecError


def fuzz(examples: int, fixtures: bool = False):
    """Hypothesis settings drawing ``examples`` examples, the same on every run (``derandomize``:
    CI never fails by the draw; raise ``examples`` to search further), with no deadline and no
    example database kept; ``fixtures``: the test reads a pytest fixture, the same for every example."""
    return settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture] if fixtures else [])


def made_or_refused(make, one_line: bool = False):
    """``make()``, or None when it raises the clear error a bad input gets: a
    :class:`~whyrec.errors.WhyrecError` with something to say (on one line, with ``one_line``)."""
    try:
        return make()
    except WhyrecError as refused:
        assert str(refused).strip(), "an error with nothing to say"
        if one_line:
            assert "\n" not in str(refused).strip(), str(refused)
        return None
