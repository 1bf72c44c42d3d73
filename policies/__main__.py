"""The learning-images policy pack: `pulumi preview --policy-pack policies`.

Only constructs the pack (which starts its server and blocks); the policies live in the
importable contract_policies package (a module per backend), which the tests exercise without the CLI. Pulumi runs this
directory with ``runpy.run_path``, which puts the directory itself first on ``sys.path``
(Python docs, runpy.run_path), so the pack's own modules import by name.
"""

from contract_policies import POLICIES  # type: ignore[import-not-found]  # the pack's own directory
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name="learning-images-contract", policies=POLICIES, enforcement_level=EnforcementLevel.MANDATORY)
