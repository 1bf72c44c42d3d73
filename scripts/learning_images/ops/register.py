"""``learning-images-register``: the Command Centre's receiver. Every object the store keeps becomes
a row of ``learning_samples``; every object it loses is marked erased there.

    learning-images-register --stack prod                  # runs until SIGTERM
    learning-images-register --outputs outputs.json --once # what is queued now, then exits

It pulls the store's object events (the outputs' ``registration``) in batches, reads each object's
metadata (and tags, where the backend has them), checks them against the contract and writes the
batch in one transaction; only then does it acknowledge the batch's messages. So a kill at any
instant loses nothing (an unacknowledged message comes back) and registers nothing twice (the
table's unique reference). Receivers side by side on one queue share its messages (competing
consumers): that is how registration grows past one machine.

A message whose object cannot be read is left for another try; on its last receive the receiver
moves it to the dead-letter queue with the reason. A test event, another bucket's event or a
message that is not an event is acknowledged and counted. The database being unreachable stops
the run with exit 2 and acknowledges nothing.

Exit codes: 0 done (or stopped by a first SIGTERM/Ctrl-C after its batch); 1 with ``--once``,
some message failed (it is back in the queue or dead-lettered); 2 usage, credentials, the store
or the database unavailable; 130 a second signal (unacknowledged messages return to the queue).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from learning_images.ops import arguments
from learning_images.ops.arguments import add_database_arguments
from learning_images.ops.clients import Endpoint, assume, key_session, new_session
from learning_images.outputs import OutputsError, StackOutputs, add_outputs_arguments, outputs_from_args

if TYPE_CHECKING:  # the [registry] extra: imported when the command runs (main), not for --help
    from learning_images.registry.events import ObjectEvent
    from learning_images.registry.registrar import Outcome, Registrar
    from learning_images.registry.sources import Message, Source

SESSION_NAME = "register"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = arguments.parser("register", "Register every stored image in learning_samples from the store's events.")
    add_outputs_arguments(parser)
    add_database_arguments(parser)
    parser.add_argument("--endpoint-url", help="S3/SQS/STS endpoint (default: the backend's own)")
    parser.add_argument("--once", action="store_true", help="register what is queued now, then exit (for a scheduler)")
    parser.add_argument(
        "--wait",
        type=int,
        choices=range(1, 21),
        default=20,
        metavar="SECONDS",
        help="long-poll wait of each receive, 1 to 20 (default: 20; a stop takes effect within it)",
    )
    parser.add_argument(
        "--batch", type=int, choices=range(1, 11), default=10, metavar="N", help="messages per batch, 1 to 10"
    )
    parser.add_argument(
        "--workers",
        type=int,
        choices=range(1, 33),
        default=4,
        metavar="N",
        help="batches in flight at once, 1 to 32 (default: 4): each a competing consumer of the queue",
    )
    parser.add_argument("--quiet", action="store_true", help="print the total only, not a line per batch")
    return parser.parse_args(argv)


def receiver_session(outputs: StackOutputs, operator: boto3.Session | None, endpoint: Endpoint) -> boto3.Session:
    """The receiver's own credential: its role, assumed by the operator (a Command Centre principal),
    or the key the outputs hold for it (R2, Cloud Storage)."""
    assert outputs.registration is not None
    if outputs.registration.receiver_credentials is not None:
        return key_session(outputs.registration.receiver_credentials, outputs.region)
    role = outputs.registration.receiver_role_arn
    operator = operator or new_session(region_name=outputs.region)
    return assume(operator, role, endpoint, SESSION_NAME) if role else operator


def handle(batch: list[Message], registrar: Registrar, source: Source, bucket: str) -> Outcome:
    """One batch: its rows committed, then its messages acknowledged. Raises DatabaseError with
    nothing acknowledged."""
    from learning_images.registry.events import NotAnEventError  # noqa: PLC0415
    from learning_images.registry.registrar import Outcome  # noqa: PLC0415

    outcome = Outcome()
    parsed: list[tuple[Message, list[ObjectEvent]]] = []
    done: list[Message] = []
    for message in batch:
        try:
            parsed.append((message, source.events(message, bucket)))
        except NotAnEventError as why:
            outcome.ignored += 1
            outcome.reasons.append(f"message {message.id}: ignored, {why}")
            done.append(message)
    try:
        outcome.add(registrar.register([event for _, events in parsed for event in events]))
        done += [message for message, _ in parsed]
    except (ClientError, BotoCoreError):
        # One object could not be read: register message by message, so it holds back only itself.
        for message, events in parsed:
            try:
                outcome.add(registrar.register(events))
                done.append(message)
            except (ClientError, BotoCoreError) as exc:
                outcome.failed += 1
                reason = f"cannot read its object: {exc}"
                if source.last_receive(message):
                    source.dead_letter(message, reason)
                    reason += " (moved to the dead-letter queue)"
                outcome.reasons.append(f"message {message.id}: {reason}")
    source.acknowledge(done)
    return outcome


class Stop:
    """A first SIGTERM or Ctrl-C ends the run after its batch; a second ends it at once (exit 130):
    every message not yet acknowledged returns to the queue."""

    def __init__(self) -> None:
        self.requested = threading.Event()

    def __enter__(self) -> Stop:
        self.previous = {sig: signal.signal(sig, self._signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def _signal(self, signum: int, frame: FrameType | None) -> None:
        if self.requested.is_set():
            os.write(2, b"\nstopped at once: unacknowledged messages return to the queue\n")
            os._exit(130)
        self.requested.set()
        os.write(2, b"\nstopping after this batch (again to stop at once)\n")


class Receiver:
    """What a run holds: the outputs, the learning store, the queue and the registrar."""

    def __init__(self, args: argparse.Namespace, operator: boto3.Session | None) -> None:
        from learning_images.registry.database import connect, database_url, upgrade  # noqa: PLC0415
        from learning_images.registry.registrar import Registrar  # noqa: PLC0415
        from learning_images.registry.sources import open_source  # noqa: PLC0415

        outputs = outputs_from_args(args)
        assert outputs is not None  # the argument group is required
        if outputs.registration is None:
            raise OutputsError(
                "this stack declares no object-event source (its `registration` output is empty): turn "
                "`registration` on, or register by listing with learning-images-reconcile"
            )
        self.outputs = outputs
        self.url = database_url(args)
        endpoint = Endpoint(url=args.endpoint_url or outputs.endpoint_url, region=outputs.region, timeout=30.0)
        engine = connect(self.url)
        upgrade(engine)
        session = receiver_session(outputs, operator, endpoint)
        self.source = open_source(
            outputs.registration, aws=lambda service: endpoint.client(session, service), engine=engine
        )
        self.registrar = Registrar(engine, outputs, endpoint.client(session, "s3"))

    def batch(self, count: int, wait: int) -> tuple[int, Outcome | None]:
        """One receive and its batch; (messages, outcome), (0, None) when nothing was queued."""
        from learning_images.registry.database import DatabaseError  # noqa: PLC0415

        messages = self.source.receive(count, wait)
        if not messages:
            return 0, None
        try:
            return len(messages), handle(messages, self.registrar, self.source, self.outputs.bucket_name)
        except DatabaseError:
            self.source.release(messages)
            raise


def main(argv: list[str] | None = None, *, operator: boto3.Session | None = None) -> int:
    args = parse_args(argv)
    try:
        from learning_images.registry.database import DatabaseError, describe  # noqa: PLC0415
        from learning_images.registry.registrar import Outcome  # noqa: PLC0415
        from learning_images.registry.sources import SourceError  # noqa: PLC0415
    except ImportError:
        print(
            "error: learning-images-register needs the [registry] extra (SQLAlchemy, Alembic, psycopg)", file=sys.stderr
        )
        return 2
    try:
        receiver = Receiver(args, operator)
    except (OutputsError, DatabaseError, SourceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ClientError, BotoCoreError) as exc:
        print(f"error: cannot reach the queue as the receiver: {exc}", file=sys.stderr)
        return 2
    total, lock, problems = Outcome(), threading.Lock(), []
    counted = [0]

    def consume(stop: threading.Event) -> None:
        """One loop of receive, register, acknowledge: ``--workers`` of them share the queue as
        competing consumers do, each batch its own transaction."""
        while not stop.is_set():
            try:
                count, outcome = receiver.batch(args.batch, min(args.wait, 2) if args.once else args.wait)
            except DatabaseError as exc:
                problems.append(f"error: {exc} at {describe(receiver.url)}; every message of the batch stays queued")
                stop.set()
                return
            except (ClientError, BotoCoreError, SourceError) as exc:
                problems.append(f"error: the queue failed ({exc}); unacknowledged messages return to it")
                stop.set()
                return
            except Exception as exc:  # a bug: stop the run loudly, never lose a worker silently
                problems.append(f"error: unexpected {type(exc).__name__}: {exc}; unacknowledged messages return")
                stop.set()
                raise
            if outcome is None:
                if args.once:
                    return
                continue
            with lock:
                counted[0] += count
                total.add(outcome)
                if not args.quiet:
                    print(f"batch of {count}: {outcome.line()}", flush=True)
                    for reason in outcome.reasons:
                        print(f"  {reason}", flush=True)

    with Stop() as stop:
        loops = [threading.Thread(target=consume, args=(stop.requested,)) for _ in range(args.workers)]
        for loop in loops:
            loop.start()
        for loop in loops:
            # join with a timeout: the main thread must stay free to take the signals
            while loop.is_alive():
                loop.join(timeout=0.5)
    if problems:
        print(problems[0], file=sys.stderr)
        return 2
    print(f"register: {counted[0]} messages; {total.line()}", flush=True)
    return 1 if args.once and total.failed else 0


if __name__ == "__main__":
    sys.exit(main())
