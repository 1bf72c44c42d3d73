"""What the R2 upload gateway costs: uploads through it against direct writes to the same local R2.

    python -m bench.gateway_throughput [--files 300] [--size-kib 64] [--workers 16] [--rounds 5]

One R2 sandbox (``learning_images.sandbox.r2``) in one run: the local S3 standing in for R2's S3
API, and the upload gateway, the Worker the r2 stack deploys, in the real Workers runtime
(workerd) with its bucket binding writing into that same stand-in. The batch uploader, the
command a city runs, uploads the same number of fresh files per round in two ways:

- gateway: with the city's gateway key, through the Worker (signature, rules, SHA-256 of the
  body, conditional put), as every city does on the shipped r2 stack;
- direct: with an R2 token stand-in for the city, straight to the stand-in over plain HTTP, as
  with ``r2UploadGateway: false`` (the baseline; see ``urls`` for why without TLS).

The stand-in skips policy evaluation for both (R2 judges a token by its permission groups), so the
ratio is the gateway's own cost. The order alternates from round to round; the ratio is taken
within each round and its median reported. Client, Worker and stand-in share two cores here: the
figure describes this machine, not Cloudflare's edge.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from bench.enforcement import CITY, upload_seconds
from bench.rounds import in_turn


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--size-kib", type=int, default=64)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from learning_images import contract  # noqa: PLC0415
    from learning_images.backends import profile_for  # noqa: PLC0415
    from learning_images.sandbox import r2  # noqa: PLC0415
    from learning_images.sandbox.local import client  # noqa: PLC0415
    from learning_images.sandbox.stand_in import stand_in_user  # noqa: PLC0415
    from tests.support.ops import sample, write_batch  # noqa: PLC0415

    seconds: dict[str, list[float]] = {"gateway": [], "direct": []}
    with r2.local_r2_store(enforce=False) as store, tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        assert store.gateway is not None
        # The baseline: the same outputs, with the city holding an R2 token stand-in at the store.
        iam = client(store.url, "iam", **store.operator)
        direct_key = stand_in_user(iam, "direct-city", r2.token_policy(contract.CITY, store.outputs["bucket_name"]))
        direct = dict(store.outputs)
        direct.update(
            city_endpoint_url=None,
            capabilities=profile_for("r2").model_dump(),
            city_credentials={CITY: {"city_id": CITY, **direct_key}},
        )
        outputs = {"gateway": store.outputs_file, "direct": Path(tmp) / "direct-outputs.json"}
        outputs["direct"].write_text(json.dumps(direct))
        # Direct writes over plain HTTP: TLS on 127.0.0.1 is terminated in Python by the stand-in but
        # natively by workerd, so an HTTPS baseline flatters the gateway (measured 1.15x). Without
        # TLS the baseline is the cheapest write there is, and the gateway pays TLS and its hop in full.
        urls = {"gateway": store.gateway.url, "direct": store.plain_url}
        for number in range(args.rounds):
            for variant in in_turn(list(seconds), number):
                folder = Path(tmp) / f"{variant}-{number}"
                rows = [sample(f"{i:06d}.jpg") for i in range(args.files)]
                write_batch(folder, rows, "manifest.csv", size=args.size_kib * 1024)
                took = upload_seconds(outputs[variant], urls[variant], folder, args.workers, store.ca_bundle)
                seconds[variant].append(took)
    ratios = sorted(d / g for g, d in zip(seconds["gateway"], seconds["direct"], strict=True))
    print(
        f"{args.files} files x {args.size_kib} KiB, {args.workers} workers, the uploader on 127.0.0.1 (gateway over "
        "HTTPS, direct over plain HTTP), "
        f"median of {args.rounds} rounds"
    )
    for variant, values in seconds.items():
        median = statistics.median(values)
        print(f"  {variant:<8} {median:6.2f} s  {args.files / median:7.1f} files/s")
    print(
        f"gateway / direct: {statistics.median(ratios):.2f}x the throughput "
        f"(median of the rounds' ratios; range {ratios[0]:.2f}-{ratios[-1]:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
