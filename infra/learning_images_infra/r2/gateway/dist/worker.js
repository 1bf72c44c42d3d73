// node_modules/aws4fetch/dist/aws4fetch.esm.mjs
/**
 * @license MIT <https://opensource.org/licenses/MIT>
 * @copyright Michael Hart 2024
 */
var encoder = new TextEncoder();
var HOST_SERVICES = {
  appstream2: "appstream",
  cloudhsmv2: "cloudhsm",
  email: "ses",
  marketplace: "aws-marketplace",
  mobile: "AWSMobileHubService",
  pinpoint: "mobiletargeting",
  queue: "sqs",
  "git-codecommit": "codecommit",
  "mturk-requester-sandbox": "mturk-requester",
  "personalize-runtime": "personalize"
};
var UNSIGNABLE_HEADERS = /* @__PURE__ */ new Set([
  "authorization",
  "content-type",
  "content-length",
  "user-agent",
  "presigned-expires",
  "expect",
  "x-amzn-trace-id",
  "range",
  "connection"
]);
var AwsClient = class {
  constructor({ accessKeyId, secretAccessKey, sessionToken, service, region, cache, retries, initRetryMs }) {
    if (accessKeyId == null) throw new TypeError("accessKeyId is a required option");
    if (secretAccessKey == null) throw new TypeError("secretAccessKey is a required option");
    this.accessKeyId = accessKeyId;
    this.secretAccessKey = secretAccessKey;
    this.sessionToken = sessionToken;
    this.service = service;
    this.region = region;
    this.cache = cache || /* @__PURE__ */ new Map();
    this.retries = retries != null ? retries : 10;
    this.initRetryMs = initRetryMs || 50;
  }
  async sign(input, init) {
    if (input instanceof Request) {
      const { method, url, headers, body } = input;
      init = Object.assign({ method, url, headers }, init);
      if (init.body == null && headers.has("Content-Type")) {
        init.body = body != null && headers.has("X-Amz-Content-Sha256") ? body : await input.clone().arrayBuffer();
      }
      input = url;
    }
    const signer = new AwsV4Signer(Object.assign({ url: input.toString() }, init, this, init && init.aws));
    const signed = Object.assign({}, init, await signer.sign());
    delete signed.aws;
    try {
      return new Request(signed.url.toString(), signed);
    } catch (e) {
      if (e instanceof TypeError) {
        return new Request(signed.url.toString(), Object.assign({ duplex: "half" }, signed));
      }
      throw e;
    }
  }
  async fetch(input, init) {
    for (let i = 0; i <= this.retries; i++) {
      const fetched = fetch(await this.sign(input, init));
      if (i === this.retries) {
        return fetched;
      }
      const res = await fetched;
      if (res.status < 500 && res.status !== 429) {
        return res;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.random() * this.initRetryMs * Math.pow(2, i)));
    }
    throw new Error("An unknown error occurred, ensure retries is not negative");
  }
};
var AwsV4Signer = class {
  constructor({ method, url, headers, body, accessKeyId, secretAccessKey, sessionToken, service, region, cache, datetime, signQuery, appendSessionToken, allHeaders, singleEncode }) {
    if (url == null) throw new TypeError("url is a required option");
    if (accessKeyId == null) throw new TypeError("accessKeyId is a required option");
    if (secretAccessKey == null) throw new TypeError("secretAccessKey is a required option");
    this.method = method || (body ? "POST" : "GET");
    this.url = new URL(url);
    this.headers = new Headers(headers || {});
    this.body = body;
    this.accessKeyId = accessKeyId;
    this.secretAccessKey = secretAccessKey;
    this.sessionToken = sessionToken;
    let guessedService, guessedRegion;
    if (!service || !region) {
      [guessedService, guessedRegion] = guessServiceRegion(this.url, this.headers);
    }
    this.service = service || guessedService || "";
    this.region = region || guessedRegion || "us-east-1";
    this.cache = cache || /* @__PURE__ */ new Map();
    this.datetime = datetime || (/* @__PURE__ */ new Date()).toISOString().replace(/[:-]|\.\d{3}/g, "");
    this.signQuery = signQuery;
    this.appendSessionToken = appendSessionToken || this.service === "iotdevicegateway";
    this.headers.delete("Host");
    if (this.service === "s3" && !this.signQuery && !this.headers.has("X-Amz-Content-Sha256")) {
      this.headers.set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD");
    }
    const params = this.signQuery ? this.url.searchParams : this.headers;
    params.set("X-Amz-Date", this.datetime);
    if (this.sessionToken && !this.appendSessionToken) {
      params.set("X-Amz-Security-Token", this.sessionToken);
    }
    this.signableHeaders = ["host", ...this.headers.keys()].filter((header) => allHeaders || !UNSIGNABLE_HEADERS.has(header)).sort();
    this.signedHeaders = this.signableHeaders.join(";");
    this.canonicalHeaders = this.signableHeaders.map((header) => header + ":" + (header === "host" ? this.url.host : (this.headers.get(header) || "").replace(/\s+/g, " "))).join("\n");
    this.credentialString = [this.datetime.slice(0, 8), this.region, this.service, "aws4_request"].join("/");
    if (this.signQuery) {
      if (this.service === "s3" && !params.has("X-Amz-Expires")) {
        params.set("X-Amz-Expires", "86400");
      }
      params.set("X-Amz-Algorithm", "AWS4-HMAC-SHA256");
      params.set("X-Amz-Credential", this.accessKeyId + "/" + this.credentialString);
      params.set("X-Amz-SignedHeaders", this.signedHeaders);
    }
    if (this.service === "s3") {
      try {
        this.encodedPath = decodeURIComponent(this.url.pathname.replace(/\+/g, " "));
      } catch (e) {
        this.encodedPath = this.url.pathname;
      }
    } else {
      this.encodedPath = this.url.pathname.replace(/\/+/g, "/");
    }
    if (!singleEncode) {
      this.encodedPath = encodeURIComponent(this.encodedPath).replace(/%2F/g, "/");
    }
    this.encodedPath = encodeRfc3986(this.encodedPath);
    const seenKeys = /* @__PURE__ */ new Set();
    this.encodedSearch = [...this.url.searchParams].filter(([k]) => {
      if (!k) return false;
      if (this.service === "s3") {
        if (seenKeys.has(k)) return false;
        seenKeys.add(k);
      }
      return true;
    }).map((pair) => pair.map((p) => encodeRfc3986(encodeURIComponent(p)))).sort(([k1, v1], [k2, v2]) => k1 < k2 ? -1 : k1 > k2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0).map((pair) => pair.join("=")).join("&");
  }
  async sign() {
    if (this.signQuery) {
      this.url.searchParams.set("X-Amz-Signature", await this.signature());
      if (this.sessionToken && this.appendSessionToken) {
        this.url.searchParams.set("X-Amz-Security-Token", this.sessionToken);
      }
    } else {
      this.headers.set("Authorization", await this.authHeader());
    }
    return {
      method: this.method,
      url: this.url,
      headers: this.headers,
      body: this.body
    };
  }
  async authHeader() {
    return [
      "AWS4-HMAC-SHA256 Credential=" + this.accessKeyId + "/" + this.credentialString,
      "SignedHeaders=" + this.signedHeaders,
      "Signature=" + await this.signature()
    ].join(", ");
  }
  async signature() {
    const date = this.datetime.slice(0, 8);
    const cacheKey = [this.secretAccessKey, date, this.region, this.service].join();
    let kCredentials = this.cache.get(cacheKey);
    if (!kCredentials) {
      const kDate = await hmac("AWS4" + this.secretAccessKey, date);
      const kRegion = await hmac(kDate, this.region);
      const kService = await hmac(kRegion, this.service);
      kCredentials = await hmac(kService, "aws4_request");
      this.cache.set(cacheKey, kCredentials);
    }
    return buf2hex(await hmac(kCredentials, await this.stringToSign()));
  }
  async stringToSign() {
    return [
      "AWS4-HMAC-SHA256",
      this.datetime,
      this.credentialString,
      buf2hex(await hash(await this.canonicalString()))
    ].join("\n");
  }
  async canonicalString() {
    return [
      this.method.toUpperCase(),
      this.encodedPath,
      this.encodedSearch,
      this.canonicalHeaders + "\n",
      this.signedHeaders,
      await this.hexBodyHash()
    ].join("\n");
  }
  async hexBodyHash() {
    let hashHeader = this.headers.get("X-Amz-Content-Sha256") || (this.service === "s3" && this.signQuery ? "UNSIGNED-PAYLOAD" : null);
    if (hashHeader == null) {
      if (this.body && typeof this.body !== "string" && !("byteLength" in this.body)) {
        throw new Error("body must be a string, ArrayBuffer or ArrayBufferView, unless you include the X-Amz-Content-Sha256 header");
      }
      hashHeader = buf2hex(await hash(this.body || ""));
    }
    return hashHeader;
  }
};
async function hmac(key, string) {
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    typeof key === "string" ? encoder.encode(key) : key,
    { name: "HMAC", hash: { name: "SHA-256" } },
    false,
    ["sign"]
  );
  return crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(string));
}
async function hash(content) {
  return crypto.subtle.digest("SHA-256", typeof content === "string" ? encoder.encode(content) : content);
}
var HEX_CHARS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"];
function buf2hex(arrayBuffer) {
  const buffer = new Uint8Array(arrayBuffer);
  let out = "";
  for (let idx = 0; idx < buffer.length; idx++) {
    const n = buffer[idx];
    out += HEX_CHARS[n >>> 4 & 15];
    out += HEX_CHARS[n & 15];
  }
  return out;
}
function encodeRfc3986(urlEncodedStr) {
  return urlEncodedStr.replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}
