"""Regenerate ``scripts/learning_images/data/minio_condition_keys.json`` from MinIO's policy source.

MinIO refuses a policy whose statements name a condition key it does not know, or a key its
action does not take (``policy/statement.go`` and ``policy/bucket-policy-statement.go``: "unsupported
condition keys ... used for action ..."). Which keys those are is MinIO's own data, in
``github.com/minio/pkg``: ``policy/condition/keyname.go`` (the key names, ``AllSupportedKeys``,
``CommonKeys``) and ``policy/action.go`` (the S3 actions and ``createActionConditionKeyMap``). This
also keeps the S3 actions MinIO supports (``SupportedActions``): a statement naming another is
refused too. It reads them from a git checkout of minio/pkg at a commit and writes them as data, so no key list is
transcribed by hand:

    python tools/minio_condition_keys.py PATH-TO-MINIO-PKG-GIT-DIR [COMMIT]

Only S3 actions are kept (``s3:``): the ones a bucket's and its users' policies name.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "scripts" / "learning_images" / "data" / "minio_condition_keys.json"
KEYNAME = "policy/condition/keyname.go"
ACTION = "policy/action.go"


def show(git_dir: str, commit: str, path: str) -> str:
    return subprocess.run(  # noqa: S603 (fixed argv)
        ["git", "--git-dir", git_dir, "show", f"{commit}:{path}"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def names_in(block: str) -> list[str]:
    """The Go identifiers listed in a ``[]KeyName{...}`` body (comments dropped)."""
    return re.findall(r"^\s*([A-Z]\w*),", re.sub(r"//.*", "", block), flags=re.MULTILINE)


def list_body(source: str, variable: str) -> str:
    found = re.search(rf"var {variable} = (?:append\()?\[\]KeyName\{{(.*?)\n\}}", source, flags=re.DOTALL)
    if found is None:
        raise SystemExit(f"{KEYNAME}: no `var {variable}` list; the source changed shape")
    return found.group(1)


def main(argv: list[str]) -> int:
    git_dir, commit = argv[0], (argv[1] if len(argv) > 1 else "HEAD")
    commit = subprocess.run(  # noqa: S603
        ["git", "--git-dir", git_dir, "rev-parse", commit],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    keynames = show(git_dir, commit, KEYNAME)
    actions = show(git_dir, commit, ACTION)
    key_of = dict(re.findall(r"^\s*(\w+)\s+(?:KeyName\s+)?=\s+\"([^\"]+)\"", keynames, flags=re.MULTILINE))
    jwt = [key_of[n] for n in names_in(list_body(keynames, "JWTKeys"))]
    supported = [key_of[n] for n in names_in(list_body(keynames, "AllSupportedKeys"))]
    common_body = re.search(r"var CommonKeys = append\(\[\]KeyName\{(.*?)\}, JWTKeys\.\.\.\)", keynames, re.DOTALL)
    if common_body is None:
        raise SystemExit(f"{KEYNAME}: CommonKeys is no longer CommonKeys + JWTKeys; the source changed shape")
    common = [key_of[n] for n in names_in(common_body.group(1))] + jwt
    action_of = dict(re.findall(r"^\s*(\w+Actions?)\s+Action\s+=\s+\"(s3:[^\"]+)\"", actions, flags=re.MULTILINE))
    body = actions[actions.index("func createActionConditionKeyMap()") :]
    body = body[: body.index("\n}\n")]
    per_action: dict[str, list[str]] = {}
    entries = re.findall(r"^\t\t(\w+Actions?):\s+(condition\.NewKeySet\(.*?\)),?\n(?=\t\t\w|\n|\t})", body, re.M | re.S)
    for name, entry in entries:
        if name not in action_of:
            continue  # not an S3 action (the map also holds other services')
        extra = re.findall(r"condition\.(\w+)\.ToKey\(\)", entry)
        everything = "allSupportedKeys..." in entry
        per_action[action_of[name]] = sorted(set(supported if everything else [key_of[k] for k in extra] + common))
    supported_body = actions[actions.index("var SupportedActions = map[Action]struct{}{") :]
    supported_body = supported_body[: supported_body.index("\n}\n")]
    supported_actions = sorted(
        action_of[n] for n in re.findall(r"^\t(\w+Actions?):", supported_body, re.M) if n in action_of
    )
    document = {
        "source": {"repository": "github.com/minio/pkg", "commit": commit, "files": [KEYNAME, ACTION]},
        "supported_actions": supported_actions,
        "supported_keys": sorted(set(supported)),
        "common_keys": sorted(set(common)),
        "action_keys": dict(sorted(per_action.items())),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(document, indent=1) + "\n")
    print(f"{OUT}: {len(per_action)} S3 actions from minio/pkg {commit[:7]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
