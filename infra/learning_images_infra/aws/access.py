"""The three credential tiers of the contract, least privilege.

- city: one IAM user per configured city (plus the verification probe), tagged with its
  ``city_id``, all in one group whose single policy allows only create-only, tagged uploads
  of the caller's own city. Adding a city adds a user and its access key, nothing else: every
  policy document stays the same size (cities are matched by IAM path and principal tag).
- Command Centre: a role for the configured principals: read, list, create-only upload,
  delete (versions too, for GDPR erasure).
- training: a role that can only read objects and their tags and list the bucket.

The bucket policy denies each tier everything else (``guards.deny_tier_beyond``), so a policy
attached to these identities later cannot widen them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from learning_images import contract
from learning_images_infra.aws import iam
from learning_images_infra.naming import Naming


@dataclass(frozen=True)
class CityCertificates:
    """``cityAuthentication: certificates``: the cities' trust anchor and session length."""

    #: The cities' CA as a PEM bundle, or None with ``private_ca_arn``.
    certificate_authority: str | None
    private_ca_arn: str | None
    session_seconds: int


@dataclass(frozen=True)
class RolesAnywhere:
    trust_anchor: aws.rolesanywhere.TrustAnchor
    profile: aws.rolesanywhere.Profile
    role: aws.iam.Role
    session_seconds: int


@dataclass
class TierIdentities:
    command_centre_role: aws.iam.Role
    training_role: aws.iam.Role
    #: Access keys: the city users' group. Certificates: None (the city role carries the policy).
    city_group: aws.iam.Group | None
    #: Access keys: city id -> (user, newest access key), the probe under ``contract.PROBE_CITY_ID``.
    #: Certificates: empty (a city is a certificate, not an IAM resource).
    uploaders: dict[str, tuple[aws.iam.User, aws.iam.AccessKey]]
    #: ``ArnLike`` pattern of every city principal: the city users' path, or the city role.
    city_principal_arn_pattern: pulumi.Output[str]
    #: The principal tag that names a city: the user's ``city_id`` tag, or the certificate's CN.
    city_tag: str
    roles_anywhere: RolesAnywhere | None = None


def iam_path(scope: str, *parts: str) -> str:
    """``/learning-images/<scope>/…/``: one path per store (``Naming.scope``) keeps two stacks, or two
    stores of one stack, apart in one account."""
    return "/" + "/".join(("learning-images", scope, *parts)) + "/"


