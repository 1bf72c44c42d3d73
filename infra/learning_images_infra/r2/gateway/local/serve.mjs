// The upload gateway in the real Workers runtime (workerd, through Miniflare) on 127.0.0.1, for
// the tests, the R2 sandbox and the benchmark. Never deployed.
//
//   node local/serve.mjs CONFIG.json      prints one JSON line {"url", "control_url"} when ready;
//                                   stops when its stdin closes (the parent exits or closes it).
//
// CONFIG: {contract, gateway_secret, cities: {access_key_id: city_id}, tls: {cert, key},
//          bucket: {kind: "r2"} | {kind: "s3", endpoint, region, bucket, access_key_id, secret_access_key}
//                  | {kind: "s3-target", bindings: {S3_ENDPOINT, S3_REGION, S3_BUCKET, S3_ACCESS_KEY_ID,
//                                                   S3_SECRET_ACCESS_KEY}},
//          events?: {queue_url, token, signing_secret}}
//
// bucket.kind "r2": Miniflare's local R2 (workerd's own R2 simulator), readable through the
// control server below.
// bucket.kind "s3": the same R2 binding API, served by `local/s3-binding.js` over an S3 endpoint (the
// sandbox's local S3, which stands in for R2's S3 API there), so the gateway's writes land where
// the Command Centre and training tiers read.
// bucket.kind "s3-target": the gateway as deployed in front of another backend's S3-compatible
// bucket, its S3_* bindings naming the bucket and the credential only it holds (src/s3-bucket.js).
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { build } from "esbuild";
import { Miniflare } from "miniflare";

const here = new URL("..", import.meta.url).pathname;
const config = JSON.parse(readFileSync(process.argv[2], "utf8"));

const gateway = {
  name: "gateway",
  modules: true,
  scriptPath: `${here}dist/worker.js`,
  modulesRoot: here,
  compatibilityDate: "2025-09-01",
  bindings: { CONTRACT: config.contract, GATEWAY_SECRET: config.gateway_secret },
  kvNamespaces: ["CITIES"],
};
/** @param {string} entry  a local module, bundled for workerd */
async function bundle(entry) {
  const bundled = await build({
    entryPoints: [`${here}${entry}`],
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["worker"],
    write: false,
  });
  return bundled.outputFiles[0].text;
}
const workers = [gateway];
if (config.bucket.kind === "s3") {
  gateway.wrappedBindings = { BUCKET: { scriptName: "s3-binding", bindings: config.bucket } };
  // A wrapped binding runs at the compatibility date of the Worker that holds it.
  workers.push({ name: "s3-binding", modules: true, script: await bundle("local/s3-binding.js") });
} else if (config.bucket.kind === "s3-target") {
  Object.assign(gateway.bindings, config.bucket.bindings); // named by learning_images.gateway
} else {
  gateway.r2Buckets = ["BUCKET"];
}

// events: the gateway receives a store's event webhook and queues the events, its EVENTS binding
// served over a stand-in of Cloudflare Queues' REST API (local/queue-over-http.js).
if (config.events) {
  gateway.bindings.EVENTS_SIGNING_SECRET = config.events.signing_secret;
  gateway.wrappedBindings = {
    ...gateway.wrappedBindings,
    EVENTS: { scriptName: "queue-over-http", bindings: { queue_url: config.events.queue_url, token: config.events.token } },
  };
  workers.push({ name: "queue-over-http", modules: true, script: await bundle("local/queue-over-http.js") });
}

const mf = new Miniflare({
  workers,
  host: "127.0.0.1",
  port: 0,
  https: true,
  httpsCert: config.tls.cert,
  httpsKey: config.tls.key,
  verbose: false,
  log: undefined,
});
const url = await mf.ready;
const cities = await mf.getKVNamespace("CITIES", "gateway");
for (const [accessKeyId, city] of Object.entries(config.cities)) {
  await cities.put(accessKeyId, JSON.stringify({ city_id: city }));
}

// The control server (loopback, tests and the sandbox only): what a test needs to see or change
// in the running gateway without restarting it, as the stack's operators would in Cloudflare.
//   GET    /objects/<key>      the stored object's metadata as JSON (local R2 only)
//   PUT    /cities/<key id>    onboard a city: body {"city_id": ...} (a KV write, no redeploy)
//   DELETE /cities/<key id>    revoke a city's key (a KV delete, no redeploy)
//   *      /plain-http/<path>  the request, forwarded into the Worker as if it came over plain HTTP
const bucket = config.bucket.kind === "r2" ? await mf.getR2Bucket("BUCKET", "gateway") : null;
// A control request that fails (Miniflare's proxy to workerd can, under load) is answered 500 with
// the error, and written to the runner's log: left unhandled, the rejection would end the process
// and every later request of the test session with it.
const control = createServer((req, res) =>
  answerControl(req, res).catch((error) => {
    process.stderr.write(`control ${req.method} ${req.url}: ${error?.stack ?? error}\n`);
    if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: String(error?.message ?? error) }));
  }),
);
async function answerControl(req, res) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const [, kind, ...rest] = req.url.split("/");
  const name = decodeURIComponent(rest.join("/"));
  const reply = (status, value) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(value ?? null));
  };
  if (kind === "objects" && bucket) {
    const found = await bucket.head(name);
    return reply(
      found ? 200 : 404,
      found && {
        key: found.key,
        size: found.size,
        etag: found.etag,
        content_type: found.httpMetadata?.contentType ?? null,
        metadata: found.customMetadata,
        sha256: found.checksums.sha256 ? Buffer.from(found.checksums.sha256).toString("hex") : null,
      },
    );
  }
  if (kind === "cities" && req.method === "PUT") return reply(200, await cities.put(name, body.toString()));
  if (kind === "cities" && req.method === "DELETE") return reply(200, await cities.delete(name));
  if (kind === "plain-http") {
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([key]) => key !== "host"));
    const answer = await mf.dispatchFetch(`http://127.0.0.1/${name}`, {
      method: req.method,
      headers,
      body: body.length ? body : undefined,
    });
    return reply(200, { status: answer.status, body: await answer.text() });
  }
  return reply(404, { error: `unknown control path ${req.url}` });
}
await new Promise((resolve) => control.listen(0, "127.0.0.1", resolve));
const controlUrl = `http://127.0.0.1:${control.address().port}/`;
process.stdin.on("close", () => control.close());

process.stdout.write(`${JSON.stringify({ url: url.href, control_url: controlUrl })}\n`);
process.stdin.resume();
process.stdin.on("close", async () => {
  await mf.dispose();
  process.exit(0);
});
