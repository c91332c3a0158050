// Verification of the requests webhookd sends, in both schemes it signs
// with (worker/signature.go makes them; this must match it byte for byte):
//
//  - Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature):
//    "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>",
//    space-separated, one per secret while a rotation's grace period lasts.
//    The key is the base64 decoding of what follows "whsec_" (or the
//    secret's raw bytes when that is not base64), as the standardwebhooks
//    libraries do.
//  - The webhooks guide's X-Webhook-Signature: lowercase hex of
//    HMAC-SHA256(key = the whole secret string, "whsec_" included, as UTF-8,
//    message = timestamp + body), exactly what the guide's Node middleware
//    computes with crypto.createHmac('sha256', secret). Only the current
//    secret signs it.
//
// Both need the raw body, the exact bytes received: a body parsed and
// serialised again may differ in spacing or key order.
//
// Only node:crypto is used, no other dependency.
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Request headers: a fetch Headers, or Node's / Express's req.headers. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export type WebhookScheme = "standard" | "guide";

export interface VerifyOptions {
  /**
   * How far the timestamp may be from now, in seconds, either way; older
   * requests are refused as replays. Default 300 (5 minutes).
   */
  toleranceSeconds?: number;
  /**
   * Which scheme to check. "auto" (the default) checks Standard Webhooks
   * when its headers are present and the guide's X-Webhook-Signature
   * otherwise; webhookd sends both.
   */
  scheme?: WebhookScheme | "auto";
  /** The current time in milliseconds; for tests. */
  now?: () => number;
}

/** A request whose signature checked out. */
export interface VerifiedWebhook {
  /** The event id (webhook-id / X-Webhook-Id): the same on every attempt, to deduplicate. */
  id: string;
  /** When this attempt was signed. */
  timestamp: Date;
  /** The scheme that was checked. */
  scheme: WebhookScheme;
  /** The body parsed as JSON: `{"id", "type", "created", "data"}`. */
  payload: unknown;
}

export type VerificationFailure =
  | "missing_headers"
  | "bad_timestamp"
  | "timestamp_out_of_tolerance"
  | "no_matching_signature"
  | "bad_body";

export class WebhookVerificationError extends Error {
  readonly reason: VerificationFailure;
  constructor(reason: VerificationFailure, message: string) {
    super(message);
    this.name = "WebhookVerificationError";
    this.reason = reason;
  }
}

const secretPrefix = "whsec_";

/**
 * verifyWebhook checks a request webhookd sent, with the endpoint's secret
 * (or several: the current and the previous one during a rotation), and
 * returns its id, timestamp and parsed body. It throws
 * WebhookVerificationError when the request is not authentic or too old.
 */
export function verifyWebhook(
  secret: string | readonly string[],
  headers: WebhookHeaders,
  body: string | Uint8Array,
  options: VerifyOptions = {},
): VerifiedWebhook {
  const secrets = (typeof secret === "string" ? [secret] : [...secret]).filter((s) => s !== "");
  if (secrets.length === 0) throw new TypeError("verifyWebhook: no secret given");
  const raw = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const get = headerGetter(headers);
  const scheme = options.scheme ?? "auto";
  const standard = scheme === "standard" || (scheme === "auto" && get("webhook-signature") !== undefined);

  const id = standard ? get("webhook-id") : get("x-webhook-id");
  const ts = standard ? get("webhook-timestamp") : get("x-webhook-timestamp");
  const sig = standard ? get("webhook-signature") : get("x-webhook-signature");
  if (ts === undefined || sig === undefined || (standard && id === undefined)) {
    const names = standard ? "webhook-id, webhook-timestamp and webhook-signature" : "X-Webhook-Timestamp and X-Webhook-Signature";
    throw new WebhookVerificationError("missing_headers", `the request lacks ${names}`);
  }
  const timestamp = checkTimestamp(ts, options);

  const ok = standard ? matchStandard(secrets, id ?? "", ts, raw, sig) : matchGuide(secrets, ts, raw, sig);
  if (!ok) throw new WebhookVerificationError("no_matching_signature", "no signature matches the secret");

  let payload: unknown;
  try {
    payload = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new WebhookVerificationError("bad_body", "the signed body is not JSON");
  }
  return { id: id ?? "", timestamp, scheme: standard ? "standard" : "guide", payload };
}

/**
 * signWebhook makes the headers webhookd would send for body, in both
 * schemes, with secrets current first: for testing a receiver.
 */
export function signWebhook(secrets: string | readonly string[], id: string, timestamp: Date, body: string | Uint8Array): Record<string, string> {
  const list = typeof secrets === "string" ? [secrets] : [...secrets];
  const raw = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const ts = String(Math.floor(timestamp.getTime() / 1000));
  const headers: Record<string, string> = {
    "webhook-id": id,
    "webhook-timestamp": ts,
    "x-webhook-id": id,
    "x-webhook-timestamp": ts,
  };
  const [current] = list;
  if (current === undefined) return headers;
  headers["x-webhook-signature"] = guideSignature(current, ts, raw).toString("hex");
  headers["webhook-signature"] = list.map((s) => "v1," + standardSignature(s, id, ts, raw).toString("base64")).join(" ");
  return headers;
}

function checkTimestamp(ts: string, options: VerifyOptions): Date {
  if (!/^\d{1,15}$/.test(ts)) throw new WebhookVerificationError("bad_timestamp", `the timestamp ${JSON.stringify(ts)} is not Unix seconds`);
  const seconds = Number(ts);
  const now = (options.now ?? Date.now)() / 1000;
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(now - seconds) > tolerance) {
    throw new WebhookVerificationError("timestamp_out_of_tolerance", `the timestamp is ${Math.round(now - seconds)} s from now, more than ${tolerance} s`);
  }
  return new Date(seconds * 1000);
}

