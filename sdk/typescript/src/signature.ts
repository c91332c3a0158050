// The two signature schemes webhookd signs with, apart from any crypto
// implementation: which headers to read, the timestamp window, how a
// Standard Webhooks key comes from a secret, and the comparison. verify.ts
// (node:crypto) and verify-web.ts (WebCrypto, for browsers and workers)
// compute the HMACs; signature/signature.go is what both must match.

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

/** The signature headers of a request whose timestamp is within the window. */
export interface SignedRequest {
  scheme: WebhookScheme;
  id: string;
  timestampText: string;
  timestamp: Date;
  signature: string;
}

/**
 * readSignedRequest picks the scheme (see VerifyOptions.scheme), reads its
 * headers and checks the timestamp, or throws WebhookVerificationError.
 */
export function readSignedRequest(headers: WebhookHeaders, options: VerifyOptions): SignedRequest {
  const get = headerGetter(headers);
  const choice = options.scheme ?? "auto";
  const standard = choice === "standard" || (choice === "auto" && get("webhook-signature") !== undefined);
  const id = standard ? get("webhook-id") : get("x-webhook-id");
  const ts = standard ? get("webhook-timestamp") : get("x-webhook-timestamp");
  const sig = standard ? get("webhook-signature") : get("x-webhook-signature");
  if (ts === undefined || sig === undefined || (standard && id === undefined)) {
    const names = standard ? "webhook-id, webhook-timestamp and webhook-signature" : "X-Webhook-Timestamp and X-Webhook-Signature";
    throw new WebhookVerificationError("missing_headers", `the request lacks ${names}`);
  }
  if (!/^\d{1,15}$/.test(ts)) throw new WebhookVerificationError("bad_timestamp", `the timestamp ${JSON.stringify(ts)} is not Unix seconds`);
  const seconds = Number(ts);
  const now = (options.now ?? Date.now)() / 1000;
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(now - seconds) > tolerance) {
    throw new WebhookVerificationError("timestamp_out_of_tolerance", `the timestamp is ${Math.round(now - seconds)} s from now, more than ${tolerance} s`);
  }
  return { scheme: standard ? "standard" : "guide", id: id ?? "", timestampText: ts, timestamp: new Date(seconds * 1000), signature: sig };
}

/** secretList checks and normalises the secret argument of the verifiers. */
export function secretList(secret: string | readonly string[]): string[] {
  const secrets = (typeof secret === "string" ? [secret] : [...secret]).filter((s) => s !== "");
  if (secrets.length === 0) throw new TypeError("verifyWebhook: no secret given");
  return secrets;
}

/** The bytes of a body given as text (UTF-8) or bytes. */
export function bodyBytes(body: string | Uint8Array): Uint8Array {
  return typeof body === "string" ? new TextEncoder().encode(body) : body;
}

/**
 * standardKeyBytes is the Standard Webhooks HMAC key of secret, as webhookd
 * derives it: the base64 decoding of what follows "whsec_" (strict base64,
 * as Go's base64.StdEncoding reads it), or the secret's UTF-8 bytes
 * otherwise.
 */
export function standardKeyBytes(secret: string): Uint8Array {
  if (secret.startsWith(secretPrefix)) {
    const encoded = secret.slice(secretPrefix.length);
    if (encoded.length > 0 && encoded.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
      const key = fromBase64(encoded);
      if (key.length > 0) return key;
    }
  }
  return new TextEncoder().encode(secret);
}

/** The message Standard Webhooks signs: id.timestamp.body. */
export function standardMessage(id: string, ts: string, body: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(`${id}.${ts}.`);
  const m = new Uint8Array(prefix.length + body.length);
  m.set(prefix);
  m.set(body, prefix.length);
  return m;
}

/** The message the guide signs: timestamp + body. */
export function guideMessage(ts: string, body: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(ts);
  const m = new Uint8Array(prefix.length + body.length);
  m.set(prefix);
  m.set(body, prefix.length);
  return m;
}

/** The v1 signatures of a webhook-signature header, decoded. */
export function standardSignatures(header: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const part of header.split(" ")) {
    const i = part.indexOf(",");
    if (i < 0 || part.slice(0, i) !== "v1") continue;
    const value = part.slice(i + 1);
    if (value === "" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) continue;
    out.push(fromBase64(value));
  }
  return out;
}

/**
 * anyMatch reports whether any given signature equals any expected one,
 * comparing every pair in constant time so that the time taken says
 * nothing about which matched or how much of one did.
 */
export function anyMatch(given: readonly Uint8Array[], expected: readonly Uint8Array[]): boolean {
  let ok = false;
  for (const e of expected) for (const g of given) ok = bytesEqual(g, e) || ok;
  return ok;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

export function toHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

export function toBase64(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** verified parses the signed body, now that it is known to be authentic. */
export function verified(req: SignedRequest, body: Uint8Array): VerifiedWebhook {
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    throw new WebhookVerificationError("bad_body", "the signed body is not UTF-8 JSON");
  }
  return { id: req.id, timestamp: req.timestamp, scheme: req.scheme, payload };
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
