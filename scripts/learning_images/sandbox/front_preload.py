"""What a front loads before it serves, imported once by the fork server its fronts fork from
(``learning_images.sandbox.local.start_front``), so each front inherits it: moto's server, the
backends the sandbox's requests reach (moto imports each at its first request), and their botocore
service models, which moto reads and parses at each service's first request (about 0.7 s of a
front's CPU in a sandbox run, py-spy) and keeps for the process."""

from __future__ import annotations

import moto.iam.responses
import moto.kms.responses
import moto.moto_server.werkzeug_app
import moto.s3.responses
import moto.sqs.responses
import moto.sts.responses
import trustme
from moto.core.utils import get_service_model

import learning_images.sandbox.front

#: The services the sandbox's requests reach.
SERVICES = ("s3", "iam", "sts", "sqs", "kms")

for _service in SERVICES:
    get_service_model(_service)

__all__ = ["learning_images", "moto", "trustme"]
