"""A store on Cloudflare R2 with its upload gateway on the account's workers.dev subdomain.

The Cloudflare provider reads CLOUDFLARE_API_TOKEN: a token allowed to edit R2, account API tokens,
Workers scripts and Workers KV.
"""

import pulumi

from learning_images_infra.component import LearningImageStore

store = LearningImageStore(
    "images",
    {
        "backend": "r2",
        "cloudflare_account_id": "0123456789abcdef0123456789abcdef",
        "r2_jurisdiction": "eu",
        "r2_workers_subdomain": "example",  # the gateway answers at https://<script>.example.workers.dev
        # What R2 does not have must be turned off, not silently dropped.
        "replication": False,
        "access_logging": False,
        "city_ids": ["amsterdam", "berlin"],
    },
)

pulumi.export("endpoint_url", store.endpoint_url)  # the Command Centre's and training's endpoint
pulumi.export("city_endpoint_url", store.city_endpoint_url)  # the upload gateway, where cities upload
pulumi.export("city_credentials", store.city_credentials)  # gateway keys, a Pulumi secret
pulumi.export("command_centre_credentials", store.command_centre_credentials)
