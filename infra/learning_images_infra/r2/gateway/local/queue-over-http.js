// @ts-check
// A Cloudflare Queue's producer binding (send, sendBatch), served over Cloudflare Queues' REST API
// (POST .../queues/<id>/messages with a bearer token): the tests' and the sandboxes' stand-in queue,
// which the receiver pulls from as it pulls from Cloudflare. A workerd wrapped binding (local only,
// never deployed), the way local/s3-binding.js serves the R2 binding.

/**
 * @param {{ queue_url: string, token: string }} env
 */
export default function queueOverHttp(env) {
  /** @param {unknown} body */
  const push = async (body) => {
    const answer = await fetch(`${env.queue_url}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.token}`, "content-type": "application/json" },
      body: JSON.stringify({ body, content_type: "json" }),
    });
    if (!answer.ok) throw new Error(`the queue refused a message: ${answer.status} ${await answer.text()}`);
  };
  return {
    /** @param {unknown} body */
    async send(body) {
      await push(body);
    },
    /** @param {{ body: unknown }[]} messages */
    async sendBatch(messages) {
      for (const message of messages) await push(message.body);
    },
  };
}
