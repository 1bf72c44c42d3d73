"""The R2 upload gateway run locally in the real Workers runtime (workerd, through Miniflare).

``infra/learning_images_infra/r2/gateway/local/serve.mjs`` starts the very ``dist/worker.js`` the stack deploys, with
the bindings the stack gives it (``CONTRACT``, ``GATEWAY_SECRET``, the ``CITIES`` KV namespace
seeded with key ids, the ``BUCKET``), over HTTPS with the sandbox's certificate. The bucket is
Miniflare's own local R2 (:data:`LOCAL_R2`), or an S3 endpoint behind the same R2 binding API
(:func:`s3_bucket`): the R2 sandbox's local S3, where the Command Centre and training tiers
read what cities upload through the gateway.

Its control server (:class:`LocalGateway`) onboards and revokes cities while it runs (KV writes,
as an operator does in Cloudflare without redeploying), shows what the local R2 stored, and
forwards a request into the Worker as if it had come over plain HTTP.
"""

from __future__ import annotations

import http.client
import json
import secrets
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from learning_images import gateway
from learning_images.sandbox.iam_simulator import EvaluatorUnavailableError, node_binary
from learning_images.sandbox.project import project_root

if TYPE_CHECKING:
    from learning_images.sandbox.render import Graph

GATEWAY = project_root() / "infra" / "learning_images_infra" / "r2" / "gateway"
SERVE = GATEWAY / "local" / "serve.mjs"
#: Miniflare's local R2 (workerd's R2 simulator), inspectable through ``LocalGateway.stored``.
LOCAL_R2: Mapping[str, Any] = {"kind": "r2"}


def s3_bucket(
    endpoint: str, region: str, bucket: str, access_key_id: str, secret_access_key: str, *, deployed: bool = False
) -> dict[str, Any]:
    """The gateway's bucket binding served over an S3 endpoint (plain HTTP: workerd trusts only
    public certificate authorities). ``deployed``: through the gateway's own S3 target, bound as
    the stack binds it in front of another backend's bucket (its S3_* bindings), rather than an R2
    binding stood in for over S3."""
    if deployed:
        bindings = gateway.s3_target_bindings(endpoint, region, bucket, access_key_id, secret_access_key)
        return {"kind": "s3-target", "bindings": bindings}
    return {
        "kind": "s3",
        "endpoint": endpoint,
        "region": region,
        "bucket": bucket,
        "access_key_id": access_key_id,
        "secret_access_key": secret_access_key,
    }


@dataclass(frozen=True)
class CityKey:
    city_id: str
    access_key_id: str
    secret_access_key: str


def city_keys(gateway_secret: str, cities: list[str]) -> dict[str, CityKey]:
    """A fresh gateway key per city, derived as the stack derives them."""
    keys = {}
    for city in cities:
        key_id = gateway.access_key_id(secrets.token_hex(8))
        keys[city] = CityKey(city, key_id, gateway.city_secret(gateway_secret, key_id))
    return keys


@dataclass(frozen=True)
class LocalGateway:
    url: str
    #: The runner's loopback control server (see the module's docstring).
    control_url: str
    process: subprocess.Popen[str]
    #: The runner's standard error, for the block's lifetime: why it failed, if it did.
    log: Path

    def _control(self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] = {}) -> Any:
        request = urllib.request.Request(  # noqa: S310 (a loopback URL this module started)
            self.control_url + path, data=body, method=method, headers=dict(headers)
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                return json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise GatewayFailedError(f"control {method} /{path[:120]}: {exc.code} {exc.read()[:500]!r}") from None
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError) as exc:
            raise GatewayFailedError(f"control {method} /{path[:120]}: {exc}{self.ended()}") from exc

    def ended(self) -> str:
        """If the runner has exited: its exit code and the end of its log, to append to an error."""
        if self.process.poll() is None:
            return ""
        return f"\nthe local gateway exited ({self.process.returncode}):\n{self.log.read_text()[-2000:]}"

    def stored(self, key: str) -> dict[str, Any] | None:
        """What the local R2 holds under ``key`` (size, content type, metadata, SHA-256), or None."""
        found: dict[str, Any] | None = self._control("GET", "objects/" + urllib.parse.quote(key, safe=""))
        return found

    def onboard(self, key: CityKey) -> None:
        """Give a city a key while the gateway runs: one KV entry, no redeploy."""
        self._control("PUT", "cities/" + key.access_key_id, json.dumps({"city_id": key.city_id}).encode())

    def revoke(self, access_key_id: str) -> None:
        """Remove a city's key while the gateway runs: one KV delete, no redeploy."""
        self._control("DELETE", "cities/" + access_key_id)

    def over_plain_http(self, method: str, path: str, headers: Mapping[str, str], body: bytes = b"") -> tuple[int, str]:
        """The Worker's answer to a request that reached it over plain HTTP (status, body)."""
        answer = self._control(method, "plain-http/" + path.lstrip("/"), body or None, headers)
        return int(answer["status"]), str(answer["body"])


