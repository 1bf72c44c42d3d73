"""The learning-images policy pack: `pulumi preview --policy-pack policies`.

Only constructs the pack (which starts its server and blocks); the policies live in the
importable contract_policies module, which the tests exercise without the CLI.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from contract_policies import POLICIES  # type: ignore[import-not-found]  # the pack's own directory
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name="learning-images-contract", policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
