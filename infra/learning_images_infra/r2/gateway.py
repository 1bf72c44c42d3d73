"""The R2 upload gateway: a Worker bound to the bucket, the only way a city reaches it.

R2 has no bucket policy, so a city holding an R2 token could read every city's images and skip
every upload rule. With the gateway, cities hold no R2 credential: each gets a gateway key (an
access key id and a secret, used with SigV4 exactly like an S3 key), and the Worker
(``infra/learning_images_infra/r2/gateway/src/worker.js``) accepts one operation, a compliant PutObject, and refuses
everything else. Its rules are the ``CONTRACT`` document made from ``learning_images.contract``.

Keys: the Worker's ``CITIES`` KV namespace maps each key id to its city; a city's secret is
HMAC-SHA256(gateway secret, key id), so KV holds no secret and the stack derives each city's
secret without storing it twice. Onboarding a city adds a random key id and one KV entry;
revoking removes the entry. Neither changes the Worker's code or bindings, so neither redeploys
it. KV is eventually consistent: a new or removed key takes effect everywhere within about a
minute (Cloudflare docs, "How KV works").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_cloudflare as cloudflare
import pulumi_random as random

from learning_images import contract, gateway
from learning_images_infra.naming import Naming
from learning_images_infra.settings import Settings
from learning_images_infra.store import city_outputs, credentials

#: What the stack uploads: the Worker bundled by ``npm run build`` (committed; a test keeps it the
#: build of ``src/``), so a deployment needs no node toolchain.
WORKER_SCRIPT = Path(__file__).resolve().parent / "gateway" / "dist" / "worker.js"
MAIN_MODULE = "worker.js"
#: The Workers runtime behaviour the gateway is written and tested against (local/serve.mjs uses
#: the same date).
COMPATIBILITY_DATE = "2025-09-01"
#: 64 alphanumeric characters: 380 bits, more than HMAC-SHA256's key strength needs.
SECRET_LENGTH = 64


@dataclass(frozen=True)
class GatewayKey:
    """A city's gateway credentials (the secret is a Pulumi secret)."""

    access_key_id: pulumi.Output[str]
    secret_access_key: pulumi.Output[str]


@dataclass(frozen=True)
class R2Target:
    """The R2 bucket the gateway is bound to (the r2 store)."""

    bucket: cloudflare.R2Bucket
    jurisdiction: str

    def bindings(self) -> list[cloudflare.WorkersScriptBindingArgs]:
        return [
            cloudflare.WorkersScriptBindingArgs(
                name="BUCKET",
                type="r2_bucket",
                bucket_name=self.bucket.name,
                # A bucket outside the default jurisdiction is named with it (the API's binding field).
                jurisdiction=None if self.jurisdiction == "default" else self.jurisdiction,
            )
        ]


@dataclass(frozen=True)
class S3Target:
    """Another backend's S3-compatible bucket the gateway writes over its S3 API, signing with a
    credential only the gateway holds (secret bindings: never in a city's hands, never printed)."""

    endpoint: str
    region: str
    bucket_name: pulumi.Input[str]
    access_key_id: pulumi.Input[str]
    secret_access_key: pulumi.Input[str]

    def bindings(self) -> list[cloudflare.WorkersScriptBindingArgs]:
        values = gateway.s3_target_bindings(
            self.endpoint, self.region, self.bucket_name, self.access_key_id, self.secret_access_key
        )
        return [
            cloudflare.WorkersScriptBindingArgs(
                name=name,
                type="secret_text" if name in gateway.S3_TARGET_SECRET else "plain_text",
                text=pulumi.Output.secret(value) if name in gateway.S3_TARGET_SECRET else value,
            )
            for name, value in values.items()
        ]


#: What the gateway writes: its R2 binding, or an S3-compatible bucket.
Target = R2Target | S3Target


@dataclass(frozen=True)
class StoreEvents:
    """A store whose events reach the receiver through the gateway (B2's webhooks): the Worker
    checks each delivery's signature and sends its events to ``queue``."""

    queue: cloudflare.Queue
    signing_secret: pulumi.Input[str]

    def bindings(self) -> list[cloudflare.WorkersScriptBindingArgs]:
        return [
            cloudflare.WorkersScriptBindingArgs(
                name=gateway.EVENTS_QUEUE_BINDING, type="queue", queue_name=self.queue.queue_name
            ),
            cloudflare.WorkersScriptBindingArgs(
                name=gateway.EVENTS_SECRET_BINDING,
                type="secret_text",
                text=pulumi.Output.secret(self.signing_secret),
            ),
        ]


@dataclass(frozen=True)
class UploadGateway:
    script: cloudflare.WorkersScript
    #: Where cities send their uploads (HTTPS).
    url: pulumi.Output[str]
    keys: dict[str, GatewayKey]
    #: What makes ``url`` answer (workers.dev turned on, or the custom domain): a webhook pointed
    #: at the gateway waits for them.
    serving: tuple[pulumi.Resource, ...] = ()


