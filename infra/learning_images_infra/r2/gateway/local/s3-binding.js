// @ts-check
// The R2 binding API the gateway uses, served over an S3 endpoint: the R2 sandbox's local S3, which
// stands in for R2's S3 API there. A workerd wrapped binding (local only, never deployed), built on
// the gateway's own S3 target (src/s3-bucket.js): what the gateway writes lands where the Command
// Centre and training tiers read. R2's conditional put maps to S3's If-None-Match: *.
import { s3Bucket } from "../src/s3-bucket.js";

export default s3Bucket;
