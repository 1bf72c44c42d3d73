"""`make sandbox`'s second stage: after the verifier, the Command Centre's day runs from
learning_samples (a city's batch registered by the receiver, two training epochs, the second from
the cache, retention and a GDPR erasure selected in the table)."""

from __future__ import annotations

import pytest

from learning_images.sandbox.sandbox import sandbox


@pytest.mark.parametrize("stack", ["local", "gcs"])
def test_the_sandbox_runs_the_command_centres_day_from_learning_samples(
    stack: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sandbox([], engine="applier", stack=stack, day=True) == 0
    said = capsys.readouterr().out
    assert "the Command Centre's day passed" in said, said[-2000:]
    assert "0 downloaded, 4 from the cache" in said, "the second epoch must be served from the cache"
