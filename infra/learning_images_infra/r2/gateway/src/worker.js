// @ts-check
/**
 * The R2 upload gateway: the one way a city reaches the bucket.
 *
 * R2 has no bucket policy, so a city holding an R2 token could read every city's images,
 * upload as another city and skip every upload rule. Here cities hold no R2 credential at all:
 * they sign an S3 PutObject with a per-city key the stack issues, and this Worker, bound to the
 * bucket, refuses everything else. It answers as S3 does (status and XML error code), so the
 * project's boto3 uploader and verifier use it as an ordinary S3 endpoint.
 *
 * The rules are data: `env.CONTRACT` is generated from `learning_images.contract` by the stack
 * (`learning_images.gateway.worker_contract`), never restated here. City keys live in the
 * `CITIES` KV namespace (access key id -> city), so onboarding or revoking a city writes or
 * deletes one KV entry and never redeploys this code. A city's secret is derived from the
 * gateway secret and its key id (HMAC-SHA256), so KV holds no secret.
 *
 * Plain JavaScript, type-checked by `tsc --checkJs` against the Workers runtime's own types:
 * the stack uploads `dist/worker.js` as it is, with no build step at deploy time.
 */
import { AwsV4Signer } from "aws4fetch";
import { s3Bucket } from "./s3-bucket.js";

/**
 * @typedef {object} Contract
 * @property {string} bucket             the one bucket this gateway writes (path-style requests name it)
 * @property {string} key_pattern        the object key, whole (contract.OBJECT_KEY_PATTERN)
 * @property {string[]} required_metadata  metadata that must be present and non-blank
 * @property {string[]} optional_metadata  metadata that may also be present (nothing else may)
 * @property {string} city_field           the metadata naming the uploading city
 * @property {string} label_field          the metadata carrying the label
 * @property {string[]} upload_labels      the labels an upload may carry
 * @property {string} sha256_field         the metadata carrying the image's SHA-256 (hex), when sent
 * @property {string} content_type         the only content type
 * @property {number[]} jpeg_magic         the bytes every image starts with
 * @property {number} max_object_bytes     the largest image accepted
 * @property {string[]} signed_headers     headers that must be signed whenever they are sent
 * @property {string[]} allowed_amz_headers x-amz-* headers an upload may carry besides metadata
 * @property {Record<string, string>} metadata_patterns  what each metadata value must match, whole
 * @property {string} control_characters   characters no metadata value may hold (C0, C1)
 * @property {string} access_key_pattern   every access key id the gateway issues
 * @property {string} signing_region       the region requests are signed for
 * @property {number} max_metadata_bytes   user metadata, keys and values, at most
 * @property {number} max_clock_skew_seconds how far a request's signing time may be from ours
 * @property {string} events_path          where a store's event webhook delivers (B2's)
 * @property {string} event_signature_header the header a delivery's signature is in
 * @property {string} event_signature_prefix what precedes its hex HMAC-SHA256 of the body
 * @property {number} max_event_body_bytes  the largest delivery read
 */

/**
 * @typedef {object} Env
 * @property {R2Bucket} [BUCKET]          the R2 bucket it writes, bound (on R2)
 * @property {string} [S3_ENDPOINT]       or an S3-compatible bucket it writes (on another backend):
 * @property {string} [S3_REGION]         its endpoint, signing region and bucket (plain text bindings),
 * @property {string} [S3_BUCKET]
 * @property {string} [S3_ACCESS_KEY_ID]  and the credential only the gateway holds (secret bindings)
 * @property {string} [S3_SECRET_ACCESS_KEY]
 * @property {Queue} [EVENTS]            the queue a store's events go to, for the receiver (B2's webhooks)
 * @property {string} [EVENTS_SIGNING_SECRET] and the secret their deliveries are signed with
 * @property {KVNamespace} CITIES
 * @property {string} GATEWAY_SECRET
 * @property {Contract} CONTRACT
 */

/** @typedef {{ city_id: string }} CityEntry */

const ALGORITHM = "AWS4-HMAC-SHA256";
/** Domain separation of derived city secrets; the stack derives them the same way. */
const SECRET_CONTEXT = "learning-images-gateway/v1/";
const META = "x-amz-meta-";
const encoder = new TextEncoder();

/** A refusal, answered as S3 answers it. */
class S3Error extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** @param {string} message */
const denied = (message) => new S3Error(403, "AccessDenied", message);

