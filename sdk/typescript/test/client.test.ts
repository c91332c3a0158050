// The clients' behaviour that needs no webhookd: addresses, the retry
// policy, and retries against real loopback servers that fail on cue.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { Client, Code, RestClient, VERSION, WebhookdError, grpcBaseUrl } from "../src/index.js";
import { retryAfterMs } from "../src/errors.js";
import { retryDelay, retryPolicy } from "../src/retry.js";

describe("grpcBaseUrl", () => {
  const tests: Array<[string, string]> = [
    ["127.0.0.1:9090", "http://127.0.0.1:9090"],
    ["localhost:9090", "http://localhost:9090"],
    ["[::1]:9090", "http://[::1]:9090"],
    ["webhookd.example.com:443", "https://webhookd.example.com:443"],
    ["10.0.0.1:9090", "https://10.0.0.1:9090"],
    ["http://webhookd.internal:9090/", "http://webhookd.internal:9090"],
    ["https://127.0.0.1:9090", "https://127.0.0.1:9090"],
  ];
  for (const [address, want] of tests) {
    it(`${address} → ${want}`, () => assert.equal(grpcBaseUrl(address), want));
  }
  for (const bad of ["", "ftp://x:1", "a b:1"]) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => grpcBaseUrl(bad), TypeError));
  }
});

describe("retryDelay", () => {
  const p = retryPolicy({ maxRetries: 3, initialBackoffMs: 100, maxBackoffMs: 300, maxRetryDelayMs: 2000 });
  const err = (code: Code, retryDelayMs?: number) => new WebhookdError({ code, message: "x", ...(retryDelayMs === undefined ? {} : { retryDelayMs }) });
  const tests: Array<{ name: string; retry: number; err: WebhookdError; want: number | undefined }> = [
    { name: "unavailable, first retry: half to all of the initial backoff", retry: 1, err: err(Code.Unavailable), want: 100 },
    { name: "unavailable, doubling", retry: 2, err: err(Code.Unavailable), want: 200 },
    { name: "unavailable, capped", retry: 3, err: err(Code.Unavailable), want: 300 },
    { name: "out of retries", retry: 4, err: err(Code.Unavailable), want: undefined },
    { name: "rate limited: the server's delay", retry: 1, err: err(Code.ResourceExhausted, 1234), want: 1234 },
    { name: "rate limited longer than allowed", retry: 1, err: err(Code.ResourceExhausted, 2001), want: undefined },
    { name: "resource exhausted without a delay (too large)", retry: 1, err: err(Code.ResourceExhausted), want: undefined },
    { name: "invalid argument", retry: 1, err: err(Code.InvalidArgument), want: undefined },
    { name: "internal", retry: 1, err: err(Code.Internal), want: undefined },
  ];
  for (const tc of tests) {
    it(tc.name, () => assert.equal(retryDelay(p, tc.retry, tc.err, () => 1), tc.want));
  }
  it("jitters down to half the backoff", () => assert.equal(retryDelay(p, 2, err(Code.Unavailable), () => 0), 100));
  it("does not retry UNAVAILABLE for a call that may not run twice", () => assert.equal(retryDelay(p, 1, err(Code.Unavailable), () => 1, false), undefined));
  it("waits out a rate limit for any call", () => assert.equal(retryDelay(p, 1, err(Code.ResourceExhausted, 1234), () => 1, false), 1234));
  it("refuses a negative option", () => assert.throws(() => retryPolicy({ maxRetries: -1 }), RangeError));
});

describe("retryAfterMs", () => {
  it("reads seconds and HTTP dates", () => {
    assert.equal(retryAfterMs("2"), 2000);
    assert.equal(retryAfterMs(new Date(61_000).toUTCString(), 1000), 60_000);
    assert.equal(retryAfterMs(null), undefined);
    assert.equal(retryAfterMs("soon"), undefined);
  });
});

it("VERSION is package.json's version", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  assert.equal(VERSION, pkg.version);
});

// webhookd's version lives in the repository's VERSION file; the SDK's must
// be the same number.
const repoVersion = new URL("../../../../VERSION", import.meta.url);
it("VERSION is webhookd's (the repository's VERSION file)", { skip: existsSync(repoVersion) ? false : `no ${repoVersion.pathname}` }, () => {
  assert.equal(VERSION, readFileSync(repoVersion, "utf8").trim());
});

// serve answers each request with the next of answers (the last one
// repeats) and records what came in.
async function serve(answers: Array<(res: ServerResponse) => void>) {
  const seen: Array<{ url: string; body: string; auth: string | undefined }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({ url: req.url ?? "", body, auth: req.headers.authorization });
      const answer = answers[Math.min(seen.length, answers.length) - 1];
      answer?.(res);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close: () => server.close() };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => (res: ServerResponse) => {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
};
const event = { name: "events/evt_1", type: "property.created", data: {} };

