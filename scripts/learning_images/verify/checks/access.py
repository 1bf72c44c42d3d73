"""Anonymous requests and plain HTTP, refused (access.*)."""

from __future__ import annotations

import botocore

from learning_images.ops.clients import new_session
from learning_images.verify.base import VerifierBase
from learning_images.verify.probes import attempt, new_key


class AccessChecks(VerifierBase):
    """Anonymous requests and plain HTTP, refused (access.*)."""

    def check_public_access(self) -> None:
        anonymous = self.endpoint.client(new_session(), "s3", signature_version=botocore.UNSIGNED)
        key = self.main_key or new_key()
        read = attempt(f"anonymous: GetObject {key}", lambda: anonymous.get_object(Bucket=self.bucket, Key=key))
        self.expect("access.anonymous-read-refused", "an anonymous read is refused", read, allowed=False)
        listing = attempt(
            f"anonymous: ListObjectsV2 {self.bucket}", lambda: anonymous.list_objects_v2(Bucket=self.bucket)
        )
        self.expect("access.anonymous-list-refused", "an anonymous listing is refused", listing, allowed=False)

        rule, title = "access.plain-http-refused", "requests over plain HTTP are refused"
        if not self.outputs.capabilities.plain_http_listener:  # a probe would only time out
            self.skip(rule, title, "")
            return
        url = self.plain_http_url or (self.endpoint.url or f"https://s3.{self.outputs.region}.amazonaws.com").replace(
            "https://", "http://", 1
        )
        plain = self.sessions.command_centre.client("s3", endpoint_url=url, config=self.endpoint.config())
        got = attempt(
            f"command-centre: GetObject {key} over {url}", lambda: plain.get_object(Bucket=self.bucket, Key=key)
        )
        self.expect(rule, title, got, allowed=False)