/**
 * @param {string} text
 * @returns {string}
 */
function xmlEscape(text) {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * @param {S3Error} error
 * @param {string} resource
 * @param {string} requestId
 */
function errorResponse(error, resource, requestId) {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${error.code}</Code><Message>${xmlEscape(error.message)}</Message>` +
    `<Resource>${xmlEscape(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
  return new Response(body, {
    status: error.status,
    headers: { "content-type": "application/xml", "x-amz-request-id": requestId },
  });
}

/** @param {ArrayBuffer} buffer */
function hex(buffer) {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** @param {ArrayBuffer} buffer */
function base64(buffer) {
  return btoa(String.fromCharCode(...new Uint8Array(buffer)));
}

/**
 * A city's secret access key: HMAC-SHA256(gateway secret, context + key id), as hex.
 * @param {string} gatewaySecret
 * @param {string} accessKeyId
 */
async function citySecret(gatewaySecret, accessKeyId) {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(gatewaySecret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return hex(await crypto.subtle.sign("HMAC", key, encoder.encode(SECRET_CONTEXT + accessKeyId)));
}

/**
 * @param {string} a
 * @param {string} b
 */
function sameSecret(a, b) {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  return left.byteLength === right.byteLength && crypto.subtle.timingSafeEqual(left, right);
}

/**
 * `AWS4-HMAC-SHA256 Credential=AKID/20260101/auto/s3/aws4_request, SignedHeaders=a;b, Signature=hex`
 * @param {string | null} header
 */
function parseAuthorization(header) {
  if (!header) throw denied("anonymous requests are refused: sign the upload with the city's key");
  if (!header.startsWith(`${ALGORITHM} `)) {
    throw new S3Error(400, "InvalidArgument", `only ${ALGORITHM} (Signature Version 4) is accepted`);
  }
  /** @type {Record<string, string>} */
  const parts = {};
  for (const part of header.slice(ALGORITHM.length + 1).split(",")) {
    const at = part.indexOf("=");
    if (at > 0) parts[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  const scope = (parts.Credential || "").split("/");
  if (scope.length !== 5 || scope[3] !== "s3" || scope[4] !== "aws4_request" || !parts.SignedHeaders || !parts.Signature) {
    throw new S3Error(400, "AuthorizationHeaderMalformed", "the authorization header is malformed");
  }
  const [accessKeyId, date, region] = scope;
  return { accessKeyId, date, region, signedHeaders: parts.SignedHeaders.split(";"), signature: parts.Signature };
}

/**
 * A header value as SigV4 signs it: trimmed, runs of spaces collapsed (the canonical headers of
 * the Signature Version 4 signing process). What the gateway judges and stores must be this.
 * @param {string} value
 */
function canonical(value) {
  return value.trim().replace(/ +/g, " ");
}

/** @param {string} amzDate `20260101T000000Z` */
function parseAmzDate(amzDate) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
}

/**
 * Who signed the request: the city whose key signed it, or a refusal as S3 gives it.
 * The signature is recomputed by aws4fetch's SigV4 signer over exactly the headers the client
 * signed, with the city's secret, and compared in constant time.
 * @param {Request} request
 * @param {Env} env
 * @returns {Promise<string>} the city id
 */
async function authenticate(request, env) {
  const auth = parseAuthorization(request.headers.get("authorization"));
  // Before any lookup: a key id no key of ours can have, or another region, is refused as S3 does.
  if (!new RegExp(env.CONTRACT.access_key_pattern).test(auth.accessKeyId)) {
    throw new S3Error(403, "InvalidAccessKeyId", "the access key id does not exist in our records");
  }
  if (auth.region !== env.CONTRACT.signing_region) {
    throw new S3Error(400, "AuthorizationHeaderMalformed", `the region ${auth.region} is wrong; expecting ${env.CONTRACT.signing_region}`);
  }
  const amzDate = request.headers.get("x-amz-date") || "";
  const signedAt = parseAmzDate(amzDate);
  if (Number.isNaN(signedAt) || auth.date !== amzDate.slice(0, 8)) {
    throw new S3Error(400, "AuthorizationHeaderMalformed", "x-amz-date is missing or disagrees with the credential scope");
  }
  if (Math.abs(Date.now() - signedAt) > env.CONTRACT.max_clock_skew_seconds * 1000) {
    throw new S3Error(403, "RequestTimeTooSkewed", "the difference between the request time and the server's time is too large");
  }
  const signed = new Set(auth.signedHeaders);
  for (const [name] of request.headers) {
    const mustSign = name.startsWith("x-amz-") || env.CONTRACT.signed_headers.includes(name);
    if (mustSign && !signed.has(name)) throw denied(`header ${name} must be signed`);
  }
  if (!signed.has("host") || !signed.has("x-amz-content-sha256")) {
    throw denied("host and x-amz-content-sha256 must be signed");
  }
  /** @type {CityEntry | null} */
  const entry = await env.CITIES.get(auth.accessKeyId, "json");
  if (!entry || !entry.city_id) {
    throw new S3Error(403, "InvalidAccessKeyId", "the access key id does not exist in our records");
  }
  const headers = new Headers();
  for (const name of auth.signedHeaders) {
    if (name !== "host") headers.set(name, request.headers.get(name) ?? "");
  }
  const signer = new AwsV4Signer({
    method: request.method,
    url: request.url,
    headers,
    accessKeyId: auth.accessKeyId,
    secretAccessKey: await citySecret(env.GATEWAY_SECRET, auth.accessKeyId),
    service: "s3",
    region: auth.region,
    datetime: amzDate,
    allHeaders: true,
  });
  if (signer.signedHeaders !== auth.signedHeaders.join(";") || !sameSecret(await signer.signature(), auth.signature)) {
    throw new S3Error(403, "SignatureDoesNotMatch", "the request signature we calculated does not match the signature you provided");
  }
  return entry.city_id;
}

/**
 * The contract's upload rules on the request's headers (the body is checked after reading it).
 * @param {Request} request
 * @param {Contract} contract
 * @param {string} city
 * @param {string} key
 */
function checkUpload(request, contract, city, key) {
  if (!new RegExp(contract.key_pattern).test(key)) {
    throw denied(`object key ${JSON.stringify(key)} is not <uuid>.jpg in lowercase hex at the bucket's top level`);
  }
  if (request.headers.get("if-none-match") !== "*") {
    throw denied("every upload must be create-only: send If-None-Match: *");
  }
  const contentType = request.headers.get("content-type");
  if (contentType !== contract.content_type) {
    throw denied(`Content-Type must be ${contract.content_type}, not ${contentType}`);
  }
  const known = new Set([...contract.required_metadata, ...contract.optional_metadata]);
  const control = new RegExp(contract.control_characters);
  /** @type {Record<string, string>} */
  const metadata = {};
  let metadataBytes = 0;
  for (const [name, value] of request.headers) {
    if (name.startsWith(META)) {
      const field = name.slice(META.length);
      if (!known.has(field)) throw denied(`metadata ${field} is not part of the contract`);
      if (control.test(value)) throw denied(`metadata ${field} holds a control character`);
      // The signature covers the canonical form; judge and store exactly that, or refuse the rest.
      if (value !== canonical(value)) {
        throw denied(`metadata ${field} has spaces at its ends or in a row: send the value as it was signed`);
      }
      const pattern = contract.metadata_patterns[field];
      if (value && pattern && !new RegExp(pattern).test(value)) {
        throw denied(`metadata ${field} ${JSON.stringify(value)} is not of the contract's form (${pattern})`);
      }
      metadataBytes += encoder.encode(field).byteLength + encoder.encode(value).byteLength;
      metadata[field] = value;
    } else if (name.startsWith("x-amz-") && !contract.allowed_amz_headers.includes(name)) {
      throw denied(`header ${name} is not accepted on an upload (ACLs, tags, locks, copies and encryption settings are the store's)`);
    }
  }
  for (const field of contract.required_metadata) {
    if (!metadata[field]) throw denied(`metadata ${field} is required and must not be blank`);
  }
  if (metadataBytes > contract.max_metadata_bytes) {
    throw new S3Error(400, "MetadataTooLarge", `your metadata headers exceed the maximum allowed metadata size (${contract.max_metadata_bytes} bytes)`);
  }
  if (!contract.upload_labels.includes(metadata[contract.label_field])) {
    throw denied(`label ${metadata[contract.label_field]} is not uploaded (allowed: ${contract.upload_labels.join(", ")})`);
  }
  if (metadata[contract.city_field] !== city) {
    throw denied(`this key uploads as city ${city}, not ${metadata[contract.city_field]}`);
  }
  const length = Number(request.headers.get("content-length") ?? NaN);
  if (!Number.isInteger(length)) throw new S3Error(411, "MissingContentLength", "you must provide the Content-Length HTTP header");
  if (length > contract.max_object_bytes) {
    throw new S3Error(400, "EntityTooLarge", `the image exceeds the gateway's ${contract.max_object_bytes}-byte limit`);
  }
  const encoding = request.headers.get("content-encoding") || "";
  if (encoding.includes("aws-chunked") || (request.headers.get("x-amz-content-sha256") || "").startsWith("STREAMING-")) {
    throw new S3Error(501, "NotImplemented", "streaming (aws-chunked) uploads are not accepted: send the checksum as a header");
  }
  const checksum = request.headers.get("x-amz-checksum-sha256");
  if (!checksum) throw new S3Error(400, "InvalidRequest", "x-amz-checksum-sha256 is required: the gateway verifies every image");
  return { metadata, length, checksum };
}

/**
 * @param {Request} request
 * @param {Env} env
 * @param {string} requestId
 */
async function handle(request, env, requestId) {
  const url = new URL(request.url);
  if (url.protocol !== "https:") throw denied("requests must use HTTPS");
  const contract = env.CONTRACT;
  // A store's webhook is signed with its own secret, not as a city: it never reaches the bucket.
  if (url.pathname === contract.events_path) return receiveEvents(request, env, requestId);
  // Who asks comes first, so a wrong or revoked key is named as such whatever the request.
  const city = await authenticate(request, env);
  let path;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    throw new S3Error(400, "InvalidURI", "couldn't parse the specified URI");
  }
  const [bucket, ...rest] = path.slice(1).split("/");
  // Any other bucket does not exist here: S3's answer, which the uploader's pre-flight reads.
  if (bucket !== contract.bucket) throw new S3Error(404, "NoSuchBucket", "the specified bucket does not exist");
  const key = rest.join("/");
  const query = [...url.searchParams.keys()].filter((name) => name !== "x-id");
  if (request.method !== "PUT" || !key || query.length > 0) {
    throw denied("the upload gateway accepts exactly one operation: PutObject into the store's bucket");
  }
  const { metadata, length, checksum } = checkUpload(request, contract, city, key);

  const body = await request.arrayBuffer();
  if (body.byteLength !== length) throw new S3Error(400, "IncompleteBody", "the body is shorter or longer than Content-Length");
  const digest = await crypto.subtle.digest("SHA-256", body);
  const payloadHash = request.headers.get("x-amz-content-sha256");
  if (payloadHash !== "UNSIGNED-PAYLOAD" && payloadHash !== hex(digest)) {
    throw new S3Error(400, "XAmzContentSHA256Mismatch", "the provided x-amz-content-sha256 does not match what was computed");
  }
  if (checksum !== base64(digest)) {
    throw new S3Error(400, "BadDigest", "the SHA-256 you specified did not match the calculated checksum");
  }
  const declared = metadata[contract.sha256_field];
  if (declared !== undefined && declared !== hex(digest)) {
    throw new S3Error(400, "BadDigest", `metadata ${contract.sha256_field} does not match the image`);
  }
  const head = new Uint8Array(body, 0, Math.min(body.byteLength, contract.jpeg_magic.length));
  if (!contract.jpeg_magic.every((byte, i) => head[i] === byte)) throw denied("the body is not a JPEG image");

  // Create-only by R2 itself: a conditional put that no existing object can satisfy.
  const stored = await bucketOf(env).put(key, body, {
    onlyIf: { etagDoesNotMatch: "*" },
    httpMetadata: { contentType: contract.content_type },
    customMetadata: metadata,
    sha256: digest,
  });
  if (stored === null) throw new S3Error(412, "PreconditionFailed", "an object with this key is already stored");
  console.log(JSON.stringify({ event: "upload", request_id: requestId, city, key, bytes: length }));
  return new Response(null, {
    status: 200,
    headers: { etag: `"${stored.etag}"`, "x-amz-checksum-sha256": checksum, "x-amz-request-id": requestId },
  });
}

/**
 * A store's event webhook (B2's event notifications): the delivery's signature checked against the
 * signing secret, then each of its events sent to the EVENTS queue, which the receiver pulls. The
 * delivery is answered 200 only once the queue took every event; any failure answers 5xx, and the
 * store delivers again (the receiver's table makes a repeated event harmless).
 * @param {Request} request
 * @param {Env} env
 * @param {string} requestId
 */
async function receiveEvents(request, env, requestId) {
  const contract = env.CONTRACT;
  if (!env.EVENTS || !env.EVENTS_SIGNING_SECRET) throw denied("this gateway receives no store events");
  if (request.method !== "POST") throw new S3Error(405, "MethodNotAllowed", "events are delivered with POST");
  const length = Number(request.headers.get("content-length") ?? NaN);
  if (!Number.isInteger(length)) throw new S3Error(411, "MissingContentLength", "a delivery states its Content-Length");
  if (length > contract.max_event_body_bytes) throw new S3Error(413, "EntityTooLarge", "the delivery is too large");
  const body = await request.arrayBuffer();
  const key = await crypto.subtle.importKey("raw", encoder.encode(env.EVENTS_SIGNING_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const expected = encoder.encode(contract.event_signature_prefix + hex(await crypto.subtle.sign("HMAC", key, body)));
  const given = encoder.encode((request.headers.get(contract.event_signature_header) || "").toLowerCase());
  // In constant time: a comparison that stops early would tell a forger how much of it is right.
  if (given.byteLength !== expected.byteLength || !crypto.subtle.timingSafeEqual(given, expected)) {
    throw denied(`the delivery's ${contract.event_signature_header} does not match its body`);
  }
  let events;
  try {
    events = JSON.parse(new TextDecoder().decode(body)).events;
  } catch {
    throw new S3Error(400, "MalformedJSON", "the delivery is not JSON");
  }
  if (!Array.isArray(events)) throw new S3Error(400, "MalformedJSON", "the delivery has no events array");
  // sendBatch takes at most 100 messages (Cloudflare Queues' limits).
  for (let start = 0; start < events.length; start += 100) {
    await env.EVENTS.sendBatch(events.slice(start, start + 100).map((event) => ({ body: event, contentType: "json" })));
  }
  console.log(JSON.stringify({ event: "events-queued", request_id: requestId, count: events.length }));
  return new Response(JSON.stringify({ queued: events.length }), { status: 200, headers: { "content-type": "application/json" } });
}

/**
 * The bucket the gateway writes: its R2 binding, or the S3-compatible bucket its bindings name.
 * Which one is the deployment's (its bindings), not a test of the backend's name.
 * @param {Env} env
 * @returns {{ put: (key: string, body: ArrayBuffer, options: import("./s3-bucket.js").PutOptions) => Promise<{ etag: string } | null> }}
 */
function bucketOf(env) {
  if (env.BUCKET) return env.BUCKET;
  const { S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY } = env;
  if (!S3_ENDPOINT || !S3_REGION || !S3_BUCKET || !S3_ACCESS_KEY_ID || !S3_SECRET_ACCESS_KEY) {
    throw new Error("the gateway is bound to no bucket: bind BUCKET (R2) or every S3_* setting");
  }
  return s3Bucket({
    endpoint: S3_ENDPOINT,
    region: S3_REGION,
    bucket: S3_BUCKET,
    access_key_id: S3_ACCESS_KEY_ID,
    secret_access_key: S3_SECRET_ACCESS_KEY,
  });
}

/**
 * Read and discard what the client is still sending, without holding it: a refusal answered before
 * the body is read would otherwise close a connection the client is still writing to, and the
 * client would see a reset instead of the S3 error (seen under load on 127.0.0.1). The platform's
 * request-body limit bounds the time this takes.
 * @param {Request} request
 */
async function drain(request) {
  if (!request.body || request.bodyUsed) return;
  try {
    const reader = request.body.getReader();
    while (!(await reader.read()).done) {
      // discard
    }
  } catch {
    // the client went away: nothing left to answer
  }
}

export default {
  /**
   * @param {Request} request
   * @param {Env} env
   * @returns {Promise<Response>}
   */
  async fetch(request, env) {
    const requestId = crypto.randomUUID();
    const resource = new URL(request.url).pathname;
    try {
      return await handle(request, env, requestId);
    } catch (error) {
      if (error instanceof S3Error) {
        console.log(JSON.stringify({ event: "refused", request_id: requestId, code: error.code, resource }));
        await drain(request);
        return errorResponse(error, resource, requestId);
      }
      console.error(JSON.stringify({ event: "error", request_id: requestId, error: String(error) }));
      return errorResponse(new S3Error(500, "InternalError", "the gateway failed; retry the upload"), resource, requestId);
    }
  },
};
