// verifyWebhookWeb is verifyWebhook with WebCrypto (crypto.subtle) instead
// of node:crypto, for receivers in browsers' service workers, Deno, Bun or
// edge workers. It checks the same schemes the same way (signature.ts);
// only the HMAC differs, and it is asynchronous because subtle is.
import {
  WebhookVerificationError,
  anyMatch,
  bodyBytes,
  guideMessage,
  readSignedRequest,
  secretList,
  standardKeyBytes,
  standardMessage,
  standardSignatures,
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

/** See verifyWebhook in verify.ts. */
export async function verifyWebhookWeb(
  secret: string | readonly string[],
  headers: WebhookHeaders,
  body: string | Uint8Array,
  options: VerifyOptions = {},
): Promise<VerifiedWebhook> {
  const secrets = secretList(secret);
  const raw = bodyBytes(body);
  const req = readSignedRequest(headers, options);
  let ok: boolean;
  if (req.scheme === "standard") {
    const message = standardMessage(req.id, req.timestampText, raw);
    const expected = await Promise.all(secrets.map((s) => hmac(standardKeyBytes(s), message)));
    ok = anyMatch(standardSignatures(req.signature), expected);
  } else {
    const message = guideMessage(req.timestampText, raw);
    const enc = new TextEncoder();
    const expected = await Promise.all(secrets.map(async (s) => enc.encode(toHex(await hmac(enc.encode(s), message)))));
    ok = anyMatch([enc.encode(req.signature.trim().toLowerCase())], expected);
  }
  if (!ok) throw new WebhookVerificationError("no_matching_signature", "no signature matches the secret");
  return verified(req, raw);
}

async function hmac(key: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const k = await globalThis.crypto.subtle.importKey("raw", key as Uint8Array<ArrayBuffer>, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await globalThis.crypto.subtle.sign("HMAC", k, message as Uint8Array<ArrayBuffer>));
}
