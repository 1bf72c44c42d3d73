// @ts-check
// The R2 binding API the gateway uses (`head`, `put` with `onlyIf`, `customMetadata`, `sha256`),
// served over an S3 endpoint: the R2 sandbox's local S3, which stands in for R2's S3 API there.
// A workerd wrapped binding (local only, never deployed): what the gateway writes lands where the
// Command Centre and training tiers read. R2's conditional put maps to S3's If-None-Match: *.
import { AwsClient } from "aws4fetch";

/**
 * @typedef {object} S3Target
 * @property {string} endpoint
 * @property {string} region
 * @property {string} bucket
 * @property {string} access_key_id
 * @property {string} secret_access_key
 */

/** @param {ArrayBuffer} buffer */
function base64(buffer) {
  return btoa(String.fromCharCode(...new Uint8Array(buffer)));
}

/** @param {S3Target} target */
export default function (target) {
  const aws = new AwsClient({
    accessKeyId: target.access_key_id,
    secretAccessKey: target.secret_access_key,
    service: "s3",
    region: target.region,
    retries: 0,
  });
  /** @param {string} key */
  const url = (key) => `${target.endpoint.replace(/\/$/, "")}/${target.bucket}/${encodeURIComponent(key)}`;
  return {
    /** @param {string} key */
    async head(key) {
      const response = await aws.fetch(url(key), { method: "HEAD" });
      return response.ok ? { key, etag: (response.headers.get("etag") || "").replaceAll('"', "") } : null;
    },
    /**
     * @param {string} key
     * @param {ArrayBuffer} body
     * @param {{onlyIf?: {etagDoesNotMatch?: string}, httpMetadata?: {contentType?: string},
     *          customMetadata?: Record<string, string>, sha256?: ArrayBuffer}} options
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
      if (!response.ok) throw new Error(`the local S3 answered ${response.status}: ${await response.text()}`);
      return { key, etag: (response.headers.get("etag") || "").replaceAll('"', "") };
    },
  };
}
