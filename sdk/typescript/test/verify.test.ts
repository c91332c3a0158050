// The verifiers against what webhookd really sends: a vector made by
// signature.Sign (signature/signature.go), the guide's own Node code, and the
// standardwebhooks package that receivers use.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import express from "express";
import { Webhook } from "standardwebhooks";
import { signWebhook, standardKey, verifiedWebhook, verifyWebhook, webhookMiddleware, WebhookVerificationError, type VerifiedWebhook, type VerifyOptions, type WebhookHeaders, type WebhookRequest } from "../src/verify.js";
import { verifyWebhookWeb } from "../src/verify-web.js";

// Made with signature.Sign(h, "evt_1", time.Unix(1764583200, 0), body,
// []string{current, previous}) in webhookd's worker package.
const vector = {
  current: "whsec_2nxS3T9GEpREy59ukKuSMZUZ3vYRiybi",
  previous: "whsec_not-base64!",
  id: "evt_1",
  timestamp: 1764583200,
  body: '{"id":"evt_1","type":"property.created","created":"2026-12-01T10:00:00Z","data":{"name":"Café ☕"}}',
  headers: {
    "webhook-id": "evt_1",
    "webhook-timestamp": "1764583200",
    "webhook-signature": "v1,Kz+Mx8JK90jT3gO1gkFHduT1gq1ipRk9lKxiHH9hwQ0= v1,tFXtovcmCsrfJesHLuYDBy9mEE00WfjPWmAkRyCwlUc=",
    "x-webhook-id": "evt_1",
    "x-webhook-timestamp": "1764583200",
    "x-webhook-signature": "b3076b020c941bf0860f3ec356ef3e2fa1cc7c57f801fa516ae0f2cf45264529",
  } as Record<string, string>,
};
const at = (seconds: number) => () => seconds * 1000;
const signedAt = at(vector.timestamp);

// Both verifiers, node:crypto's and WebCrypto's, pass the same cases.
type Verify = (secret: string | string[], headers: WebhookHeaders, body: string | Uint8Array, options?: VerifyOptions) => Promise<VerifiedWebhook>;
const verifiers: Array<[string, Verify]> = [
  ["verifyWebhook (node:crypto)", async (...args) => verifyWebhook(...args)],
  ["verifyWebhookWeb (WebCrypto)", verifyWebhookWeb],
];

