"""An existing program (a training platform with its own bucket and job role) that adds the store.

The store reads none of this stack's configuration and names everything it declares after itself,
so it sits beside what was there; the platform wires the store's outputs into its own resources.
"""

import json

import pulumi
import pulumi_aws as aws

from learning_images_infra.component import LearningImageStore

# --- what the stack already had ----------------------------------------------------------------
artefacts = aws.s3.Bucket("model-artefacts", force_destroy=False)
job_role = aws.iam.Role(
    "training-job",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    ),
)

# --- the store, added ----------------------------------------------------------------------------
images = LearningImageStore(
    "images",
    {
        "backend": "aws",
        "region": "eu-west-1",
        "replica_region": "eu-central-1",
        "city_ids": ["amsterdam", "berlin", "copenhagen"],
        "tags": {"team": "ml-platform"},
    },
)

# The training job reads images by assuming the store's read-only training role, nothing more.
aws.iam.RolePolicy(
    "training-job-reads-learning-images",
    role=job_role.name,
    policy=images.training_role_arn.apply(
        lambda arn: json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": arn}]}
        )
    ),
)

pulumi.export("artefacts_bucket", artefacts.bucket)
pulumi.export("learning_images_bucket", images.bucket_name)
pulumi.export("learning_images_training_role", images.training_role_arn)
