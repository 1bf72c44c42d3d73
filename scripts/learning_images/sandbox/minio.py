"""The minio sandbox: the real ``minio`` stack's outputs and its users' own policies in front of a
local stand-in for a MinIO server.

    python -m learning_images.sandbox.sandbox --stack minio

What stands in for what:

- **MinIO's S3 API**: the enforcing local S3, judging every request as MinIO does
  (``learning_images.sandbox.front --semantics minio``, ``minio_authorization``): by the caller's
  own policies alone, with MinIO's questions (a tagged upload is PutObject alone, a version read is
  GetObject, a version listing falls back to ListBucket). The local bucket keeps no bucket policy
  (the minio program declares none) and its default SSE-KMS key stands in for the KES key.
- **The users**: IAM users carrying the minio program's own rendered policies, guards and all, the
  bucket renamed to the local one: the Command Centre, training, the receiver and each city's (its
  own city id). Cities sign with the local stack's city keys.
- **The PostgreSQL notification target** (:func:`notifying`): the local S3's own object events,
  moved as they arrive into the events table of the learning store, as MinIO's target writes them
  (``INSERT INTO object_events (event_time, event_data)``, the data ``{"Records": [...]}`` with
  ``s3:``-prefixed names). Like the target with a ``queue_dir``, it holds events until the table exists.

Only names, addresses and keys are the stand-in's; backend, capabilities, lifecycle and the
policies are what the minio program exports.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import create_engine, inspect, text

from learning_images import contract, minio
from learning_images.sandbox.event_sources import local_queue
from learning_images.sandbox.front import MINIO
from learning_images.sandbox.local import LocalStore, client, local_store
from learning_images.sandbox.render import render
from learning_images.sandbox.stand_in import backend_config, become, stand_in_tiers, stand_in_user

STACK = "minio"
#: What the minio sandbox stands in for (said in its report).
STANDS_IN = (
    "the enforcing local S3 stands in for MinIO's S3 API, judging each request by MinIO's questions and the "
    "caller's own policies alone",
    "IAM users carrying the minio program's rendered policies stand in for its MinIO users",
    "the local bucket's SSE-KMS key stands in for the KES key; MinIO's lifecycle is not held locally",
    "the local S3's own events, written into the learning store's object_events table as MinIO's PostgreSQL "
    "target writes them, stand in for that target",
)
#: Seconds between the stand-in target's looks at the local S3's event queue.
NOTIFY_INTERVAL = 0.2
#: What MinIO's PostgreSQL target runs for each event in the access format (minio/minio
#: internal/event/target/postgresql.go, ``psqlInsertRow``).
TARGET_INSERT = text(f"INSERT INTO {minio.EVENTS_TABLE} (event_time, event_data) VALUES (:time, :data)")  # noqa: S608 (a constant)


@functools.cache
def _rendered() -> str:
    graph = render(backend_config(STACK), stack=STACK)
    policies = {
        policy.name.removesuffix("-policy"): str(policy.inputs["policy"])
        for policy in graph.of_type("minio:index/iamPolicy:IamPolicy")
    }
    return json.dumps({"outputs": graph.outputs, "policies": policies})


def as_minio(url: str, outputs: dict[str, Any], operator: dict[str, str]) -> None:
    """Turn the provisioned local stack into the MinIO stand-in and ``outputs`` into the minio stack's."""
    rendered = json.loads(_rendered())
    real = rendered["outputs"]
    bucket, key_arn = outputs["bucket_name"], outputs["kms_key_arn"]
    # The program's policies name its bucket; the stand-in's is the local one.
    policies = {
        who: document.replace(f"arn:aws:s3:::{real['bucket_name']}", f"arn:aws:s3:::{bucket}")
        for who, document in rendered["policies"].items()
    }
    iam, group = stand_in_tiers(
        url, operator, real, bucket=bucket, policy=lambda tier: policies[tier.name], kind="user"
    )
    for user in iam.get_group(GroupName=group)["Users"]:
        tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=user["UserName"])["Tags"]}
        city = tags[contract.CITY_ID]
        iam.put_user_policy(UserName=user["UserName"], PolicyName="minio-city", PolicyDocument=policies[f"city-{city}"])
    # SSE-KMS by default, as the minio program declares it, with the local key in the KES key's place.
    client(url, "s3", **operator).put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}]
        },
    )
    if real.get("registration"):
        real["registration"]["receiver_credentials"] = stand_in_user(iam, "receiver-minio", policies["receiver"])
    real.update(city_credentials=outputs["city_credentials"], probe_credentials=outputs["probe_credentials"])
    become(outputs, real, url, kms_key_arn=key_arn)


def minio_record(record: dict[str, Any]) -> dict[str, Any]:
    """A local S3 event record as MinIO's records are: S3's shape, the name ``s3:``-prefixed."""
    return {**record, "eventSource": "minio:s3", "eventName": f"s3:{record['eventName']}"}


@contextmanager
def notifying(store: LocalStore, database_url: str) -> Iterator[None]:
    """MinIO's PostgreSQL target's stand-in for the block: every event the local S3 queues is
    written into the events table at ``database_url``, then taken off the local queue (an insert
    that fails leaves it there for the next look)."""
    sqs, queue_url = local_queue(store)
    engine = create_engine(database_url)
    stop = threading.Event()
    table_made = threading.Event()

    def deliver() -> None:
        if not table_made.is_set():
            if not inspect(engine).has_table(minio.EVENTS_TABLE):
                return  # the receiver has not made the table yet: the events wait in the local queue
            table_made.set()
        found = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = found.get("Messages", [])
        if not messages:
            return
        with engine.begin() as connection:
            for message in messages:
                for record in json.loads(message["Body"]).get("Records", []):
                    connection.execute(
                        TARGET_INSERT,
                        {
                            "time": datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00")),
                            "data": json.dumps({"Records": [minio_record(record)]}),
                        },
                    )
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
        )

    def run() -> None:
        while not stop.wait(NOTIFY_INTERVAL):
            deliver()

    worker = threading.Thread(target=run, name="minio-notify-postgres", daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(timeout=10)
        engine.dispose()


@contextmanager
def shipped_store(*, engine: str = "applier", events_database: str | None = None) -> Iterator[LocalStore]:
    """The sandbox's entry (the backend table's ``stand_in``): the stand-in as shipped, its target
    writing into ``events_database`` (default: the sandbox's own learning store)."""
    with (
        local_store(engine=engine, tamper=as_minio, base_of=STACK, semantics=MINIO) as store,
        notifying(store, events_database or f"sqlite:///{store.learning_store}"),
    ):
        yield store
