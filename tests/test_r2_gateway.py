"""The R2 stack's upload gateway as the program declares it: one rule per test, under Pulumi's mocks."""

from __future__ import annotations

import json

import pulumi
import pytest

from learning_images import gateway
from learning_images.sandbox.render import Graph, render, stack_config
from learning_images_infra.naming import Naming
from learning_images_infra.r2.gateway import WORKER_SCRIPT, S3Target, upload_gateway
from tests.support.stack import is_secret, worker_bindings

SCRIPT = "cloudflare:index/workersScript:WorkersScript"
KV = "cloudflare:index/workersKv:WorkersKv"
TOKEN = "cloudflare:index/accountToken:AccountToken"
SUBDOMAIN = "cloudflare:index/workersScriptSubdomain:WorkersScriptSubdomain"
DOMAIN = "cloudflare:index/workersCustomDomain:WorkersCustomDomain"
PASSWORD = "random:index/randomPassword:RandomPassword"
CITIES = ["amsterdam", "berlin", "contract-probe"]


@pytest.fixture(scope="module")
def r2() -> Graph:
    return render(stack_config("r2"), stack="r2")


def on_workers_dev(**extra: str) -> dict[str, str]:
    """The r2 stack with the gateway on workers.dev instead of a custom domain."""
    config = {k: v for k, v in stack_config("r2").items() if "r2Gateway" not in k}
    return config | {"learning-images:r2WorkersSubdomain": "acme"} | extra


def test_cities_hold_no_r2_token_with_the_gateway(r2: Graph) -> None:
    tokens = sorted(t.name for t in r2.of_type(TOKEN))
    assert tokens == ["command-centre-token", "receiver-token", "training-token"], (
        f"with the upload gateway only the Command Centre, training and the receiver hold R2 tokens, found {tokens}"
    )


def test_city_credentials_are_gateway_keys_used_at_the_gateway(r2: Graph) -> None:
    secret = r2.one(PASSWORD).outputs["result"]["value"]
    credentials = {**r2.outputs["city_credentials"], "contract-probe": r2.outputs["probe_credentials"]}
    for city, found in credentials.items():
        assert found["access_key_id"].startswith(gateway.ACCESS_KEY_PREFIX), f"{city}: not a gateway key id"
        assert found["secret_access_key"] == gateway.city_secret(secret, found["access_key_id"]), (
            f"{city}: the secret must be the one the Worker derives from the gateway secret and the key id"
        )
    assert r2.outputs["city_endpoint_url"] == "https://upload.learning-images.example.com"
    assert r2.outputs["capabilities"]["upload_gateway"] is True


def test_each_city_key_has_one_kv_entry_naming_its_city(r2: Graph) -> None:
    entries = {entry["keyName"]: json.loads(entry["value"]) for entry in r2.of_type(KV)}
    expected = {found["access_key_id"]: {"city_id": city} for city, found in r2.outputs["city_credentials"].items()}
    expected[r2.outputs["probe_credentials"]["access_key_id"]] = {"city_id": "contract-probe"}
    assert entries == expected, "the gateway's CITIES namespace must map each key id to exactly its city"
    namespace = r2.one("cloudflare:index/workersKvNamespace:WorkersKvNamespace")
    assert {entry["namespaceId"] for entry in r2.of_type(KV)} == {namespace.id}


def test_the_gateway_is_bound_to_the_store_bucket_its_cities_and_the_contract(r2: Graph) -> None:
    script = r2.one(SCRIPT)
    found = worker_bindings(script)
    assert found["BUCKET"] == {
        "name": "BUCKET",
        "type": "r2_bucket",
        "bucketName": "learning-images-r2",
        "jurisdiction": "eu",
    }, f"{script.urn}: the gateway must write the store's bucket, in its jurisdiction"
    namespace = r2.one("cloudflare:index/workersKvNamespace:WorkersKvNamespace")
    assert found["CITIES"] == {"name": "CITIES", "type": "kv_namespace", "namespaceId": namespace.id}
    assert json.loads(str(found["CONTRACT"]["json"])) == gateway.worker_contract("learning-images-r2"), (
        f"{script.urn}: the Worker's rules must be the contract's, made by learning_images.gateway"
    )
    assert found["GATEWAY_SECRET"]["type"] == "secret_text", f"{script.urn}: the gateway secret is a secret binding"
    assert set(found) == {"BUCKET", "CITIES", "CONTRACT", "GATEWAY_SECRET"}, f"{script.urn}: unexpected bindings"


def test_the_gateway_deploys_the_built_worker_as_a_module(r2: Graph) -> None:
    script = r2.one(SCRIPT)
    assert script["content"] == WORKER_SCRIPT.read_text(), (
        f"{script.urn}: must upload infra/learning_images_infra/r2/gateway/dist/worker.js"
    )
    assert script["mainModule"] == "worker.js"
    assert script["scriptName"] == "learning-images-r2-upload-gateway"


