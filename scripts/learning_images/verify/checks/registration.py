"""Registration (registration.*): the probe's upload appears in ``learning_samples`` as trainable
within a bound, and its erasure marks the row erased. Asked of the learning store the receiver
writes (``--database-url-file``); SQLAlchemy is imported only when one is given."""

from __future__ import annotations

import time
from collections.abc import Callable

from learning_images.verify.base import VerifierBase
from learning_images.verify.probes import attempt

REGISTERED, ERASED = "registration.registered", "registration.erased"


class RegistrationChecks(VerifierBase):
    def _wait_for(self, state: str, read: Callable[[], str | None]) -> tuple[bool, str]:
        deadline = time.monotonic() + self.wait_registration
        seen = read()
        while seen != state and time.monotonic() < deadline:
            time.sleep(0.5)
            seen = read()
        return seen == state, f"learning_samples row: {seen or 'none'}"

    def check_registration(self) -> None:
        titles = {
            REGISTERED: "the probe's upload is registered in learning_samples, trainable",
            ERASED: "its erasure marks the row erased",
        }
        why = ""
        if self.outputs.registration is None:
            why = "the stack declares no object-event source (registration off)"
        elif self.learning_store is None:
            why = "no learning store to read (--database-url-file)"
        elif not self.main_key:
            why = "the valid upload was refused"
        if why:
            for rule, title in titles.items():
                self.skip(rule, title, why)
            return
        from learning_images.registry.database import connect, state_of  # noqa: PLC0415 (the [registry] extra)

        assert self.learning_store is not None
        engine = connect(self.learning_store)
        reference = self.outputs.reference(self.main_key)
        try:
            good, seen = self._wait_for("trainable", lambda: state_of(engine, reference))
            self.verdict(
                REGISTERED, titles[REGISTERED], good, seen, f"not registered within {self.wait_registration:.0f}s"
            )
            if not good:
                self.skip(ERASED, titles[ERASED], "the probe was not registered")
                return
            key = self.main_key
            if self.outputs.capabilities.object_versions:
                self.erase_every_version(key)
            else:
                cc = self.s3["command-centre"]
                attempt(f"command-centre: DeleteObject {key}", lambda: cc.delete_object(Bucket=self.bucket, Key=key))
            good, seen = self._wait_for("erased", lambda: state_of(engine, reference))
            self.verdict(ERASED, titles[ERASED], good, seen, f"not marked erased within {self.wait_registration:.0f}s")
        finally:
            engine.dispose()