function guessServiceRegion(url, headers) {
  const { hostname, pathname } = url;
  if (hostname.endsWith(".on.aws")) {
    const match2 = hostname.match(/^[^.]{1,63}\.lambda-url\.([^.]{1,63})\.on\.aws$/);
    return match2 != null ? ["lambda", match2[1] || ""] : ["", ""];
  }
  if (hostname.endsWith(".r2.cloudflarestorage.com")) {
    return ["s3", "auto"];
  }
  if (hostname.endsWith(".backblazeb2.com")) {
    const match2 = hostname.match(/^(?:[^.]{1,63}\.)?s3\.([^.]{1,63})\.backblazeb2\.com$/);
    return match2 != null ? ["s3", match2[1] || ""] : ["", ""];
  }
  const match = hostname.replace("dualstack.", "").match(/([^.]{1,63})\.(?:([^.]{0,63})\.)?amazonaws\.com(?:\.cn)?$/);
  let service = match && match[1] || "";
  let region = match && match[2];
  if (region === "us-gov") {
    region = "us-gov-west-1";
  } else if (region === "s3" || region === "s3-accelerate") {
    region = "us-east-1";
    service = "s3";
  } else if (service === "iot") {
    if (hostname.startsWith("iot.")) {
      service = "execute-api";
    } else if (hostname.startsWith("data.jobs.iot.")) {
      service = "iot-jobs-data";
    } else {
      service = pathname === "/mqtt" ? "iotdevicegateway" : "iotdata";
    }
  } else if (service === "autoscaling") {
    const targetPrefix = (headers.get("X-Amz-Target") || "").split(".")[0];
    if (targetPrefix === "AnyScaleFrontendService") {
      service = "application-autoscaling";
    } else if (targetPrefix === "AnyScaleScalingPlannerFrontendService") {
      service = "autoscaling-plans";
    }
  } else if (region == null && service.startsWith("s3-")) {
    region = service.slice(3).replace(/^fips-|^external-1/, "");
    service = "s3";
  } else if (service.endsWith("-fips")) {
    service = service.slice(0, -5);
  } else if (region && /-\d$/.test(service) && !/-\d$/.test(region)) {
    [service, region] = [region, service];
  }
  return [HOST_SERVICES[service] || service, region || ""];
}

