// WebhookdError is the one error type both clients throw, so that callers
// handle a refused call the same way whether it went over gRPC or REST: the
// gRPC code (the REST API's google.rpc.Status carries the same numbers), the
// field violations of a google.rpc.BadRequest, and how long the server asked
// to wait before retrying (RetryInfo over gRPC, Retry-After over REST).
import { Code, ConnectError } from "@connectrpc/connect";
import { BadRequestSchema, RetryInfoSchema } from "./gen/proto/google/rpc/error_details_pb.js";

export { Code };

/** One invalid field of a request, as webhookd names it (`endpoint.url`). */
export interface FieldViolation {
  /** The field's path in the request, for example `endpoint.url`. */
  field: string;
  /** What is wrong with it. */
  description: string;
  /** A machine-readable reason, when the server gives one. */
  reason: string;
}

export interface WebhookdErrorInit {
  code: Code;
  message: string;
  httpStatus?: number;
  fieldViolations?: FieldViolation[];
  retryDelayMs?: number;
  cause?: unknown;
}

export class WebhookdError extends Error {
  /** The gRPC status code, for example `Code.InvalidArgument`. */
  readonly code: Code;
  /** The HTTP status of a REST call; undefined over gRPC. */
  readonly httpStatus: number | undefined;
  /** The field violations of the server's google.rpc.BadRequest, if any. */
  readonly fieldViolations: readonly FieldViolation[];
  /**
   * How long the server asked the caller to wait before trying again
   * (google.rpc.RetryInfo, or Retry-After over REST), in milliseconds.
   */
  readonly retryDelayMs: number | undefined;

  constructor(init: WebhookdErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "WebhookdError";
    this.code = init.code;
    this.httpStatus = init.httpStatus;
    this.fieldViolations = init.fieldViolations ?? [];
    this.retryDelayMs = init.retryDelayMs;
  }

  /** The description of the violation of `field`, if the server named it. */
  violation(field: string): string | undefined {
    return this.fieldViolations.find((v) => v.field === field)?.description;
  }

  /** The name of the code as gRPC spells it: `INVALID_ARGUMENT`. */
  get codeName(): string {
    return codeName(this.code);
  }
}

/** `Code.InvalidArgument` → `INVALID_ARGUMENT`. */
export function codeName(code: Code): string {
  const name = Code[code];
  return name === undefined ? `CODE_${code}` : name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/**
 * fromConnectError turns a gRPC failure into a WebhookdError, decoding the
 * status details webhookd sends.
 */
export function fromConnectError(err: unknown): WebhookdError {
  if (err instanceof WebhookdError) return err;
  const ce = ConnectError.from(err);
  const fieldViolations: FieldViolation[] = [];
  for (const br of ce.findDetails(BadRequestSchema)) {
    for (const v of br.fieldViolations) {
      fieldViolations.push({ field: v.field, description: v.description, reason: v.reason });
    }
  }
  let retryDelayMs: number | undefined;
  const ri = ce.findDetails(RetryInfoSchema)[0];
  if (ri?.retryDelay) {
    retryDelayMs = Number(ri.retryDelay.seconds) * 1000 + Math.ceil(ri.retryDelay.nanos / 1e6);
  }
  return new WebhookdError({ code: ce.code, message: ce.rawMessage, fieldViolations, retryDelayMs, cause: err });
}

/** The JSON form of google.rpc.Status that the REST API answers with. */
export interface RestStatus {
  code?: number;
  message?: string;
  details?: Array<{ "@type"?: string; [key: string]: unknown }>;
}

const httpCodes: Record<number, Code> = {
  400: Code.InvalidArgument,
  401: Code.Unauthenticated,
  403: Code.PermissionDenied,
  404: Code.NotFound,
  409: Code.Aborted,
  412: Code.FailedPrecondition,
  413: Code.ResourceExhausted,
  429: Code.ResourceExhausted,
  499: Code.Canceled,
  501: Code.Unimplemented,
  502: Code.Unavailable,
  503: Code.Unavailable,
  504: Code.DeadlineExceeded,
};

/**
 * fromRestResponse turns a failed REST call into a WebhookdError: the code
 * and message of the google.rpc.Status body (or, for a body that is not one,
 * a proxy's page say, a code from the HTTP status), its BadRequest field
 * violations, and the Retry-After header.
 */
export function fromRestResponse(status: number, headers: Headers, body: unknown): WebhookdError {
  const s: RestStatus = typeof body === "object" && body !== null ? (body as RestStatus) : {};
  const fieldViolations: FieldViolation[] = [];
  for (const d of s.details ?? []) {
    if (d["@type"] !== "type.googleapis.com/google.rpc.BadRequest") continue;
    const vs = (d as { fieldViolations?: Array<Partial<FieldViolation>> }).fieldViolations ?? [];
    for (const v of vs) {
      fieldViolations.push({ field: v.field ?? "", description: v.description ?? "", reason: v.reason ?? "" });
    }
  }
  const code = typeof s.code === "number" && s.code > 0 ? (s.code as Code) : (httpCodes[status] ?? (status >= 500 ? Code.Internal : Code.Unknown));
  const message = s.message || `webhookd answered HTTP ${status}`;
  return new WebhookdError({ code, message, httpStatus: status, fieldViolations, retryDelayMs: retryAfterMs(headers.get("Retry-After")) });
}

/**
 * retryAfterMs reads a Retry-After header, in seconds or as an HTTP date.
 */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}
