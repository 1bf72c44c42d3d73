// @ts-check
/**
 * The bucket the gateway writes, when it is not an R2 binding: any S3-compatible bucket (MinIO,
 * Backblaze B2, DigitalOcean Spaces, S3), reached over its S3 API and signed with the credential
 * only the gateway holds (the `S3_SECRET_ACCESS_KEY` secret). It offers the one R2 binding call
 * the gateway makes, `put` with `onlyIf`, so the gateway's rules are the same code either way.
 *
 * Create-only rests on the store's conditional write (`If-None-Match: *`, answered 412 when the
 * key exists): a store that ignores the header would overwrite, so each backend's row must say whether
 * its S3 API honours it.
 */
import { AwsClient } from "aws4fetch";

/**
 * @typedef {object} S3Target
 * @property {string} endpoint           the store's S3 endpoint (https://…)
 * @property {string} region             the region its requests are signed for
 * @property {string} bucket             the bucket's name at the store
 * @property {string} access_key_id
 * @property {string} secret_access_key
 */

/**
 * @typedef {object} PutOptions
 * @property {{etagDoesNotMatch?: string}} [onlyIf]
 * @property {{contentType?: string}} [httpMetadata]
 * @property {Record<string, string>} [customMetadata]
 * @property {ArrayBuffer} [sha256]
 */

/** @typedef {{ key: string, etag: string }} Stored */

/** @param {ArrayBuffer} buffer */
function base64(buffer) {
  return btoa(String.fromCharCode(...new Uint8Array(buffer)));
}

/**
 * @param {S3Target} target
 */
export function s3Bucket(target) {
  const aws = new AwsClient({
    accessKeyId: target.access_key_id,
    secretAccessKey: target.secret_access_key,
    service: "s3",
    region: target.region,
    retries: 0, // a failed write is the city's to retry: it answers 500 InternalError
  });
  /** @param {string} key */
  const url = (key) => `${target.endpoint.replace(/\/$/, "")}/${target.bucket}/${encodeURIComponent(key)}`;
  return {
    /**
     * R2's `put`: null when `onlyIf` is not met (the key is taken), as R2 answers.
     * @param {string} key
     * @param {ArrayBuffer} body
     * @param {PutOptions} options
     * @returns {Promise<Stored | null>}
     */
    async put(key, body, options) {
      /** @type {Record<string, string>} */
      const headers = {};
      if (options.onlyIf?.etagDoesNotMatch === "*") headers["if-none-match"] = "*";
      if (options.httpMetadata?.contentType) headers["content-type"] = options.httpMetadata.contentType;
      if (options.sha256) headers["x-amz-checksum-sha256"] = base64(options.sha256);
      for (const [name, value] of Object.entries(options.customMetadata || {})) headers[`x-amz-meta-${name}`] = value;
      const response = await aws.fetch(url(key), { method: "PUT", headers, body });
      if (response.status === 412) return null;
      if (!response.ok) throw new Error(`the store answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
      return { key, etag: (response.headers.get("etag") || "").replaceAll('"', "") };
    },
  };
}
