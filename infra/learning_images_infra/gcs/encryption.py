"""The store's customer-managed Cloud KMS key, rotated, usable by Cloud Storage's service agent.

Cloud Storage encrypts with a bucket's default key through the project's Cloud Storage service
agent, so the agent (not the tiers) is granted the key; a bucket whose default key it cannot use
cannot be created, hence the bucket depends on the grant. The key ring shares the bucket's
location: Cloud KMS requires the key to be where the data is.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from learning_images_infra.naming import Naming

#: 90 days, as seconds with an "s" (the provider's format): Google's recommended rotation period.
ROTATION_PERIOD = f"{90 * 86_400}s"
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


@dataclass
class StoreKey:
    key: gcp.kms.CryptoKey
    #: The service agent's grant: a bucket using the key must wait for it.
    grant: gcp.kms.CryptoKeyIAMMember


def store_key(
    *, project: str, location: str, scope: str, names: Naming, parent: pulumi.Resource, protect: bool
) -> StoreKey:
    ring = gcp.kms.KeyRing(
        names("learning-images-key-ring"),
        project=project,
        location=location.lower(),
        name=f"learning-images-{scope}",
        # A key ring cannot be deleted in Cloud KMS, and its keys encrypt every image.
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
    key = gcp.kms.CryptoKey(
        names("learning-images-key"),
        key_ring=ring.id,
        name="learning-images",
        purpose="ENCRYPT_DECRYPT",
        rotation_period=ROTATION_PERIOD,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
    agent = gcp.storage.get_project_service_account_output(
        project=project, opts=pulumi.InvokeOutputOptions(parent=parent)
    )
    grant = gcp.kms.CryptoKeyIAMMember(
        names("learning-images-key-storage-agent"),
        crypto_key_id=key.id,
        role=ENCRYPTER_DECRYPTER,
        member=agent.member,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return StoreKey(key=key, grant=grant)
