"""The independent IAM evaluator's process (``tools/iam-simulate``) answers as the package it
runs: what the process changes to make it cheaper must not change an answer; and a pool of them
starts a process only when it is needed."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterable
from typing import Any

from learning_images.sandbox.iam_simulator import TOOL, Decision, IamSimulator, IamSimulatorPool, node_binary

#: Names IAM compares case-insensitively, and the strings where a shortcut (lower-casing, or
#: ignoring accents) would answer differently from ICU's collation.
WORDS = [
    "s3:x-amz-server-side-encryption",
    "S3:X-AMZ-Server-Side-Encryption",
    "aws:SecureTransport",
    "aws:securetransport",
    "alias/aws/s3",
    "ALIAS/AWS/S3",
    "Straße",
    "STRASSE",
    "İstanbul",
    "istanbul",
    "café",
    "cafe",
    "CAFÉ",
    "",
]
#: The (locales, options) the package's comparisons pass, and others a caller could.
ARGUMENTS = [
    [None, {"sensitivity": "accent"}],
    ["en", {"sensitivity": "base"}],
    [None, None],
    [["de", "en"], {"sensitivity": "case"}],
    ["tr", {"sensitivity": "accent"}],
]

COMPARE = """
const builtIn = String.prototype.localeCompare
await import(process.argv[1])
const [words, cases] = JSON.parse(process.argv[2])
const differing = []
for (const [locales, options] of cases) {
  for (let round = 0; round < 2; round++) {  // the second round answers from the kept collators
    for (const a of words) for (const b of words) {
      const expected = Math.sign(builtIn.call(a, b, locales ?? undefined, options ?? undefined))
      const found = Math.sign(a.localeCompare(b, locales ?? undefined, options ?? undefined))
      if (expected !== found) differing.push({ a, b, locales, options, expected, found })
    }
  }
}
console.log(JSON.stringify(differing))
"""


def test_the_evaluators_kept_collators_compare_strings_as_locale_compare_does() -> None:
    module = (TOOL / "kept-collators.mjs").as_uri()
    done = subprocess.run(  # noqa: S603 (fixed argv)
        [node_binary(), "--input-type=module", "-e", COMPARE, module, json.dumps([WORDS, ARGUMENTS])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"tools/iam-simulate/kept-collators.mjs: node failed\n{done.stderr}"
    differing = json.loads(done.stdout)
    assert not differing, (
        f"tools/iam-simulate/kept-collators.mjs: {len(differing)} comparisons answer unlike "
        f"String.prototype.localeCompare, e.g. {differing[:3]}"
    )


class Held(IamSimulator):
    """An evaluator process stood in for (no node): it answers a batch once released."""

    def __init__(self) -> None:  # no process to start
        self.busy, self.release = threading.Event(), threading.Event()

    def evaluate_many(self, simulations: Iterable[dict[str, Any]]) -> list[Decision]:
        batch = list(simulations)
        self.busy.set()
        self.release.wait(10)
        return [Decision("Allowed", ()) for _ in batch]

    def close(self) -> None:
        self.release.set()


def test_an_evaluator_pool_starts_another_process_only_when_every_started_one_is_busy() -> None:
    made: list[Held] = []

    def start() -> Held:
        made.append(Held())
        return made[-1]

    pool = IamSimulatorPool(2, start=start)
    made[0].release.set()
    pool.evaluate_many([{"batch": 1}])
    pool.evaluate_many([{"batch": 2}])
    assert pool.started == 1, "IamSimulatorPool: one batch after another started a second evaluator process"
    made[0].release.clear()
    made[0].busy.clear()
    first = threading.Thread(target=pool.evaluate_many, args=([{"batch": 3}],))
    first.start()
    assert made[0].busy.wait(10), "IamSimulatorPool: a batch never reached the idle evaluator"
    second = threading.Thread(target=pool.evaluate_many, args=([{"batch": 4}],))
    second.start()
    deadline = time.monotonic() + 10  # the second batch starts the second process at once, or never
    while not (len(made) == 2 and made[1].busy.is_set()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool.started == 2 and made[1].busy.is_set(), (
        "IamSimulatorPool: a batch that found the only evaluator busy waited for it instead of starting another"
    )
    pool.close()
    first.join(10)
    second.join(10)
