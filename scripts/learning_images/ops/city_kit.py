"""``learning-images-city-kit``: what the Command Centre hands one city, and nothing more.

    learning-images-city-kit --stack prod --city paris --out kits/paris

A stack's outputs hold every city's key, the probe's and (on R2) the Command Centre's and the
training tier's tokens: a city given them could act as any of those, and on R2 write around the
upload gateway. The kit is a folder only its owner can read (0700, files 0600):

- ``outputs.json``: the outputs schema with this city's key alone (or, where cities authenticate
  with certificates, where its certificate becomes a session), the bucket and the endpoints;
- ``ca-bundle.pem``, with ``--ca-bundle``, where the endpoint presents a private CA;
- ``README.txt``: the upload command to run with it.

Exit codes: 0 written; 2 the outputs, the city or the folder are wrong (nothing is written).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from learning_images.ops import arguments
from learning_images.outputs import OutputsError, StackOutputs, add_outputs_arguments, outputs_from_args

OUTPUTS_FILE = "outputs.json"
CA_BUNDLE_FILE = "ca-bundle.pem"
README_FILE = "README.txt"


def instructions(kit: StackOutputs, city: str, folder: Path) -> str:
    certificate = kit.roles_anywhere is not None
    lines = [
        f"City kit for {city}: store {kit.bucket_name} ({kit.backend}).",
        "Keep this folder private: it holds the city's credential.",
        "",
        "Upload a day's batch:",
        "",
        f"  learning-images-upload --outputs {folder / OUTPUTS_FILE} --city {city} \\",
        "      --images BATCH_FOLDER --manifest BATCH_FOLDER/manifest.csv --report REPORT.jsonl"
        + (" \\\n      --certificate CITY.pem --private-key CITY.key" if certificate else ""),
        "",
    ]
    if certificate:
        lines += [
            f"Cities authenticate with certificates: use a certificate of the cities' CA with CN={city}",
            "and its private key; install learning-images[certificates] from this project's tagged release.",
            "",
        ]
    if (folder / CA_BUNDLE_FILE).exists():
        lines += [f"The endpoint presents a private CA: export AWS_CA_BUNDLE={folder / CA_BUNDLE_FILE}", ""]
    return "\n".join(lines)


def write_private(path: Path, text: str) -> None:
    """Created 0600 from the start: the secret is never readable by others, not even for an instant."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def write_kit(outputs: StackOutputs, city: str, folder: Path, ca_bundle: Path | None) -> StackOutputs:
    kit = outputs.city_kit(city)
    bundle = ca_bundle.read_text(encoding="utf-8") if ca_bundle else None
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    data = kit.model_dump(mode="json")
    # A dump masks SecretStr; the kit must carry the city's real secret, and only that one.
    for name, credentials in kit.city_credentials.items():
        data["city_credentials"][name]["secret_access_key"] = credentials.secret_access_key.get_secret_value()
    write_private(folder / OUTPUTS_FILE, json.dumps(data, indent=2) + "\n")
    if bundle is not None:
        write_private(folder / CA_BUNDLE_FILE, bundle)
    write_private(folder / README_FILE, instructions(kit, city, folder))
    return kit


def main(argv: list[str] | None = None) -> int:
    parser = arguments.parser("city-kit", "Write the kit one city needs to upload: its own credential, nothing more.")
    add_outputs_arguments(parser)
    parser.add_argument(
        "--city", type=arguments.city_id, required=True, help="the city the kit is for (one of the stack's cityIds)"
    )
    parser.add_argument("--out", type=Path, required=True, help="the kit's folder (created 0700)")
    parser.add_argument("--ca-bundle", type=Path, help="the endpoint's private CA certificate, copied into the kit")
    args = parser.parse_args(argv)
    try:
        outputs = outputs_from_args(args)
        assert outputs is not None  # the argument group is required
        write_kit(outputs, args.city, args.out, args.ca_bundle)
    except (OutputsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"kit for {args.city} written to {args.out} (hand over this folder only; see {args.out / README_FILE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