def tier_identities(
    *,
    names: Naming,
    city_ids: list[str],
    key_generations: Callable[[str], list[int]],
    certificates: CityCertificates | None,
    command_centre_principals: pulumi.Input[list[str]],
    training_principals: pulumi.Input[list[str]],
    arn_prefix: pulumi.Output[str],
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> TierIdentities:
    """Declare the identities (no permissions yet: see :func:`grant_tiers`).

    ``arn_prefix`` is ``arn:<partition>:iam::<account>:``.
    """
    roles = {}
    for tier, principals in (
        (contract.COMMAND_CENTRE, command_centre_principals),
        (contract.TRAINING, training_principals),
    ):
        roles[tier.name] = aws.iam.Role(
            names(f"{tier.name}-role"),
            path=iam_path(names.scope),
            description=tier.description,
            assume_role_policy=pulumi.Output.from_input(principals).apply(
                lambda arns: json.dumps(iam.assume_role_policy(arns))
            ),
            max_session_duration=contract.ROLE_SESSION_SECONDS,
            tags={**tags, "tier": tier.name},
            opts=opts,
        )

    city_path = iam_path(names.scope, "city")
    command_centre, training = roles[contract.COMMAND_CENTRE.name], roles[contract.TRAINING.name]
    if certificates is not None:
        found = _roles_anywhere(names, certificates, city_path, tags, opts)
        return TierIdentities(
            command_centre_role=command_centre,
            training_role=training,
            city_group=None,
            uploaders={},
            # A role session's aws:PrincipalArn is its role's ARN.
            city_principal_arn_pattern=found.role.arn,
            city_tag=contract.CITY_CERTIFICATE_TAG,
            roles_anywhere=found,
        )
    group = aws.iam.Group(names("city-uploaders"), path=city_path, opts=opts)
    uploaders = {}
    for city_id in [*city_ids, contract.PROBE_CITY_ID]:
        user = aws.iam.User(
            names(f"city-{city_id}"),
            path=city_path,
            # The group policy compares each upload's city_id tag with this principal tag.
            tags={**tags, "tier": contract.CITY.name, contract.CITY_ID: city_id},
            opts=opts,
        )
        # One key per generation; generation 1 keeps the name keys had before rotation existed. The
        # newest is the city's key in the outputs; an older one lives on until the city has switched.
        keys = [
            aws.iam.AccessKey(
                names(f"city-{city_id}-key" if generation == 1 else f"city-{city_id}-key-{generation}"),
                user=user.name,
                opts=opts,
            )
            for generation in key_generations(city_id)
        ]
        uploaders[city_id] = (user, keys[-1])
    aws.iam.GroupMembership(
        names("city-uploaders-members"),
        group=group.name,
        users=[user.name for user, _ in uploaders.values()],
        opts=opts,
    )
    return TierIdentities(
        command_centre_role=command_centre,
        training_role=training,
        city_group=group,
        uploaders=uploaders,
        city_principal_arn_pattern=pulumi.Output.concat(arn_prefix, "user", city_path, "*"),
        city_tag=contract.CITY_ID,
    )


def _roles_anywhere(
    names: Naming, certificates: CityCertificates, city_path: str, tags: dict[str, str], opts: pulumi.ResourceOptions
) -> RolesAnywhere:
    """One trust anchor over the cities' CA, one city role only Roles Anywhere assumes for a
    certificate of that anchor, one profile; no resource per city, whatever their number."""
    anchor = aws.rolesanywhere.TrustAnchor(
        names("city-trust-anchor"),
        name=f"learning-images-{names.scope}-cities",
        enabled=True,
        source=aws.rolesanywhere.TrustAnchorSourceArgs(
            source_type="AWS_ACM_PCA" if certificates.private_ca_arn else "CERTIFICATE_BUNDLE",
            # Exactly one of the two is set (the settings refuse both or neither).
            source_data=aws.rolesanywhere.TrustAnchorSourceSourceDataArgs(
                acm_pca_arn=certificates.private_ca_arn, x509_certificate_data=certificates.certificate_authority
            ),
        ),
        tags=tags,
        opts=opts,
    )
    role = aws.iam.Role(
        names("city-role"),
        path=city_path,
        description=contract.CITY.description,
        assume_role_policy=anchor.arn.apply(lambda arn: json.dumps(iam.roles_anywhere_trust_policy(arn))),
        max_session_duration=contract.ROLE_SESSION_SECONDS,
        tags={**tags, "tier": contract.CITY.name},
        opts=opts,
    )
    profile = aws.rolesanywhere.Profile(
        names("city-profile"),
        name=f"learning-images-{names.scope}-cities",
        enabled=True,
        role_arns=[role.arn],
        duration_seconds=certificates.session_seconds,
        tags=tags,
        opts=opts,
    )
    return RolesAnywhere(anchor, profile, role, certificates.session_seconds)


def _render(document: pulumi.Output[iam.Document]) -> pulumi.Output[str]:
    return document.apply(json.dumps)


def grant_tiers(
    identities: TierIdentities,
    *,
    primary: pulumi.Output[iam.StoreTarget],
    replica: pulumi.Output[iam.StoreTarget] | None,
    names: Naming,
    opts: pulumi.ResourceOptions,
) -> None:
    """Attach each tier's one policy document."""
    city_policy = _render(primary.apply(lambda target: iam.tier_policy(contract.CITY, target, identities.city_tag)))
    if identities.city_group is not None:
        aws.iam.GroupPolicy(
            names("city-uploaders-policy"), group=identities.city_group.name, policy=city_policy, opts=opts
        )
    if identities.roles_anywhere is not None:
        aws.iam.RolePolicy(
            names("city-role-policy"), role=identities.roles_anywhere.role.name, policy=city_policy, opts=opts
        )
    aws.iam.RolePolicy(
        names("training-role-policy"),
        role=identities.training_role.name,
        policy=_render(primary.apply(lambda target: iam.tier_policy(contract.TRAINING, target))),
        opts=opts,
    )
    command_centre = (
        pulumi.Output.all(primary, replica).apply(lambda targets: iam.command_centre_policy(targets[0], targets[1]))
        if replica is not None
        else primary.apply(lambda target: iam.command_centre_policy(target, None))
    )
    aws.iam.RolePolicy(
        names("command-centre-role-policy"),
        role=identities.command_centre_role.name,
        policy=_render(command_centre),
        opts=opts,
    )
