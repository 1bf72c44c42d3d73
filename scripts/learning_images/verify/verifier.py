"""The verifier: every area's checks, run in order, with the clean-up of what a stopped run left."""

from __future__ import annotations

import sys
import time

from learning_images.verify.checks.access import AccessChecks
from learning_images.verify.checks.configuration import ConfigurationChecks
from learning_images.verify.checks.registration import RegistrationChecks
from learning_images.verify.checks.replication import ReplicationChecks
from learning_images.verify.checks.tiers import TierChecks
from learning_images.verify.checks.uploads import UploadChecks
from learning_images.verify.journal import noted
from learning_images.verify.probes import CannotVerifyError, Result, attempt


class Verifier(ConfigurationChecks, UploadChecks, TierChecks, AccessChecks, ReplicationChecks, RegistrationChecks):
    """Runs the rules in order against one stack; remembers what it created for cleanup."""

    def clean_up_previous(self) -> None:
        """Probe objects a killed run left (its journal survived it): removed before this run."""
        if self.journal is None:
            return
        if left := noted(self.journal):
            self.created = left
            self.clean_up()
            print(f"removed the probe objects a stopped run left behind: {', '.join(self.created)}", file=sys.stderr)
            self.created = []
        self.journal.unlink(missing_ok=True)

    def preflight(self) -> None:
        """One request, one attempt, before any probe: an endpoint that accepts connections and never
        answers stops the run within one timeout, not after every probe's retries."""
        quick = self.endpoint.client(
            self.sessions.command_centre, "s3", retries={"mode": "standard", "max_attempts": 1}
        )
        attempt(f"command-centre: HeadBucket {self.bucket} (pre-flight)", lambda: quick.head_bucket(Bucket=self.bucket))

    def run(self, deadline: float) -> list[Result]:
        self.deadline = deadline
        steps = [
            self.check_configuration,
            self.check_valid_upload,
            self.check_refusals,
            self.check_tiers,
            self.check_public_access,
            self.check_replication,
            # Last: it erases the probe's upload, which the checks before it read.
            self.check_registration,
        ]
        self.preflight()
        self.clean_up_previous()
        try:
            for step in steps:
                if time.monotonic() > deadline:
                    raise CannotVerifyError(
                        "the time budget ran out before every rule was checked; "
                        "raise --time-budget or check the endpoint's latency"
                    )
                step()
        finally:
            self.clean_up()
            # Kept while anything is left: the next run removes what it names.
            if self.journal is not None and not self.left:
                self.journal.unlink(missing_ok=True)
        return self.results
