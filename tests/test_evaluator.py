"""The independent IAM evaluator's process (``tools/iam-simulate``) answers as the package it
runs: what the process changes to make it cheaper must not change an answer."""

from __future__ import annotations

import json
import subprocess

from learning_images.sandbox.iam_simulator import TOOL, node_binary

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
