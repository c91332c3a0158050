// When and how long a client waits before calling again. Both clients retry
// the same failures the same way: UNAVAILABLE (webhookd or the network is
// down for a moment) with exponential backoff, and RESOURCE_EXHAUSTED only
// when the server says when to come back (a rate limit's RetryInfo or
// Retry-After); a RESOURCE_EXHAUSTED without one, such as a request body
// over the size limit, fails the same way every time. UNAVAILABLE is retried
// only for calls that may safely run twice (reads, and publishes, which carry
// an idempotency key): a create, rotation or manual retry may have been done
// before the connection failed, so it is left to the caller, as the Go and
// Python SDKs do. A rate limit refuses a call before it runs, so every call
// may wait one out.
import { Code, WebhookdError } from "./errors.js";

export interface RetryOptions {
  /** Retries after the first attempt; 0 turns retrying off. Default 3. */
  maxRetries?: number;
  /** Backoff before the first retry of an UNAVAILABLE call. Default 100 ms. */
  initialBackoffMs?: number;
  /** Longest backoff between retries. Default 5 s. */
  maxBackoffMs?: number;
  /**
   * Longest wait the server may ask for (RetryInfo, Retry-After); a call
   * asked to wait longer fails at once with the server's error, whose
   * retryDelayMs says how long. Default 60 s.
   */
  maxRetryDelayMs?: number;
  /** Called before each retry, with the failure and the wait chosen. */
  onRetry?: (info: RetryInfo) => void;
}

export interface RetryInfo {
  /** 1 for the first retry. */
  retry: number;
  delayMs: number;
  error: WebhookdError;
}

export interface RetryPolicy {
  maxRetries: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  maxRetryDelayMs: number;
  onRetry: ((info: RetryInfo) => void) | undefined;
}

export function retryPolicy(o: RetryOptions = {}): RetryPolicy {
  const p: RetryPolicy = {
    maxRetries: o.maxRetries ?? 3,
    initialBackoffMs: o.initialBackoffMs ?? 100,
    maxBackoffMs: o.maxBackoffMs ?? 5000,
    maxRetryDelayMs: o.maxRetryDelayMs ?? 60_000,
    onRetry: o.onRetry,
  };
  for (const [k, v] of Object.entries(p)) {
    if (typeof v === "number" && (!Number.isFinite(v) || v < 0)) {
      throw new RangeError(`retry.${k} must be a finite number >= 0, got ${v}`);
    }
  }
  return p;
}

/**
 * retryDelay is how long to wait before retry number `retry` (1, 2, …) of a
 * call that failed with err, or undefined when it must not be retried.
 */
export function retryDelay(p: RetryPolicy, retry: number, err: WebhookdError, random: () => number = Math.random, repeatable = true): number | undefined {
  if (retry > p.maxRetries) return undefined;
  if (err.code === Code.ResourceExhausted && err.retryDelayMs !== undefined) {
    return err.retryDelayMs <= p.maxRetryDelayMs ? err.retryDelayMs : undefined;
  }
  if (err.code !== Code.Unavailable || !repeatable) return undefined;
  if (err.retryDelayMs !== undefined) {
    return err.retryDelayMs <= p.maxRetryDelayMs ? err.retryDelayMs : undefined;
  }
  // Half fixed, half random: clients that failed together do not all come
  // back at the same instant.
  const backoff = Math.min(p.maxBackoffMs, p.initialBackoffMs * 2 ** (retry - 1));
  return backoff / 2 + random() * (backoff / 2);
}

/**
 * withRetries calls attempt until it succeeds, fails in a way that must not
 * be retried, or runs out of retries; classify says what a failure is, and
 * the last failure is rethrown as it was.
 */
export async function withRetries<T>(
  p: RetryPolicy,
  signal: AbortSignal | undefined,
  attempt: () => Promise<T>,
  classify: (err: unknown) => WebhookdError,
  repeatable = true,
): Promise<T> {
  for (let retry = 1; ; retry++) {
    try {
      return await attempt();
    } catch (e) {
      if (signal?.aborted) throw e;
      const err = classify(e);
      const delayMs = retryDelay(p, retry, err, Math.random, repeatable);
      if (delayMs === undefined) throw e;
      p.onRetry?.({ retry, delayMs, error: err });
      await sleep(delayMs, signal);
    }
  }
}

/** sleep waits ms, or rejects with the signal's reason when it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