def test_the_gateway_secret_is_a_pulumi_secret(r2: Graph) -> None:
    for name in ("city_credentials", "probe_credentials"):
        assert r2.secret_outputs[name], f"stack output {name} holds gateway secrets and must be a Pulumi secret"
    password = r2.one(PASSWORD)
    assert password["length"] >= 32 and password["special"] is False, f"{password.urn}: a long, header-safe secret"
    script = r2.one(SCRIPT)
    assert is_secret(script["bindings"]), f"{script.urn}: the bindings carry the gateway secret and must stay secret"


def test_the_gateway_has_one_public_address_on_its_custom_domain(r2: Graph) -> None:
    domain = r2.one(DOMAIN)
    assert (domain["hostname"], domain["zoneId"]) == ("upload.learning-images.example.com", "fedcba9876543210" * 2)
    assert domain["service"] == r2.one(SCRIPT)["scriptName"]
    subdomain = r2.one(SUBDOMAIN)
    assert subdomain["enabled"] is False and subdomain["previewsEnabled"] is False, (
        f"{subdomain.urn}: with a custom domain, workers.dev and preview URLs must be declared off"
    )


def test_on_workers_dev_the_gateway_answers_there_and_previews_stay_off() -> None:
    graph = render(on_workers_dev(), stack="r2")
    subdomain = graph.one(SUBDOMAIN)
    assert subdomain["enabled"] is True and subdomain["previewsEnabled"] is False, subdomain.urn
    assert not graph.of_type(DOMAIN)
    assert graph.outputs["city_endpoint_url"] == "https://learning-images-r2-upload-gateway.acme.workers.dev"


def test_onboarding_a_city_leaves_the_worker_untouched(r2: Graph) -> None:
    """Adding a city adds a key id and a KV entry: the Worker's code and bindings stay as they are,
    so the engine does not redeploy it."""
    config = stack_config("r2") | {"learning-images:cityIds": json.dumps(["amsterdam", "berlin", "copenhagen"])}
    grown = render(config, stack="r2")
    assert grown.one(SCRIPT).inputs == r2.one(SCRIPT).inputs, "a new city must not change the Worker"
    added = {r.name for r in grown} - {r.name for r in r2}
    assert added == {"city-copenhagen-gateway-key-id", "city-copenhagen-gateway-key"}, added


def test_the_gateway_takes_no_other_city_setting_than_its_keys(r2: Graph) -> None:
    ids = sorted(r.name for r in r2.of_type("random:index/randomId:RandomId"))
    assert ids == sorted(f"city-{city}-gateway-key-id" for city in CITIES)


def test_a_gateway_in_front_of_an_s3_compatible_bucket_holds_its_store_credential_as_secrets() -> None:
    """In front of another backend, the Worker has no R2 binding: S3_* bindings name the bucket,
    and the credential only the gateway holds is bound as secret text (never plain)."""

    def program() -> None:
        upload_gateway(
            "learning-images-upload-gateway",
            account_id="0" * 32,
            target=S3Target(
                endpoint="https://fra1.digitaloceanspaces.com",
                region="us-east-1",
                bucket_name="learning-images-test",
                access_key_id="STORE-KEY-ID",
                secret_access_key="store-secret",
            ),
            bucket_name="learning-images-test",
            cities=["paris"],
            hostname=None,
            zone_id=None,
            workers_subdomain="acme",
            names=Naming(store="learning-images", stack="test"),
            opts=pulumi.ResourceOptions(),
        )

    script = render({}, program=program).one(SCRIPT)
    assert is_secret(script["bindings"]), f"{script.urn}: the bindings hold secrets, so they are secret on the wire"
    found = worker_bindings(script)
    assert "BUCKET" not in found, f"{script.urn}: no R2 binding in front of another backend's bucket"
    kinds = {name: found[name]["type"] for name in (*gateway.S3_TARGET_PLAIN, *gateway.S3_TARGET_SECRET)}
    assert kinds == {
        "S3_ENDPOINT": "plain_text",
        "S3_REGION": "plain_text",
        "S3_BUCKET": "plain_text",
        "S3_ACCESS_KEY_ID": "secret_text",
        "S3_SECRET_ACCESS_KEY": "secret_text",
    }, f"{script.urn}: the store credential must be secret text"
    assert found["S3_SECRET_ACCESS_KEY"]["text"] == "store-secret", f"{script.urn}: the gateway's store secret"
    assert found["S3_BUCKET"]["text"] == "learning-images-test", f"{script.urn}: the bucket cities name"