// src/s3-bucket.js
function base64(buffer) {
  return btoa(String.fromCharCode(...new Uint8Array(buffer)));
}
function s3Bucket(target) {
  const aws = new AwsClient({
    accessKeyId: target.access_key_id,
    secretAccessKey: target.secret_access_key,
    service: "s3",
    region: target.region,
    retries: 0
    // a failed write is the city's to retry: it answers 500 InternalError
  });
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
      const headers = {};
      if (options.onlyIf?.etagDoesNotMatch === "*") headers["if-none-match"] = "*";
      if (options.httpMetadata?.contentType) headers["content-type"] = options.httpMetadata.contentType;
      if (options.sha256) headers["x-amz-checksum-sha256"] = base64(options.sha256);
      for (const [name, value] of Object.entries(options.customMetadata || {})) headers[`x-amz-meta-${name}`] = value;
      const response = await aws.fetch(url(key), { method: "PUT", headers, body });
      if (response.status === 412) return null;
      if (!response.ok) throw new Error(`the store answered ${response.status}: ${(await response.text()).slice(0, 500)}`);
      return { key, etag: (response.headers.get("etag") || "").replaceAll('"', "") };
    }
  };
}

// src/worker.js
var ALGORITHM = "AWS4-HMAC-SHA256";
var SECRET_CONTEXT = "learning-images-gateway/v1/";
var META = "x-amz-meta-";
var encoder2 = new TextEncoder();
var S3Error = class extends Error {
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
};
var denied = (message) => new S3Error(403, "AccessDenied", message);
function xmlEscape(text) {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
function errorResponse(error, resource, requestId) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>${error.code}</Code><Message>${xmlEscape(error.message)}</Message><Resource>${xmlEscape(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
  return new Response(body, {
    status: error.status,
    headers: { "content-type": "application/xml", "x-amz-request-id": requestId }
  });
}
function hex(buffer) {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
function base642(buffer) {
  return btoa(String.fromCharCode(...new Uint8Array(buffer)));
}
async function citySecret(gatewaySecret, accessKeyId) {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder2.encode(gatewaySecret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"]
  );
  return hex(await crypto.subtle.sign("HMAC", key, encoder2.encode(SECRET_CONTEXT + accessKeyId)));
}
function sameSecret(a, b) {
  const left = encoder2.encode(a);
  const right = encoder2.encode(b);
  return left.byteLength === right.byteLength && crypto.subtle.timingSafeEqual(left, right);
}
function parseAuthorization(header) {
  if (!header) throw denied("anonymous requests are refused: sign the upload with the city's key");
  if (!header.startsWith(`${ALGORITHM} `)) {
    throw new S3Error(400, "InvalidArgument", `only ${ALGORITHM} (Signature Version 4) is accepted`);
  }
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
function canonical(value) {
  return value.trim().replace(/ +/g, " ");
}
function parseAmzDate(amzDate) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
}
async function authenticate(request, env) {
  const auth = parseAuthorization(request.headers.get("authorization"));
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
  if (Math.abs(Date.now() - signedAt) > env.CONTRACT.max_clock_skew_seconds * 1e3) {
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
    allHeaders: true
  });
  if (signer.signedHeaders !== auth.signedHeaders.join(";") || !sameSecret(await signer.signature(), auth.signature)) {
    throw new S3Error(403, "SignatureDoesNotMatch", "the request signature we calculated does not match the signature you provided");
  }
  return entry.city_id;
}
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
  const known = /* @__PURE__ */ new Set([...contract.required_metadata, ...contract.optional_metadata]);
  const control = new RegExp(contract.control_characters);
  const metadata = {};
  let metadataBytes = 0;
  for (const [name, value] of request.headers) {
    if (name.startsWith(META)) {
      const field = name.slice(META.length);
      if (!known.has(field)) throw denied(`metadata ${field} is not part of the contract`);
      if (control.test(value)) throw denied(`metadata ${field} holds a control character`);
      if (value !== canonical(value)) {
        throw denied(`metadata ${field} has spaces at its ends or in a row: send the value as it was signed`);
      }
      const pattern = contract.metadata_patterns[field];
      if (value && pattern && !new RegExp(pattern).test(value)) {
        throw denied(`metadata ${field} ${JSON.stringify(value)} is not of the contract's form (${pattern})`);
      }
      metadataBytes += encoder2.encode(field).byteLength + encoder2.encode(value).byteLength;
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
async function handle(request, env, requestId) {
  const url = new URL(request.url);
  if (url.protocol !== "https:") throw denied("requests must use HTTPS");
  const contract = env.CONTRACT;
  if (url.pathname === contract.events_path) return receiveEvents(request, env, requestId);
  const city = await authenticate(request, env);
  let path;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    throw new S3Error(400, "InvalidURI", "couldn't parse the specified URI");
  }
  const [bucket, ...rest] = path.slice(1).split("/");
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
  if (checksum !== base642(digest)) {
    throw new S3Error(400, "BadDigest", "the SHA-256 you specified did not match the calculated checksum");
  }
  const declared = metadata[contract.sha256_field];
  if (declared !== void 0 && declared !== hex(digest)) {
    throw new S3Error(400, "BadDigest", `metadata ${contract.sha256_field} does not match the image`);
  }
  const head = new Uint8Array(body, 0, Math.min(body.byteLength, contract.jpeg_magic.length));
  if (!contract.jpeg_magic.every((byte, i) => head[i] === byte)) throw denied("the body is not a JPEG image");
  const stored = await bucketOf(env).put(key, body, {
    onlyIf: { etagDoesNotMatch: "*" },
    httpMetadata: { contentType: contract.content_type },
    customMetadata: metadata,
    sha256: digest
  });
  if (stored === null) throw new S3Error(412, "PreconditionFailed", "an object with this key is already stored");
  console.log(JSON.stringify({ event: "upload", request_id: requestId, city, key, bytes: length }));
  return new Response(null, {
    status: 200,
    headers: { etag: `"${stored.etag}"`, "x-amz-checksum-sha256": checksum, "x-amz-request-id": requestId }
  });
}
async function receiveEvents(request, env, requestId) {
  const contract = env.CONTRACT;
  if (!env.EVENTS || !env.EVENTS_SIGNING_SECRET) throw denied("this gateway receives no store events");
  if (request.method !== "POST") throw new S3Error(405, "MethodNotAllowed", "events are delivered with POST");
  const length = Number(request.headers.get("content-length") ?? NaN);
  if (!Number.isInteger(length)) throw new S3Error(411, "MissingContentLength", "a delivery states its Content-Length");
  if (length > contract.max_event_body_bytes) throw new S3Error(413, "EntityTooLarge", "the delivery is too large");
  const body = await request.arrayBuffer();
  const key = await crypto.subtle.importKey("raw", encoder2.encode(env.EVENTS_SIGNING_SECRET), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const expected = encoder2.encode(contract.event_signature_prefix + hex(await crypto.subtle.sign("HMAC", key, body)));
  const given = encoder2.encode((request.headers.get(contract.event_signature_header) || "").toLowerCase());
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
  for (let start = 0; start < events.length; start += 100) {
    await env.EVENTS.sendBatch(events.slice(start, start + 100).map((event) => ({ body: event, contentType: "json" })));
  }
  console.log(JSON.stringify({ event: "events-queued", request_id: requestId, count: events.length }));
  return new Response(JSON.stringify({ queued: events.length }), { status: 200, headers: { "content-type": "application/json" } });
}
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
    secret_access_key: S3_SECRET_ACCESS_KEY
  });
}
async function drain(request) {
  if (!request.body || request.bodyUsed) return;
  try {
    const reader = request.body.getReader();
    while (!(await reader.read()).done) {
    }
  } catch {
  }
}
var worker_default = {
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
  }
};
export {
  worker_default as default
};
