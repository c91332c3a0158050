// Client is webhookd's gRPC API for Node: the generated services
// (protoc-gen-es descriptors, called through @connectrpc/connect-node's gRPC
// transport) with an API key on every call, retries (see retry.ts), an
// idempotency key on every publish, and async iterators over list pages.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import type { JsonObject } from "@bufbuild/protobuf";
import { createClient, type Client as ConnectClient, type Interceptor, type CallOptions } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager, type GrpcTransportOptions } from "@connectrpc/connect-node";
import { fromConnectError } from "./errors.js";
import { paginate } from "./pages.js";
import { retryPolicy, withRetries, type RetryOptions } from "./retry.js";
import { AdminService, type ListAccountsRequestSchema, type ListApiKeysRequestSchema } from "./gen/proto/webhooks/v1/admin_service_pb.js";
import type { Account, ApiKey, Delivery, Endpoint, Event } from "./gen/proto/webhooks/v1/resources_pb.js";
import {
  PublishEventRequestSchema,
  WebhookService,
  type ListDeliveriesRequestSchema,
  type ListEndpointsRequestSchema,
  type ListEventsRequestSchema,
  type PublishEventRequest,
} from "./gen/proto/webhooks/v1/webhook_service_pb.js";
import { newIdempotencyKey } from "./idempotency.js";

export interface ClientOptions {
  /**
   * webhookd's gRPC address. A URL chooses the scheme
   * (`https://webhookd.example.com:9090`, or `http://…` for plaintext); a
   * bare `host:port` means TLS, except on loopback (`127.0.0.1:9090`,
   * `localhost:9090`, `[::1]:9090`), where webhookd listens by default.
   */
  address: string;
  /** An API key, `whk_…`, sent as `authorization: Bearer …` on every call. */
  apiKey: string;
  /** How failed calls are retried; `{ maxRetries: 0 }` turns it off. */
  retry?: RetryOptions;
  /** Deadline of each call, retries included, in milliseconds. Default 30 s. */
  timeoutMs?: number;
  /** More interceptors, run inside the client's (after auth, around each attempt). */
  interceptors?: Interceptor[];
  /** Options of Node's http2.connect, for example a `ca` for a private TLS certificate. */
  nodeOptions?: GrpcTransportOptions["nodeOptions"];
}

/**
 * Client calls webhookd over gRPC. `webhooks` and `admin` are the whole
 * generated services; the methods beside them are the calls that gain the
 * most from help. Every call may throw WebhookdError.
 */
export class Client {
  /** Every WebhookService call, with auth, retries and publish idempotency. */
  readonly webhooks: ConnectClient<typeof WebhookService>;
  /** AdminService (accounts and API keys), for internal keys. */
  readonly admin: ConnectClient<typeof AdminService>;
  readonly #sessions: Http2SessionManager;

  constructor(options: ClientOptions) {
    if (!options.apiKey) throw new TypeError("Client: apiKey is required");
    const baseUrl = grpcBaseUrl(options.address);
    const policy = retryPolicy(options.retry);
    this.#sessions = new Http2SessionManager(baseUrl, {}, options.nodeOptions);
    const transport = createGrpcTransport({
      baseUrl,
      sessionManager: this.#sessions,
      defaultTimeoutMs: options.timeoutMs ?? 30_000,
      interceptors: [
        authInterceptor(options.apiKey),
        idempotencyInterceptor,
        retryInterceptor(policy),
        ...(options.interceptors ?? []),
      ],
    });
    this.webhooks = withWebhookdErrors(createClient(WebhookService, transport));
    this.admin = withWebhookdErrors(createClient(AdminService, transport));
  }

  /**
   * publishEvent publishes an event of `type` with `data`. Without an
   * idempotencyKey, one is made up, so that the client's own retries never
   * publish twice; pass your own to make retries of your own safe too (a
   * job that runs again, say).
   */
  publishEvent(
    type: string,
    data: Record<string, unknown>,
    options: { account?: string; idempotencyKey?: string } & CallOptions = {},
  ): Promise<Event> {
    const { account, idempotencyKey, ...call } = options;
    return this.webhooks.publishEvent(
      { account: account ?? "", idempotencyKey: idempotencyKey ?? "", event: { type, data: data as JsonObject } },
      call,
    );
  }

  /** Every endpoint, newest first, fetching pages as the loop needs them. */
  endpoints(request: MessageInitShape<typeof ListEndpointsRequestSchema> = {}, call?: CallOptions): AsyncGenerator<Endpoint, void, undefined> {
    return paginate(async (pageToken) => {
      const r = await this.webhooks.listEndpoints({ ...request, pageToken }, call);
      return { items: r.endpoints, nextPageToken: r.nextPageToken };
    });
  }

