"""The smallest AWS program with the store: typed arguments, an explicit provider, no stack config."""

import pulumi
import pulumi_aws as aws

from learning_images_infra.component import LearningImageStore

# The store's resources follow their parent's provider: the region is the program's, not a setting.
eu_west_1 = aws.Provider("eu-west-1", region="eu-west-1")

store = LearningImageStore(
    "images",
    {
        "backend": "aws",
        "region": "eu-west-1",
        "replica_region": "eu-central-1",  # replication is on by default: a store without a DR copy must say so
        "city_ids": ["amsterdam", "berlin"],
    },
    pulumi.ResourceOptions(providers={"aws": eu_west_1}),
)

pulumi.export("bucket_name", store.bucket_name)
pulumi.export("command_centre_role_arn", store.command_centre_role_arn)
pulumi.export("training_role_arn", store.training_role_arn)
pulumi.export("city_credentials", store.city_credentials)  # a Pulumi secret
