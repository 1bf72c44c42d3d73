"""Who may change the store's configuration: the ``configurationAdministrators`` setting as
``aws:PrincipalArn`` patterns, checked against the deploying identity before anything exists.

``aws:PrincipalArn`` is a role's ARN for its sessions, a user's ARN for a user, and
``arn:<partition>:iam::<account>:root`` for the root user (IAM User Guide, "AWS global
condition context keys"). STS reports a role session as ``assumed-role/<name>/<session>``
without the role's path, and role names are unique in an account whatever their path, so a
session's role is matched by ``role/<name>`` and ``role/*/<name>``.
"""

from __future__ import annotations

import re

from learning_images_infra.settings import DEPLOYER, SettingsError

_ASSUMED_ROLE = re.compile(r"^arn:(?P<partition>[^:]+):sts::(?P<account>\d{12}):assumed-role/(?P<name>[^/]+)/.+$")
_IAM = re.compile(r"^arn:(?P<partition>[^:]+):iam::(?P<account>\d{12}):(?P<rest>.+)$")


def principal_patterns(caller_arn: str) -> tuple[str, ...]:
    """The ``aws:PrincipalArn`` patterns of the identity STS names ``caller_arn``."""
    if found := _ASSUMED_ROLE.match(caller_arn):
        prefix = f"arn:{found['partition']}:iam::{found['account']}:role/"
        return (f"{prefix}{found['name']}", f"{prefix}*/{found['name']}")
    if _IAM.match(caller_arn):
        return (caller_arn,)
    raise SettingsError(f"cannot tell the deploying identity's principal from {caller_arn!r}")


def deployer_warning(caller_arn: str) -> str:
    """What a stack that lists ``deployer`` is told at every preview and update."""
    return (
        f"configurationAdministrators: `{DEPLOYER}` resolved to {caller_arn} for this update. Any other identity "
        "that runs `pulumi up` on this stack later (the CI deploy role, a colleague's laptop) will be refused "
        "PutBucketPolicy and every configuration change, and only the account root can recover: list the "
        "administrators by ARN instead (docs/deploying.md, configuration administrators)"
    )


def _covers(pattern: str, caller_arn: str) -> bool:
    """Whether a configured administrator is the deploying identity."""
    if found := _ASSUMED_ROLE.match(caller_arn):
        role = _IAM.match(pattern)
        return bool(
            role
            and role["account"] == found["account"]
            and role["rest"].startswith("role/")
            and role["rest"].rsplit("/", 1)[-1] == found["name"]
        )
    return caller_arn == pattern


def administrator_patterns(configured: list[str], *, caller_arn: str, account_root_arn: str) -> tuple[str, ...]:
    """The patterns the configuration guards spare: the account root, the configured principals
    (``deployer`` resolved to ``caller_arn``). Empty when nothing is configured (guard off).

    Raises :class:`SettingsError` when the list would lock the deploying identity out of the
    very configuration its next ``pulumi up`` must write.
    """
    if not configured:
        return ()
    explicit = [entry for entry in configured if entry != DEPLOYER]
    deployer = principal_patterns(caller_arn) if DEPLOYER in configured else ()
    root_caller = caller_arn == account_root_arn
    if not deployer and not root_caller and not any(_covers(entry, caller_arn) for entry in explicit):
        raise SettingsError(
            "invalid stack config (1 problem); nothing was created:\n"
            f"  - learning-images:configurationAdministrators: leaves out the deploying identity {caller_arn}, "
            "which would lock this stack out of its own bucket and key configuration: add its role or user ARN, "
            f"or `{DEPLOYER}`"
        )
    return tuple(dict.fromkeys([account_root_arn, *explicit, *deployer]))