  /** Every event matching request, newest first. */
  events(request: MessageInitShape<typeof ListEventsRequestSchema> = {}, call?: CallOptions): AsyncGenerator<Event, void, undefined> {
    return paginate(async (pageToken) => {
      const r = await this.webhooks.listEvents({ ...request, pageToken }, call);
      return { items: r.events, nextPageToken: r.nextPageToken };
    });
  }

  /**
   * Every delivery of `request.parent` (`endpoints/…` or `events/…`),
   * newest first, without attempts: getDelivery has them.
   */
  deliveries(request: MessageInitShape<typeof ListDeliveriesRequestSchema>, call?: CallOptions): AsyncGenerator<Delivery, void, undefined> {
    return paginate(async (pageToken) => {
      const r = await this.webhooks.listDeliveries({ ...request, pageToken }, call);
      return { items: r.deliveries, nextPageToken: r.nextPageToken };
    });
  }

  /** Every account (internal keys only). */
  accounts(request: MessageInitShape<typeof ListAccountsRequestSchema> = {}, call?: CallOptions): AsyncGenerator<Account, void, undefined> {
    return paginate(async (pageToken) => {
      const r = await this.admin.listAccounts({ ...request, pageToken }, call);
      return { items: r.accounts, nextPageToken: r.nextPageToken };
    });
  }

  /** Every API key matching request (internal keys only). */
  apiKeys(request: MessageInitShape<typeof ListApiKeysRequestSchema> = {}, call?: CallOptions): AsyncGenerator<ApiKey, void, undefined> {
    return paginate(async (pageToken) => {
      const r = await this.admin.listApiKeys({ ...request, pageToken }, call);
      return { items: r.apiKeys, nextPageToken: r.nextPageToken };
    });
  }

  /** close ends the HTTP/2 connection; calls in flight fail. */
  close(): void {
    this.#sessions.abort();
  }
}

/** grpcBaseUrl is the URL of a ClientOptions.address. */
export function grpcBaseUrl(address: string): string {
  const a = address.trim();
  if (a === "") throw new TypeError("Client: address is required");
  if (/^https?:\/\//i.test(a)) return a.replace(/\/+$/, "");
  if (a.includes("://")) throw new TypeError(`Client: address ${a}: the scheme must be http or https`);
  let host: string;
  try {
    host = new URL("http://" + a).hostname;
  } catch {
    throw new TypeError(`Client: address ${a} is not host:port or a URL`);
  }
  return (isLoopback(host) ? "http://" : "https://") + a;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function authInterceptor(apiKey: string): Interceptor {
  const value = `Bearer ${apiKey}`;
  return (next) => (req) => {
    req.header.set("authorization", value);
    return next(req);
  };
}

// idempotencyInterceptor gives a PublishEvent without an idempotency key
// one, before the retry interceptor, so that every attempt carries the same
// key and webhookd stores the event once however many attempts reach it.
const idempotencyInterceptor: Interceptor = (next) => (req) => {
  if (req.stream || req.service.typeName !== WebhookService.typeName || req.method.name !== WebhookService.method.publishEvent.name) {
    return next(req);
  }
  const m = req.message as PublishEventRequest;
  if (m.idempotencyKey !== "") return next(req);
  const message = create(PublishEventRequestSchema, { ...m, idempotencyKey: newIdempotencyKey() });
  return next({ ...req, message });
};

// retryInterceptor retries unary calls; a stream's messages cannot be sent
// again, so streams are not. UNAVAILABLE is retried only for calls that may
// run twice (retry.ts).
function retryInterceptor(policy: ReturnType<typeof retryPolicy>): Interceptor {
  return (next) => (req) => {
    if (req.stream) return next(req);
    return withRetries(policy, req.signal, () => next(req), fromConnectError, repeatableMethod(req.method.name));
  };
}

// repeatableMethod reports whether a call of this method may safely run
// twice: reads, and PublishEvent, which always carries an idempotency key.
export function repeatableMethod(name: string): boolean {
  return /^(Get|List)[A-Z]/.test(name) || name === WebhookService.method.publishEvent.name;
}

// withWebhookdErrors makes every method of a generated client throw
// WebhookdError. It wraps the client rather than converting in an
// interceptor because connect turns whatever an interceptor throws back
// into a ConnectError.
function withWebhookdErrors<T extends object>(client: T): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(client)) {
    if (typeof method !== "function") {
      wrapped[name] = method;
      continue;
    }
    wrapped[name] = (...args: unknown[]): unknown => {
      const result: unknown = method.apply(client, args);
      if (result instanceof Promise) {
        return result.catch((e: unknown) => {
          throw fromConnectError(e);
        });
      }
      if (isAsyncIterable(result)) return convertStreamErrors(result);
      return result;
    };
  }
  return wrapped as T;
}

function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return typeof v === "object" && v !== null && Symbol.asyncIterator in v;
}

async function* convertStreamErrors<T>(stream: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  try {
    yield* stream;
  } catch (e) {
    throw fromConnectError(e);
  }
}