def upload_gateway(
    script_name: str,
    *,
    account_id: str,
    target: Target,
    bucket_name: str,
    cities: list[str],
    hostname: str | None,
    zone_id: str | None,
    workers_subdomain: str | None,
    names: Naming,
    opts: pulumi.ResourceOptions,
    events: StoreEvents | None = None,
) -> UploadGateway:
    """The Worker, its KV namespace of city keys, its secret, and its one public address.
    ``bucket_name`` is the bucket cities name in their requests; ``target`` what the Worker writes;
    ``events``: where it queues the store's event webhooks (None: it takes none)."""
    secret = random.RandomPassword(names("upload-gateway-secret"), length=SECRET_LENGTH, special=False, opts=opts)
    namespace = cloudflare.WorkersKvNamespace(
        names("upload-gateway-cities"), account_id=account_id, title=f"{script_name}-cities", opts=opts
    )
    keys = {
        city: _city_key(city, account_id=account_id, namespace=namespace, secret=secret, names=names, opts=opts)
        for city in cities
    }
    script = cloudflare.WorkersScript(
        names("upload-gateway"),
        account_id=account_id,
        script_name=script_name,
        content=WORKER_SCRIPT.read_text(encoding="utf-8"),
        main_module=MAIN_MODULE,
        compatibility_date=COMPATIBILITY_DATE,
        bindings=[
            *target.bindings(),
            cloudflare.WorkersScriptBindingArgs(name="CITIES", type="kv_namespace", namespace_id=namespace.id),
            cloudflare.WorkersScriptBindingArgs(name="GATEWAY_SECRET", type="secret_text", text=secret.result),
            cloudflare.WorkersScriptBindingArgs(
                name="CONTRACT", type="json", json=json.dumps(gateway.worker_contract(bucket_name), sort_keys=True)
            ),
            *(events.bindings() if events else []),
        ],
        # Every refusal is logged as one JSON line with its request id: the gateway's audit trail.
        observability=cloudflare.WorkersScriptObservabilityArgs(enabled=True),
        opts=opts,
    )
    after = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[script]))
    # One public address. workers.dev is declared on only when it is that address, and preview
    # URLs never (they would serve unreviewed versions of the gateway).
    subdomain = cloudflare.WorkersScriptSubdomain(
        names("upload-gateway-workers-dev"),
        account_id=account_id,
        script_name=script.script_name,
        enabled=hostname is None,
        previews_enabled=False,
        opts=after,
    )
    serving: tuple[pulumi.Resource, ...] = (subdomain,)
    if hostname is not None:
        serving += (
            cloudflare.WorkersCustomDomain(
                names("upload-gateway-domain"),
                account_id=account_id,
                hostname=hostname,
                zone_id=zone_id,
                service=script.script_name,
                opts=after,
            ),
        )
        url = pulumi.Output.from_input(f"https://{hostname}")
    else:
        url = script.script_name.apply(lambda name: f"https://{name}.{workers_subdomain}.workers.dev")
    return UploadGateway(script=script, url=url, keys=keys, serving=serving)


def cities_gateway(
    *,
    settings: Settings,
    target: Target,
    bucket_name: str,
    names: Naming,
    opts: pulumi.ResourceOptions,
    events: StoreEvents | None = None,
) -> UploadGateway:
    """The gateway where the stack's settings place it (its Cloudflare account, its address), named
    after the bucket it writes, with a key for each of the stack's cities and the probe city."""
    account = settings.cloudflare_account_id
    assert account is not None  # Settings requires it of every backend the gateway fronts
    return RUNTIMES[settings.upload_gateway_runtime](
        f"{bucket_name}-upload-gateway",
        account_id=account,
        target=target,
        bucket_name=bucket_name,
        cities=[*settings.city_ids, contract.PROBE_CITY_ID],
        hostname=settings.r2_gateway_hostname,
        zone_id=settings.r2_gateway_zone_id,
        workers_subdomain=settings.r2_workers_subdomain,
        names=names,
        opts=opts,
        events=events,
    )


#: Where the gateway can run (the setting ``uploadGatewayRuntime``), and what declares it there.
RUNTIMES = {"cloudflare-workers": upload_gateway}


def city_credentials(found: UploadGateway) -> dict[str, Any]:
    """The outputs of the cities' gateway keys (``learning_infra.store.city_outputs``)."""
    return city_outputs(
        {city: credentials(city, key.access_key_id, key.secret_access_key) for city, key in found.keys.items()}
    )


def _city_key(
    city: str,
    *,
    account_id: str,
    namespace: cloudflare.WorkersKvNamespace,
    secret: random.RandomPassword,
    names: Naming,
    opts: pulumi.ResourceOptions,
) -> GatewayKey:
    """A city's key: a random id, its KV entry naming the city, and the secret derived from both."""
    key_id = random.RandomId(names(f"city-{city}-gateway-key-id"), byte_length=gateway.KEY_ID_BYTES, opts=opts)
    access_key_id = key_id.hex.apply(gateway.access_key_id)
    cloudflare.WorkersKv(
        names(f"city-{city}-gateway-key"),
        account_id=account_id,
        namespace_id=namespace.id,
        key_name=access_key_id,
        value=json.dumps({"city_id": city}),
        opts=opts,
    )
    derived = pulumi.Output.all(secret.result, access_key_id).apply(lambda args: gateway.city_secret(*args))
    return GatewayKey(access_key_id=access_key_id, secret_access_key=pulumi.Output.secret(derived))
