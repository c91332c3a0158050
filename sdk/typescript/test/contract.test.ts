// The SDK against a real webhookd, over gRPC and over REST: the scenario
// every webhookd SDK runs (create an endpoint at a receiver, publish, wait
// for the delivery, list its attempts, make the receiver fail, retry the
// delivery, verify the received request with the SDK's own verifier), then
// publish idempotency across retries, RetryInfo / Retry-After and field
// violations.
//
// sdk_test.go runs it inside go test with a webhookd it builds and starts:
//
//   WEBHOOKD_GRPC_ADDR    127.0.0.1:PORT
//   WEBHOOKD_HTTP_URL     http://127.0.0.1:PORT
//   WEBHOOKD_ADMIN_TOKEN  an internal API key
//   WEBHOOKD_RATE_LIMIT   the --rate-limit webhookd runs with (calls/s per account)
//
// Without them it skips.
import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Code as ConnectCode, ConnectError } from "@connectrpc/connect";
import express from "express";
import { Client, Code, Delivery_Status, Attempt_Trigger, RestClient, WebhookdError, verifyWebhook, webhookMiddleware, type WebhookRequest, type RetryInfo } from "../src/index.js";

const grpcAddr = process.env.WEBHOOKD_GRPC_ADDR ?? "";
const httpUrl = process.env.WEBHOOKD_HTTP_URL ?? "";
const adminToken = process.env.WEBHOOKD_ADMIN_TOKEN ?? "";
const rateLimit = Number(process.env.WEBHOOKD_RATE_LIMIT ?? "0");
const skip = grpcAddr === "" || httpUrl === "" || adminToken === "" ? "no webhookd: WEBHOOKD_GRPC_ADDR, WEBHOOKD_HTTP_URL and WEBHOOKD_ADMIN_TOKEN are unset (go test ./sdk/typescript runs one)" : false;

// The scenario's calls, one implementation per transport, so that both run
// the same steps and a behaviour that differs shows up as a failure.
interface Surface {
  createEndpoint(url: string, eventTypes: string[]): Promise<{ name: string; secret: string }>;
  publish(type: string, data: Record<string, unknown>): Promise<string>;
  eventNames(type: string): Promise<string[]>;
  deliveriesOf(parent: string): Promise<Array<{ name: string; status: string }>>;
  getDelivery(name: string): Promise<{ status: string; attempts: Array<{ trigger: string; status: number }> }>;
  retryDelivery(name: string): Promise<void>;
  listEventTypes(): Promise<number>;
}

function grpcSurface(c: Client): Surface {
  return {
    async createEndpoint(url, eventTypes) {
      const ep = await c.webhooks.createEndpoint({ endpoint: { url, eventTypes } });
      return { name: ep.name, secret: ep.secret ?? "" };
    },
    async publish(type, data) {
      return (await c.publishEvent(type, data)).name;
    },
    async eventNames(type) {
      const names: string[] = [];
      for await (const e of c.events({ eventTypes: [type], pageSize: 1 })) names.push(e.name);
      return names;
    },
    async deliveriesOf(parent) {
      const out: Array<{ name: string; status: string }> = [];
      for await (const d of c.deliveries({ parent })) out.push({ name: d.name, status: Delivery_Status[d.status] });
      return out;
    },
    async getDelivery(name) {
      const d = await c.webhooks.getDelivery({ name });
      return { status: Delivery_Status[d.status], attempts: d.attempts.map((a) => ({ trigger: Attempt_Trigger[a.trigger], status: a.responseStatusCode })) };
    },
    async retryDelivery(name) {
      await c.webhooks.retryDelivery({ name });
    },
    async listEventTypes() {
      return (await c.webhooks.listEventTypes({})).eventTypes.length;
    },
  };
}

function restSurface(c: RestClient): Surface {
  return {
    async createEndpoint(url, eventTypes) {
      const ep = await c.createEndpoint({ url, eventTypes });
      return { name: ep.name ?? "", secret: ep.secret ?? "" };
    },
    async publish(type, data) {
      return (await c.publishEvent(type, data)).name ?? "";
    },
    async eventNames(type) {
      const names: string[] = [];
      for await (const e of c.events({ eventTypes: [type], pageSize: 1 })) names.push(e.name ?? "");
      return names;
    },
    async deliveriesOf(parent) {
      const out: Array<{ name: string; status: string }> = [];
      for await (const d of c.deliveries(parent)) out.push({ name: d.name ?? "", status: d.status ?? "" });
      return out;
    },
    async getDelivery(name) {
      const d = await c.getDelivery(name);
      return { status: d.status ?? "", attempts: (d.attempts ?? []).map((a) => ({ trigger: a.trigger ?? "", status: a.responseStatusCode ?? 0 })) };
    },
    async retryDelivery(name) {
      await c.retryDelivery(name);
    },
    async listEventTypes() {
      const { unwrap } = await import("../src/rest.js");
      return ((await unwrap(c.api.GET("/v1/eventTypes"))).eventTypes ?? []).length;
    },
  };
}

