"""The resource types the pack judges, by their Pulumi type tokens: pulumi-aws v7's split
``aws.s3.Bucket*`` resources, the Cloudflare R2 and the Google Cloud ones."""

from __future__ import annotations

BUCKET = "aws:s3/bucket:Bucket"


PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"


ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"


LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"


LOGGING = "aws:s3/bucketLogging:BucketLogging"


REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"


KMS_KEY = "aws:kms/key:Key"


ROLE = "aws:iam/role:Role"


ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"


MANAGED_POLICY = "aws:iam/policy:Policy"


R2_BUCKET = "cloudflare:index/r2Bucket:R2Bucket"


R2_MANAGED_DOMAIN = "cloudflare:index/r2ManagedDomain:R2ManagedDomain"


R2_CUSTOM_DOMAIN = "cloudflare:index/r2CustomDomain:R2CustomDomain"


R2_TOKENS = ("cloudflare:index/accountToken:AccountToken", "cloudflare:index/apiToken:ApiToken")


GCS_BUCKET = "gcp:storage/bucket:Bucket"


GCS_KEY = "gcp:kms/cryptoKey:CryptoKey"


GCS_CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"


GCS_GRANTS = ("gcp:storage/bucketIAMMember:BucketIAMMember", "gcp:storage/bucketIAMBinding:BucketIAMBinding")

SQS_QUEUE = "aws:sqs/queue:Queue"
SQS_QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
BUCKET_NOTIFICATION = "aws:s3/bucketNotification:BucketNotification"
R2_QUEUE = "cloudflare:index/queue:Queue"
R2_QUEUE_CONSUMER = "cloudflare:index/queueConsumer:QueueConsumer"
WORKERS_SCRIPT = "cloudflare:index/workersScript:WorkersScript"
R2_EVENT_NOTIFICATION = "cloudflare:index/r2BucketEventNotification:R2BucketEventNotification"
PUBSUB_TOPIC = "gcp:pubsub/topic:Topic"
PUBSUB_SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
PUBSUB_TOPIC_GRANT = "gcp:pubsub/topicIAMMember:TopicIAMMember"
GCS_NOTIFICATION = "gcp:storage/notification:Notification"
MINIO_BUCKET = "minio:index/s3Bucket:S3Bucket"
MINIO_BUCKET_POLICY = "minio:index/s3BucketPolicy:S3BucketPolicy"
MINIO_VERSIONING = "minio:index/s3BucketVersioning:S3BucketVersioning"
MINIO_ENCRYPTION = "minio:index/s3BucketServerSideEncryption:S3BucketServerSideEncryption"
MINIO_LIFECYCLE = "minio:index/ilmPolicy:IlmPolicy"
MINIO_POLICY = "minio:index/iamPolicy:IamPolicy"
MINIO_NOTIFICATION = "minio:index/s3BucketNotification:S3BucketNotification"
SPACES_BUCKET = "digitalocean:index/spacesBucket:SpacesBucket"
SPACES_BUCKET_POLICY = "digitalocean:index/spacesBucketPolicy:SpacesBucketPolicy"
SPACES_KEY = "digitalocean:index/spacesKey:SpacesKey"
#: The project's own dynamic providers' resources (the B2 bucket and keys), told apart by their props.
DYNAMIC = "pulumi-python:dynamic:Resource"