describe("RestClient retries", () => {
  it("retries 503 and 429 with Retry-After, resending the body and the same idempotency key", async () => {
    const s = await serve([
      json(503, { code: 14, message: "unavailable" }),
      json(429, { code: 8, message: "rate limited" }, { "retry-after": "1" }),
      json(200, event),
    ]);
    try {
      const delays: Array<[Code, number]> = [];
      const client = new RestClient({ baseUrl: s.base, apiKey: "whk_test", retry: { initialBackoffMs: 1, onRetry: (r) => delays.push([r.error.code, r.delayMs]) } });
      const got = await client.publishEvent("property.created", { a: 1 });
      assert.equal(got.name, "events/evt_1");
      assert.equal(s.seen.length, 3);
      assert.deepEqual(delays.map(([c]) => c), [Code.Unavailable, Code.ResourceExhausted]);
      assert.equal(delays[1]?.[1], 1000, "Retry-After: 1 is honoured");
      const keys = s.seen.map((r) => new URL(r.url, s.base).searchParams.get("idempotencyKey"));
      assert.match(keys[0] ?? "", /^sdk_[0-9a-f-]{36}$/);
      assert.deepEqual(new Set(keys).size, 1, `one key for every attempt: ${keys.join(" ")}`);
      for (const r of s.seen) {
        assert.deepEqual(JSON.parse(r.body), { type: "property.created", data: { a: 1 } });
        assert.equal(r.auth, "Bearer whk_test");
      }
    } finally {
      s.close();
    }
  });

  it("keeps a caller's idempotency key, and does not retry what would fail again", async () => {
    const s = await serve([json(429, { code: 8, message: "request body larger than 10 bytes" })]);
    try {
      const client = new RestClient({ baseUrl: s.base, apiKey: "whk_test" });
      await assert.rejects(client.publishEvent("property.created", {}, { idempotencyKey: "job-7" }), (e: unknown) => {
        assert.ok(e instanceof WebhookdError);
        assert.equal(e.code, Code.ResourceExhausted);
        assert.equal(e.httpStatus, 429);
        return true;
      });
      assert.equal(s.seen.length, 1);
      assert.equal(new URL(s.seen[0]?.url ?? "", s.base).searchParams.get("idempotencyKey"), "job-7");
    } finally {
      s.close();
    }
  });

  it("gives up after maxRetries and reports the last failure", async () => {
    const s = await serve([json(503, { code: 14, message: "webhookd is stopping" })]);
    try {
      const client = new RestClient({ baseUrl: s.base, apiKey: "whk_test", retry: { maxRetries: 2, initialBackoffMs: 1 } });
      await assert.rejects(client.getDelivery("deliveries/dlv_1"), (e: unknown) => e instanceof WebhookdError && e.code === Code.Unavailable && e.message === "webhookd is stopping");
      assert.equal(s.seen.length, 3);
    } finally {
      s.close();
    }
  });

  it("does not send a create again after a 503: it may have been done", async () => {
    const s = await serve([json(503, { code: 14, message: "unavailable" }), json(200, { name: "endpoints/ep_1" })]);
    try {
      const client = new RestClient({ baseUrl: s.base, apiKey: "whk_test", retry: { initialBackoffMs: 1 } });
      await assert.rejects(client.createEndpoint({ url: "https://a.example/", eventTypes: ["property.created"] }), (e: unknown) => e instanceof WebhookdError && e.code === Code.Unavailable);
      assert.equal(s.seen.length, 1);
    } finally {
      s.close();
    }
  });

  it("follows page tokens", async () => {
    const s = await serve([
      json(200, { endpoints: [{ name: "endpoints/ep_2" }, { name: "endpoints/ep_1" }], nextPageToken: "t1" }),
      json(200, { endpoints: [{ name: "endpoints/ep_0" }] }),
    ]);
    try {
      const client = new RestClient({ baseUrl: s.base, apiKey: "whk_test" });
      const names: string[] = [];
      for await (const ep of client.endpoints({ pageSize: 2 })) names.push(ep.name ?? "");
      assert.deepEqual(names, ["endpoints/ep_2", "endpoints/ep_1", "endpoints/ep_0"]);
      assert.deepEqual(s.seen.map((r) => r.url), ["/v1/endpoints?pageSize=2", "/v1/endpoints?pageSize=2&pageToken=t1"]);
    } finally {
      s.close();
    }
  });
});

describe("Client retries", () => {
  it("retries UNAVAILABLE when nothing listens, then throws WebhookdError", async () => {
    // A port that was just free: connections to it are refused.
    const s = await serve([]);
    const address = s.base.replace("http://", "");
    s.close();
    const retries: number[] = [];
    const client = new Client({ address, apiKey: "whk_test", retry: { maxRetries: 2, initialBackoffMs: 1, onRetry: (r) => retries.push(r.retry) } });
    try {
      await assert.rejects(client.webhooks.listEventTypes({}), (e: unknown) => e instanceof WebhookdError && e.code === Code.Unavailable);
      assert.deepEqual(retries, [1, 2]);
    } finally {
      client.close();
    }
  });
});

for (const entry of ["rest.js", "verify-web.js"]) it(`${entry} imports nothing of Node, so browsers can load it`, () => {
  // Walk the compiled module graph from rest.js through its relative imports.
  const seen = new Set<string>();
  const bare = new Set<string>();
  const visit = (url: URL) => {
    if (seen.has(url.href)) return;
    seen.add(url.href);
    const js = readFileSync(url, "utf8");
    for (const m of js.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)) {
      const spec = m[1] ?? "";
      if (spec.startsWith(".")) visit(new URL(spec, url));
      else bare.add(spec);
    }
  };
  visit(new URL(`../src/${entry}`, import.meta.url));
  assert.ok(seen.size > 1, `only ${seen.size} modules found`);
  const nodeOnly = [...bare].filter((s) => s.startsWith("node:") || s === "@connectrpc/connect-node" || !/^(@bufbuild\/protobuf|@connectrpc\/connect|openapi-fetch)(\/|$)/.test(s));
  assert.deepEqual(nodeOnly, [], `${entry} reaches ${[...bare].join(", ")}`);
});
