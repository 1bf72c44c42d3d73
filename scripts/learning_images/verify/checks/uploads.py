"""A valid upload read back (upload.*), and every upload the contract refuses (refuse.*)."""

from __future__ import annotations

from learning_images import contract
from learning_images.verify.base import VerifierBase
from learning_images.verify.probes import attempt, new_key


class UploadChecks(VerifierBase):
    """A valid upload read back (upload.*), and every upload the contract refuses (refuse.*)."""

    def check_valid_upload(self) -> None:
        key = new_key()
        fields = self.fields()
        upload = self.put("city", key, tags=fields)
        self.expect("upload.accepted", "the probe city's valid upload is accepted", upload, allowed=True)
        if not upload.ok:
            for rule in ("upload.read-back", "upload.encrypted", "upload.reference"):
                self.skip(rule, "needs the valid upload", "the valid upload was refused")
            return
        self.main_key = key
        cc = self.s3["command-centre"]
        head = attempt(f"command-centre: HeadObject {key}", lambda: cc.head_object(Bucket=self.bucket, Key=key))
        tags = attempt(
            f"command-centre: GetObjectTagging {key}", lambda: cc.get_object_tagging(Bucket=self.bucket, Key=key)
        )
        metadata = head.response.get("Metadata", {})
        tag_set = {t["Key"]: t["Value"] for t in tags.response.get("TagSet", [])}
        expected_metadata = {contract.metadata_key(k): v for k, v in fields.items()}
        identical = (
            head.ok
            and metadata == expected_metadata
            and (not self.outputs.capabilities.object_tags or (tags.ok and tag_set == fields))
        )
        self.verdict(
            "upload.read-back",
            "the Command Centre reads it back with identical metadata and tags",
            identical,
            f"{head}; {tags}",
            f"metadata {metadata}, tags {tag_set}",
        )
        encrypted = (
            head.response.get("ServerSideEncryption") == "aws:kms"
            and head.response.get("SSEKMSKeyId") == self.outputs.kms_key_arn
        )
        self.verdict(
            "upload.encrypted",
            "it is encrypted with the stack's KMS key",
            encrypted,
            head,
            f"encryption {head.response.get('ServerSideEncryption')} key {head.response.get('SSEKMSKeyId')}",
        )
        reference = self.outputs.reference(key)
        good = reference == f"{self.outputs.capabilities.reference_scheme}://{self.bucket}/{key}"
        self.verdict(
            "upload.reference",
            "its image_reference is in the backend's format",
            good,
            reference,
        )

    # --- 3. refusals -----------------------------------------------------------------------------

    def check_refusals(self) -> None:
        if self.main_key:
            again = self.put("city", self.main_key)
            self.expect(
                "refuse.overwrite",
                "the same key uploaded again is refused",
                again,
                allowed=False,
                refused_with={"PreconditionFailed", "412"},
            )
        else:
            self.skip("refuse.overwrite", "the same key uploaded again is refused", "the valid upload was refused")
        self.conditional(
            "refuse.without-if-none-match",
            "an upload without If-None-Match is refused",
            lambda: self.put("city", conditional=False),
        )
        self.conditional(
            "refuse.unsure-label",
            "an upload labelled unsure is refused",
            lambda: self.put("city", tags=self.fields(label_status=contract.Label.UNSURE.value)),
        )
        self.conditional(
            "refuse.missing-tag",
            "an upload missing a metadata tag is refused",
            lambda: self.put("city", tags=self.fields(camera_id="")),
        )
        self.conditional(
            "refuse.other-city",
            "an upload tagged as another city is refused",
            lambda: self.put("city", tags=self.fields(city_id="another-city")),
        )
        self.conditional(
            "refuse.key-with-slash",
            "a key with '/' is refused",
            lambda: self.put("city", f"paris/{new_key()}"),
        )
        self.conditional(
            "refuse.key-not-uuid",
            "a key that is not <uuid>.jpg is refused",
            lambda: self.put("city", "not-a-uuid.png"),
        )
        self.conditional(
            "refuse.blank-metadata",
            "an upload with a blank metadata value is refused",
            lambda: self.put("city", tags={**self.fields(), contract.CAMERA_ID: ""}),
        )
        self.conditional(
            "refuse.not-jpeg",
            "an upload whose body is not a JPEG is refused",
            lambda: self.put("city", body=b"\x89PNG\r\n\x1a\nprobe-not-a-jpeg"),
        )
        self.conditional(
            "refuse.lock-headers",
            "an upload that sets its own Object Lock retention is refused",
            lambda: self.put("city", lock=True),
        )
        if self.main_key:
            key = self.main_key
            # s3:PutObjectTagging is also the tag part of every upload: the refusal rests on the
            # stored object's tags (s3:ExistingObjectTag).
            self.conditional(
                "refuse.tag-rewrite",
                "a tag rewrite is refused, even to the Command Centre",
                lambda: attempt(
                    f"command-centre: PutObjectTagging {key}",
                    lambda: self.s3["command-centre"].put_object_tagging(
                        Bucket=self.bucket,
                        Key=key,
                        Tagging={"TagSet": [{"Key": contract.LABEL_STATUS, "Value": "changed"}]},
                    ),
                ),
            )