function matchStandard(secrets: string[], id: string, ts: string, body: Buffer, header: string): boolean {
  const given: Buffer[] = [];
  for (const part of header.split(" ")) {
    const [version, value] = splitOnce(part, ",");
    if (version === "v1" && value !== "") given.push(Buffer.from(value, "base64"));
  }
  let ok = false;
  for (const secret of secrets) {
    const expected = standardSignature(secret, id, ts, body);
    // Every pair is compared, so the time taken says nothing about which matched.
    for (const g of given) ok = equal(g, expected) || ok;
  }
  return ok;
}

function matchGuide(secrets: string[], ts: string, body: Buffer, header: string): boolean {
  const given = Buffer.from(header.trim().toLowerCase(), "utf8");
  let ok = false;
  for (const secret of secrets) {
    ok = equal(given, Buffer.from(guideSignature(secret, ts, body).toString("hex"), "utf8")) || ok;
  }
  return ok;
}

function guideSignature(secret: string, ts: string, body: Buffer): Buffer {
  return createHmac("sha256", secret).update(ts).update(body).digest();
}

function standardSignature(secret: string, id: string, ts: string, body: Buffer): Buffer {
  return createHmac("sha256", standardKey(secret)).update(`${id}.${ts}.`).update(body).digest();
}

/**
 * standardKey is the Standard Webhooks HMAC key of secret, as webhookd
 * derives it: the base64 decoding of what follows "whsec_" (strict base64,
 * as Go's base64.StdEncoding reads it), or the raw bytes otherwise.
 */
export function standardKey(secret: string): Buffer {
  if (secret.startsWith(secretPrefix)) {
    const encoded = secret.slice(secretPrefix.length);
    if (encoded.length > 0 && encoded.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
      const key = Buffer.from(encoded, "base64");
      if (key.length > 0) return key;
    }
  }
  return Buffer.from(secret, "utf8");
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ""] : [s.slice(0, i), s.slice(i + 1)];
}

function headerGetter(headers: WebhookHeaders): (name: string) => string | undefined {
  if (typeof Headers !== "undefined" && headers instanceof Headers) {
    return (name) => headers.get(name) ?? undefined;
  }
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (v === undefined) continue;
    lower.set(k.toLowerCase(), Array.isArray(v) ? v.join(", ") : v);
  }
  return (name) => lower.get(name);
}

/** The request the middleware sees: Node's, with what body parsers add. */
export type WebhookRequest = IncomingMessage & { body?: unknown; rawBody?: unknown; webhook?: VerifiedWebhook };

export interface MiddlewareOptions extends VerifyOptions {
  /** The endpoint's secret(s), or a function that looks them up per request. */
  secret: string | readonly string[] | ((req: WebhookRequest) => string | readonly string[] | Promise<string | readonly string[]>);
  /** Largest body read when no body parser ran before; default 1 MiB. */
  maxBodyBytes?: number;
}

/**
 * webhookMiddleware is an Express (or plain node:http) middleware that
 * verifies the request over its raw body and sets `req.webhook`
 * (VerifiedWebhook: id, timestamp, scheme, payload) before calling next, or
 * answers 401 itself. Put it before any JSON body parser, or after
 * `express.raw({ type: "application/json" })`, or after an `express.json()`
 * whose `verify` keeps the bytes in `req.rawBody`: a body that was parsed
 * and not kept cannot be verified.
 */
export function webhookMiddleware(options: MiddlewareOptions): (req: WebhookRequest, res: ServerResponse, next: (err?: unknown) => void) => void {
  const { secret, maxBodyBytes = 1 << 20, ...verifyOptions } = options;
  return (req, res, next) => {
    void (async () => {
      let body: Buffer;
      try {
        body = await rawBody(req, maxBodyBytes);
      } catch (e) {
        next(e);
        return;
      }
      const secrets = typeof secret === "function" ? await secret(req) : secret;
      try {
        req.webhook = verifyWebhook(secrets, req.headers, body, verifyOptions);
      } catch (e) {
        if (!(e instanceof WebhookVerificationError)) throw e;
        res.statusCode = 401;
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify({ error: "invalid webhook signature", reason: e.reason }));
        return;
      }
      next();
    })().catch(next);
  };
}

/**
 * verifiedWebhook is what webhookMiddleware verified for req, typed (an
 * Express Request does not know `req.webhook`); it throws when the
 * middleware did not run for this route.
 */
export function verifiedWebhook(req: object): VerifiedWebhook {
  const w = (req as WebhookRequest).webhook;
  if (w === undefined) throw new Error("verifiedWebhook: webhookMiddleware did not run for this request");
  return w;
}

async function rawBody(req: WebhookRequest, max: number): Promise<Buffer> {
  if (Buffer.isBuffer(req.rawBody)) return req.rawBody;
  if (Buffer.isBuffer(req.body)) return req.body;
  if (typeof req.body === "string") return Buffer.from(req.body, "utf8");
  if (req.body !== undefined && req.readableEnded) {
    throw new Error("webhookMiddleware: the body was parsed before it could be verified; mount express.raw({ type: 'application/json' }) for this route, or keep the bytes in req.rawBody");
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += b.length;
    if (size > max) throw new Error(`webhookMiddleware: body larger than ${max} bytes`);
    chunks.push(b);
  }
  const body = Buffer.concat(chunks);
  req.rawBody = body;
  return body;
}