for (const [name, verify] of verifiers) {
  describe(name, () => {
    it("accepts webhookd's Standard Webhooks signatures with either secret of a rotation", async () => {
      for (const secret of [vector.current, vector.previous, [vector.previous, vector.current]]) {
        const v = await verify(secret, vector.headers, vector.body, { now: signedAt });
        assert.equal(v.scheme, "standard");
        assert.equal(v.id, "evt_1");
        assert.equal(v.timestamp.getTime(), vector.timestamp * 1000);
        assert.deepEqual((v.payload as { data: unknown }).data, { name: "Café ☕" });
      }
    });

    it("accepts the guide's X-Webhook-Signature with the current secret only", async () => {
      const v = await verify(vector.current, vector.headers, new TextEncoder().encode(vector.body), { now: signedAt, scheme: "guide" });
      assert.equal(v.scheme, "guide");
      await assertFails(verify(vector.previous, vector.headers, vector.body, { now: signedAt, scheme: "guide" }), "no_matching_signature");
    });

    it("agrees with the standardwebhooks package", async () => {
      const now = new Date();
      const theirs = new Webhook(vector.current).sign("msg_2", now, vector.body);
      const headers = { "webhook-id": "msg_2", "webhook-timestamp": String(Math.floor(now.getTime() / 1000)), "webhook-signature": theirs };
      assert.equal((await verify(vector.current, headers, vector.body)).id, "msg_2");
    });

    it("reads fetch Headers and Node's header objects alike", async () => {
      const h = new Headers(vector.headers);
      assert.equal((await verify(vector.current, h, vector.body, { now: signedAt })).id, "evt_1");
      const upper = Object.fromEntries(Object.entries(vector.headers).map(([k, v]) => [k.toUpperCase(), [v]]));
      assert.equal((await verify(vector.current, upper, vector.body, { now: signedAt })).id, "evt_1");
    });

    const failures: Array<{ name: string; secret?: string; headers?: Record<string, string>; body?: string | Uint8Array; now?: () => number; scheme?: "guide" | "standard"; reason: string }> = [
      { name: "body changed", body: vector.body.replace("Café", "Cafe"), reason: "no_matching_signature" },
      { name: "body re-serialised", body: JSON.stringify(JSON.parse(vector.body), null, 1), reason: "no_matching_signature" },
      { name: "other secret", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", reason: "no_matching_signature" },
      { name: "id changed", headers: { ...vector.headers, "webhook-id": "evt_2" }, reason: "no_matching_signature" },
      { name: "signature not base64", headers: { ...vector.headers, "webhook-signature": "v1,!!!" }, reason: "no_matching_signature" },
      { name: "another version's signature", headers: { ...vector.headers, "webhook-signature": vector.headers["webhook-signature"]?.replaceAll("v1,", "v2,") ?? "" }, reason: "no_matching_signature" },
      { name: "guide: body changed", scheme: "guide", body: vector.body + " ", reason: "no_matching_signature" },
      { name: "guide: signature of another length", scheme: "guide", headers: { ...vector.headers, "x-webhook-signature": "abc" }, reason: "no_matching_signature" },
      { name: "too old", now: at(vector.timestamp + 301), reason: "timestamp_out_of_tolerance" },
      { name: "from the future", now: at(vector.timestamp - 301), reason: "timestamp_out_of_tolerance" },
      { name: "timestamp not seconds", headers: { ...vector.headers, "webhook-timestamp": "2026-12-01T10:00:00Z" }, reason: "bad_timestamp" },
      { name: "no signature headers", headers: { "content-type": "application/json" }, reason: "missing_headers" },
      { name: "standard asked, only the guide's headers", scheme: "standard", headers: { "x-webhook-timestamp": "1764583200", "x-webhook-signature": "b3" }, reason: "missing_headers" },
      { name: "signed, but not JSON", body: "not json", headers: signWebhook(vector.current, "evt_1", new Date(vector.timestamp * 1000), "not json"), reason: "bad_body" },
      { name: "signed, but not UTF-8", body: new Uint8Array([0x7b, 0xff, 0x7d]), headers: signWebhook(vector.current, "evt_1", new Date(vector.timestamp * 1000), new Uint8Array([0x7b, 0xff, 0x7d])), reason: "bad_body" },
    ];
    for (const tc of failures) {
      it(`refuses: ${tc.name}`, async () => {
        await assertFails(
          verify(tc.secret ?? vector.current, tc.headers ?? vector.headers, tc.body ?? vector.body, { now: tc.now ?? signedAt, ...(tc.scheme ? { scheme: tc.scheme } : {}) }),
          tc.reason,
        );
      });
    }

    it("needs a secret", async () => {
      await assert.rejects(verify([], vector.headers, vector.body), TypeError);
    });
  });
}

describe("signWebhook", () => {
  it("signs exactly as webhookd does", () => {
    assert.deepEqual(signWebhook([vector.current, vector.previous], vector.id, new Date(vector.timestamp * 1000), vector.body), vector.headers);
  });

  it("computes the guide's signature as the guide's Node code does", () => {
    // The guide's Step 3, over the raw body instead of JSON.stringify(req.body).
    const expected = createHmac("sha256", vector.current).update(vector.headers["x-webhook-timestamp"] + vector.body).digest("hex");
    assert.equal(signWebhook(vector.current, vector.id, new Date(vector.timestamp * 1000), vector.body)["x-webhook-signature"], expected);
  });

  it("is accepted by the standardwebhooks package", () => {
    const ours = signWebhook(vector.current, "msg_1", new Date(), vector.body);
    assert.doesNotThrow(() => new Webhook(vector.current).verify(vector.body, ours));
  });

  it("derives the Standard Webhooks key as webhookd does", () => {
    assert.equal(standardKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").toString("base64"), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    // Not base64 (Go's base64.StdEncoding refuses it): the raw bytes.
    for (const s of ["whsec_not-base64!", "whsec_abc", "whsec_", "plain"]) {
      assert.equal(standardKey(s).toString("utf8"), s);
    }
  });
});

async function assertFails(p: Promise<unknown>, reason: string) {
  await assert.rejects(p, (e: unknown) => e instanceof WebhookVerificationError && e.reason === reason);
}

describe("webhookMiddleware", () => {
  const secret = vector.current;

  // A real Express app with each way of mounting the middleware, and the
  // payloads it let through.
  async function withApp(f: (base: string, seen: unknown[]) => Promise<void>) {
    const seen: unknown[] = [];
    const app = express();
    const ok = (req: express.Request, res: express.Response) => {
      seen.push(verifiedWebhook(req).payload);
      res.json({ received: true });
    };
    app.post("/raw", express.raw({ type: "application/json" }), webhookMiddleware({ secret }), ok);
    app.post("/unparsed", webhookMiddleware({ secret: async () => [secret] }), ok);
    app.post("/json-kept", express.json({ verify: (req, _res, buf) => { (req as WebhookRequest).rawBody = buf; } }), webhookMiddleware({ secret }), ok);
    app.post("/json-lost", express.json(), webhookMiddleware({ secret }), ok);
    app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ error: err.message });
    });
    const server = await listen(app);
    try {
      await f(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen);
    } finally {
      server.close();
    }
  }

  for (const path of ["/raw", "/unparsed", "/json-kept"]) {
    it(`verifies over the raw body: ${path}`, async () => {
      await withApp(async (base, seen) => {
        const headers = { ...signWebhook(secret, "evt_1", new Date(), vector.body), "content-type": "application/json" };
        const good = await fetch(base + path, { method: "POST", headers, body: vector.body });
        assert.equal(good.status, 200, await good.text());
        assert.deepEqual(seen, [JSON.parse(vector.body)]);
        const bad = await fetch(base + path, { method: "POST", headers, body: vector.body.replace("evt_1", "evt_2") });
        assert.equal(bad.status, 401);
        assert.deepEqual(await bad.json(), { error: "invalid webhook signature", reason: "no_matching_signature" });
        assert.equal(seen.length, 1);
      });
    });
  }

  it("refuses to guess a body that was parsed and not kept", async () => {
    await withApp(async (base, seen) => {
      const headers = { ...signWebhook(secret, "evt_1", new Date(), vector.body), "content-type": "application/json" };
      const r = await fetch(base + "/json-lost", { method: "POST", headers, body: vector.body });
      assert.equal(r.status, 500);
      assert.match(((await r.json()) as { error: string }).error, /express\.raw/);
      assert.equal(seen.length, 0);
    });
  });

  it("verifiedWebhook refuses a request the middleware did not see", () => {
    assert.throws(() => verifiedWebhook({}), /did not run/);
  });

  it("works with node:http alone", async () => {
    const mw = webhookMiddleware({ secret });
    const server = await listen(createServer((req, res) => mw(req, res, () => res.end("ok"))));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const headers = signWebhook(secret, "evt_1", new Date(), vector.body);
      assert.equal(await (await fetch(base, { method: "POST", headers, body: vector.body })).text(), "ok");
      assert.equal((await fetch(base, { method: "POST", body: vector.body })).status, 401);
    } finally {
      server.close();
    }
  });
});

function listen(app: express.Express | Server): Promise<Server> {
  return new Promise((resolve) => {
    const s: Server = (app as express.Express).listen ? (app as express.Express).listen(0, "127.0.0.1", () => resolve(s)) : (app as Server).listen(0, "127.0.0.1", () => resolve(s));
  });
}
