"""The storage contract as CrossGuard policies: every preview that breaks it fails.

Importable on purpose: constructing ``PolicyPack`` starts the pack's server and blocks, so
``__main__.py`` only constructs the pack from :data:`POLICIES`, and the tests call these
validators directly over the program's mocked resource graph.

The policies check the resources the program really creates: pulumi-aws v7's split
``aws.s3.Bucket*`` resources (which Pulumi's published AWS policies still miss) and the R2
resources. Values unknown during preview raise the SDK's ``UnknownValueError`` when read, and
the analyzer skips the policy for that resource instead of failing it. Stack policies relate a
bucket's configuration resources to the bucket through ``property_dependencies`` (the bucket
name itself is unknown in a first preview).

One module per backend (aws.py, r2.py, gcs.py, minio.py, spaces.py, b2.py), over what they share:
the catalogue, the type tokens, the document helpers and the graph.
"""

from pulumi_policy import Policy

from . import aws, b2, gcs, minio, r2, spaces
from .catalogue import CATALOGUE

POLICIES: list[Policy] = [*aws.POLICIES, *r2.POLICIES, *gcs.POLICIES, *minio.POLICIES, *spaces.POLICIES, *b2.POLICIES]

__all__ = ["CATALOGUE", "POLICIES"]
