// Verification of the requests webhookd sends, in both schemes it signs
// with (signature/signature.go makes them; this must match it byte for byte):
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
// Only node:crypto is used, no other dependency; verify-web.ts does the same
// with WebCrypto for browsers and workers.
import { createHmac } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  WebhookVerificationError,
  anyMatch,
  bodyBytes,
  readSignedRequest,
  secretList,
  standardKeyBytes,
  standardSignatures,
  toBase64,
  toHex,
  verified,
  type VerifiedWebhook,
  type VerifyOptions,
  type WebhookHeaders,
} from "./signature.js";

export {
  WebhookVerificationError,
  type VerificationFailure,
  type VerifiedWebhook,
  type VerifyOptions,
  type WebhookHeaders,
  type WebhookScheme,
} from "./signature.js";

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
  const secrets = secretList(secret);
  const raw = bodyBytes(body);
  const req = readSignedRequest(headers, options);
  const ok =
    req.scheme === "standard"
      ? anyMatch(standardSignatures(req.signature), secrets.map((s) => standardSignature(s, req.id, req.timestampText, raw)))
      : anyMatch([new TextEncoder().encode(req.signature.trim().toLowerCase())], secrets.map((s) => new TextEncoder().encode(toHex(guideSignature(s, req.timestampText, raw)))));
  if (!ok) throw new WebhookVerificationError("no_matching_signature", "no signature matches the secret");
  return verified(req, raw);
}

/**
 * signWebhook makes the headers webhookd would send for body, in both
 * schemes, with secrets current first: for testing a receiver.
 */
export function signWebhook(secrets: string | readonly string[], id: string, timestamp: Date, body: string | Uint8Array): Record<string, string> {
  const list = typeof secrets === "string" ? [secrets] : [...secrets];
  const raw = bodyBytes(body);
  const ts = String(Math.floor(timestamp.getTime() / 1000));
  const headers: Record<string, string> = {
    "webhook-id": id,
    "webhook-timestamp": ts,
    "x-webhook-id": id,
    "x-webhook-timestamp": ts,
  };
  const [current] = list;
  if (current === undefined) return headers;
  headers["x-webhook-signature"] = toHex(guideSignature(current, ts, raw));
  headers["webhook-signature"] = list.map((s) => "v1," + toBase64(standardSignature(s, id, ts, raw))).join(" ");
  return headers;
}

// The guide's crypto.createHmac('sha256', secret): a string key is its UTF-8 bytes.
function guideSignature(secret: string, ts: string, body: Uint8Array): Uint8Array {
  return createHmac("sha256", secret).update(ts).update(body).digest();
}

function standardSignature(secret: string, id: string, ts: string, body: Uint8Array): Uint8Array {
  return createHmac("sha256", standardKeyBytes(secret)).update(`${id}.${ts}.`).update(body).digest();
}

/** standardKey is the Standard Webhooks HMAC key of secret; see standardKeyBytes. */
export function standardKey(secret: string): Buffer {
  return Buffer.from(standardKeyBytes(secret));
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
