"""The rule catalogue: every contract rule, where each backend enforces it, and what proves it.

In three modules: ``model`` (Sids, Enforcement, Holding, Rule), ``catalogue`` (the rows and what is
asked of them) and ``tables`` (their markdown).

Data, defined once, with no Pulumi or backend imports. Read by:

- the AWS guard builders, which take their statement ids from :class:`Sid`;
- the policy pack and the verification script, which check a bucket policy for the Sids listed
  here (:func:`learning_bucket_sids`), never by asking a builder what it builds, so a builder's
  bug cannot pass its own check;
- the verification script, which reports an R2 gap as GAP with the reason given here, never PASS;
- docs/rules.md and the README, whose tables are generated from it (``python -m learning_images.rules``).

Each rule names its verifier checks, its bucket-policy Sids on AWS, its lifecycle rule ids, the
policy-pack policies that guard it in previews, the offline tests that prove it, and what only a
live run against AWS can prove.
"""

from __future__ import annotations

from learning_images.rules.catalogue import (
    RULES,
    all_checks,
    enforcement,
    learning_bucket_sids,
    tier_policy_sids,
    treatment,
)
from learning_images.rules.model import (
    GATEWAY_RESTS_ON,
    LOCK_HEADER_SIDS,
    MISSING_TAG_SIDS,
    OBJECT_LOCK_KEYS,
    Enforcement,
    Holding,
    Rule,
    Sid,
)
from learning_images.rules.tables import markdown_table, summary_table

__all__ = [
    "GATEWAY_RESTS_ON",
    "LOCK_HEADER_SIDS",
    "MISSING_TAG_SIDS",
    "OBJECT_LOCK_KEYS",
    "RULES",
    "Enforcement",
    "Holding",
    "Rule",
    "Sid",
    "all_checks",
    "enforcement",
    "learning_bucket_sids",
    "markdown_table",
    "summary_table",
    "tier_policy_sids",
    "treatment",
]