class GatewayUnavailableError(RuntimeError):
    """node or the gateway's packages are missing: the message says how to install them."""


class GatewayFailedError(RuntimeError):
    """The running gateway refused or failed a control request, or it has exited (with its log)."""


@contextmanager
def local_gateway(
    *,
    contract: dict[str, Any],
    gateway_secret: str,
    cities: Mapping[str, str],
    tls_cert: Path,
    tls_key: Path,
    bucket: Mapping[str, Any] = LOCAL_R2,
    events: Mapping[str, str] | None = None,
    startup_timeout: float = 30.0,
) -> Iterator[LocalGateway]:
    """The gateway on 127.0.0.1 for the block; stopped (its stdin closed) whatever happens.
    ``cities`` maps each gateway key id to its city (the ``CITIES`` KV entries); ``events``: the
    stand-in queue (``queue_url``, ``token``) and ``signing_secret`` of a store's event webhook."""
    if not (GATEWAY / "node_modules" / "miniflare").is_dir():
        raise GatewayUnavailableError(f"the gateway's packages are not installed: run `make install` ({GATEWAY})")
    try:
        node = node_binary()
    except EvaluatorUnavailableError as exc:
        raise GatewayUnavailableError(str(exc)) from None
    config = {
        "contract": contract,
        "gateway_secret": gateway_secret,
        "cities": dict(cities),
        "tls": {"cert": tls_cert.read_text(), "key": tls_key.read_text()},
        "bucket": dict(bucket),
        **({"events": dict(events)} if events else {}),
    }
    with tempfile.TemporaryDirectory(prefix="gateway-") as workdir:
        config_file = Path(workdir) / "config.json"
        config_file.write_text(json.dumps(config))
        config_file.chmod(0o600)
        log = (Path(workdir) / "gateway.log").open("w")
        process = subprocess.Popen(  # noqa: S603 (fixed argv)
            [node, str(SERVE), str(config_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            cwd=GATEWAY,
        )
        try:
            line = _ready_line(process, startup_timeout)
            if not line:
                process.wait(timeout=5)
                log.flush()
                raise GatewayUnavailableError(
                    f"the local gateway did not start:\n{(Path(workdir) / 'gateway.log').read_text()[-2000:]}"
                )
            ready = json.loads(line)
            running = LocalGateway(
                ready["url"].rstrip("/"), ready["control_url"], process, Path(workdir) / "gateway.log"
            )
            try:
                yield running
            finally:
                if ended := running.ended():  # it died inside the block: say why before its log is gone
                    sys.stderr.write(ended + "\n")
        finally:
            if process.stdin:
                process.stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


def _ready_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The runner's one ready line, or "" if it exited first (its log says why)."""
    import selectors  # noqa: PLC0415

    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            process.kill()
            return ""
    return process.stdout.readline()


def rendered_bindings(graph: Graph) -> dict[str, Any]:
    """What the rendered program binds the Worker to: its contract, its secret, its city keys, and
    the secret a store's event webhooks are signed with (None where it takes none)."""
    script = graph.one("cloudflare:index/workersScript:WorkersScript")
    bindings = script["bindings"]
    listed = bindings.get("value", bindings) if isinstance(bindings, dict) else bindings
    by_name = {binding["name"]: binding for binding in listed}
    return {
        "contract": json.loads(by_name["CONTRACT"]["json"]),
        "secret": by_name["GATEWAY_SECRET"]["text"],
        "events_secret": by_name.get(gateway.EVENTS_SECRET_BINDING, {}).get("text"),
        "cities": {
            entry["keyName"]: json.loads(entry["value"])["city_id"]
            for entry in graph.of_type("cloudflare:index/workersKv:WorkersKv")
        },
    }
