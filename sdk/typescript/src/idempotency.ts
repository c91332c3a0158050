// newIdempotencyKey makes the key a publish carries when the caller gave
// none: random, so that two publishes never share one, and the same for
// every retry of one publish. globalThis.crypto exists in Node 20 and in
// browsers alike.
export function newIdempotencyKey(): string {
  return `sdk_${globalThis.crypto.randomUUID()}`;
}