// Receiver is a real Express app on loopback that verifies every request
// with the SDK's middleware, keeps what it received, and answers 500 while
// failing is set.
class Receiver {
  secret = "";
  failing = false;
  readonly received: Array<{ headers: Record<string, string | string[] | undefined>; body: Buffer; verified: WebhookRequest["webhook"] }> = [];
  refused = 0;
  #server?: Server;
  url = "";

  async start(): Promise<void> {
    const app = express();
    const verify = webhookMiddleware({ secret: () => this.secret });
    app.post("/webhooks", (req, res, next) => {
      verify(req, res, (err?: unknown) => {
        if (err) return next(err);
        next();
      });
      res.on("finish", () => {
        if (res.statusCode === 401) this.refused++;
      });
    }, (req, res) => {
      const r = req as WebhookRequest;
      this.received.push({ headers: { ...req.headers }, body: r.rawBody as Buffer, verified: r.webhook });
      if (this.failing) res.status(500).send("failing on purpose");
      else res.json({ received: true });
    });
    await new Promise<void>((resolve) => {
      this.#server = app.listen(0, "127.0.0.1", () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.#server?.address() as AddressInfo).port}/webhooks`;
  }

  stop(): void {
    this.#server?.close();
  }
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

// customerKey makes an account and a key of it with the admin token.
async function customerKey(admin: Client, name: string): Promise<string> {
  const account = await admin.admin.createAccount({ account: { displayName: name } });
  const key = await admin.admin.createApiKey({ apiKey: { account: account.name, displayName: `${name} key` } });
  return key.token ?? "";
}

describe("contract against webhookd", { skip }, () => {
  let admin: Client;
  before(() => {
    admin = new Client({ address: grpcAddr, apiKey: adminToken });
  });
  after(() => admin.close());

  const transports: Array<{
    name: string;
    surface: (key: string, extra?: { lose?: () => boolean; retry?: { maxRetries?: number; onRetry?: (r: RetryInfo) => void } }) => { s: Surface; close: () => void };
  }> = [
    {
      name: "gRPC",
      surface: (key, extra = {}) => {
        const c = new Client({
          address: grpcAddr,
          apiKey: key,
          ...(extra.retry ? { retry: extra.retry } : {}),
          // Inside the retries: an attempt whose answer is lost after
          // webhookd handled it.
          interceptors: [
            (next) => async (req) => {
              const res = await next(req);
              if (req.method.name === "PublishEvent" && extra.lose?.()) throw new ConnectError("answer lost on purpose", ConnectCode.Unavailable);
              return res;
            },
          ],
        });
        return { s: grpcSurface(c), close: () => c.close() };
      },
    },
    {
      name: "REST",
      surface: (key, extra = {}) => {
        const c = new RestClient({
          baseUrl: httpUrl,
          apiKey: key,
          ...(extra.retry ? { retry: extra.retry } : {}),
          fetch: async (req) => {
            const res = await fetch(req);
            if (req.method === "POST" && new URL(req.url).pathname === "/v1/events" && extra.lose?.()) {
              await res.body?.cancel();
              return new Response(JSON.stringify({ code: 14, message: "answer lost on purpose" }), { status: 503, headers: { "content-type": "application/json" } });
            }
            return res;
          },
        });
        return { s: restSurface(c), close: () => undefined };
      },
    },
  ];

  for (const t of transports) {
    describe(t.name, () => {
      it("delivers, lists attempts, retries and verifies", async () => {
        const key = await customerKey(admin, `SDK contract ${t.name}`);
        const { s, close } = t.surface(key);
        const receiver = new Receiver();
        await receiver.start();
        try {
          const ep = await s.createEndpoint(receiver.url, ["property.created"]);
          assert.match(ep.secret, /^whsec_/);
          receiver.secret = ep.secret;

          const event = await s.publish("property.created", { property: { id: "prop_1", address: "1 Rue de la Paix" } });
          assert.match(event, /^events\//);

          const delivery = await waitFor("the delivery to succeed", async () => {
            const ds = await s.deliveriesOf(event);
            return ds.length === 1 && ds[0]?.status === "SUCCEEDED" ? ds[0] : undefined;
          });
          assert.deepEqual((await s.deliveriesOf(ep.name)).map((d) => d.name), [delivery.name]);
          const first = await s.getDelivery(delivery.name);
          assert.deepEqual(first.attempts, [{ trigger: "INITIAL", status: 200 }]);

          // What the receiver got verifies with the SDK's verifier in both
          // schemes, and carries the event.
          assert.equal(receiver.received.length, 1);
          const got = receiver.received[0];
          assert.ok(got);
          const eventId = event.slice("events/".length);
          for (const scheme of ["standard", "guide"] as const) {
            const v = verifyWebhook(ep.secret, got.headers, got.body, { scheme });
            assert.equal(v.id, eventId);
            assert.deepEqual(v.payload, got.verified?.payload);
          }
          const payload = got.verified?.payload as { id: string; type: string; data: unknown };
          assert.equal(payload.id, eventId);
          assert.equal(payload.type, "property.created");
          assert.deepEqual(payload.data, { property: { id: "prop_1", address: "1 Rue de la Paix" } });
          assert.throws(() => verifyWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", got.headers, got.body));

          // The receiver fails; a manual retry is attempted and recorded.
          receiver.failing = true;
          await s.retryDelivery(delivery.name);
          const second = await waitFor("the manual retry's attempt", async () => {
            const d = await s.getDelivery(delivery.name);
            return d.attempts.length === 2 ? d : undefined;
          });
          assert.deepEqual(second.attempts[1], { trigger: "MANUAL", status: 500 });
          assert.equal(receiver.received.length, 2);
          const again = receiver.received[1];
          assert.ok(again);
          assert.equal(verifyWebhook(ep.secret, again.headers, again.body).id, eventId, "the same event id on every attempt");
          assert.equal(receiver.refused, 0, "no request failed verification");
        } finally {
          receiver.stop();
          close();
        }
      });

      it("publishes once when an answer is lost and the call retried", async () => {
        const key = await customerKey(admin, `SDK idempotency ${t.name}`);
        let lost = 0;
        const retries: RetryInfo[] = [];
        const { s, close } = t.surface(key, { lose: () => lost++ === 0, retry: { onRetry: (r) => retries.push(r) } });
        try {
          const name = await s.publish("user.registered", { user: { id: "usr_1" } });
          assert.equal(lost, 2, "the first answer was lost and the retry's arrived");
          assert.equal(retries.length, 1);
          assert.equal(retries[0]?.error.code, Code.Unavailable);
          assert.deepEqual(await s.eventNames("user.registered"), [name]);
        } finally {
          close();
        }
      });

      it("honours the server's retry delay when rate limited", { skip: rateLimit > 0 ? false : "WEBHOOKD_RATE_LIMIT is unset" }, async () => {
        const key = await customerKey(admin, `SDK rate limit ${t.name}`);
        // Without retries, a burst runs into the limit and the error says
        // how long to wait.
        const bare = t.surface(key, { retry: { maxRetries: 0 } });
        let limited: WebhookdError | undefined;
        try {
          for (let i = 0; i < 200 && limited === undefined; i++) {
            await bare.s.listEventTypes().catch((e: unknown) => {
              if (e instanceof WebhookdError && e.code === Code.ResourceExhausted) limited = e;
              else throw e;
            });
          }
        } finally {
          bare.close();
        }
        assert.ok(limited, "a burst of calls was never rate limited");
        assert.ok(limited.retryDelayMs !== undefined && limited.retryDelayMs > 0, `no retry delay in ${limited.message}`);
        if (t.name === "REST") assert.equal(limited.httpStatus, 429);

        // With retries, every call of a burst succeeds, each retry waiting
        // what the server asked.
        const retries: RetryInfo[] = [];
        const { s, close } = t.surface(key, { retry: { onRetry: (r) => retries.push(r) } });
        try {
          for (let i = 0; i < 3 * rateLimit; i++) assert.equal(await s.listEventTypes(), 8);
        } finally {
          close();
        }
        assert.ok(retries.length > 0, "no call was rate limited");
        for (const r of retries) {
          assert.equal(r.error.code, Code.ResourceExhausted);
          assert.equal(r.delayMs, r.error.retryDelayMs);
        }
      });

      it("exposes field violations", async () => {
        const key = await customerKey(admin, `SDK violations ${t.name}`);
        const { s, close } = t.surface(key);
        try {
          await assert.rejects(s.createEndpoint("not a url", ["property.created"]), (e: unknown) => {
            assert.ok(e instanceof WebhookdError, String(e));
            assert.equal(e.code, Code.InvalidArgument);
            assert.equal(e.codeName, "INVALID_ARGUMENT");
            assert.ok(e.violation("endpoint.url"), `no violation of endpoint.url in ${JSON.stringify(e.fieldViolations)}`);
            return true;
          });
        } finally {
          close();
        }
      });
    });
  }
});
