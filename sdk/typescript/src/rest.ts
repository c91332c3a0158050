// RestClient is webhookd's REST API for browsers and Node: openapi-fetch
// over the types openapi-typescript generates from the OpenAPI 3.1 document
// (gen/openapiv3/webhooks/v1/webhook_service.openapi.json, the one the
// dashboard uses), with the same API key, retry and idempotency behaviour as
// the gRPC Client. It imports nothing of Node, so bundlers can ship it to a
// browser.
import createClient, { type Client as FetchClient } from "openapi-fetch";
import { Code, WebhookdError, fromRestResponse } from "./errors.js";
import { newIdempotencyKey } from "./idempotency.js";
import { paginate } from "./pages.js";
import { retryDelay, retryPolicy, sleep, type RetryOptions, type RetryPolicy } from "./retry.js";
import type { components, operations, paths } from "./gen/openapi/webhook_service.js";

export type Schemas = components["schemas"];
export type Endpoint = Schemas["webhooks.v1.Endpoint"];
export type EndpointSecret = Schemas["webhooks.v1.EndpointSecret"];
export type EventType = Schemas["webhooks.v1.EventType"];
export type Event = Schemas["webhooks.v1.Event"];
export type Delivery = Schemas["webhooks.v1.Delivery"];
export type DeliveryStatus = Schemas["webhooks.v1.Delivery.Status"];
export type Attempt = Schemas["webhooks.v1.Attempt"];
export type SendTestEventResponse = Schemas["webhooks.v1.SendTestEventResponse"];
export type { paths, components };
export { WebhookdError, Code };

type Query<Op extends keyof operations> = NonNullable<operations[Op]["parameters"]["query"]>;

/** An event payload: any JSON object. */
export type JsonObject = Record<string, unknown>;

export interface RestClientOptions {
  /** The REST API's origin (and path prefix, if any): `https://webhookd.example.com`. */
  baseUrl: string;
  /** An API key, `whk_…`, sent as `Authorization: Bearer …`. */
  apiKey: string;
  /** How failed calls are retried; `{ maxRetries: 0 }` turns it off. */
  retry?: RetryOptions;
  /** The fetch to call; default globalThis.fetch. */
  fetch?: (request: Request) => Promise<Response>;
}

/**
 * RestClient calls webhookd's REST API. `api` is the typed openapi-fetch
 * client of every path (its results are `{ data, error, response }`; pass
 * them to `unwrap` to get WebhookdError instead); the methods beside it
 * throw WebhookdError.
 */
export class RestClient {
  /** Every REST path, with auth, retries and publish idempotency. */
  readonly api: FetchClient<paths>;

  constructor(options: RestClientOptions) {
    if (!options.apiKey) throw new TypeError("RestClient: apiKey is required");
    if (!options.baseUrl) throw new TypeError("RestClient: baseUrl is required");
    const base = options.fetch ?? ((r: Request) => globalThis.fetch(r));
    this.api = createClient<paths>({
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
      headers: { Authorization: `Bearer ${options.apiKey}` },
      fetch: restFetch(base, retryPolicy(options.retry)),
    });
  }

  /**
   * publishEvent publishes an event; see Client.publishEvent for the
   * idempotency key.
   */
  async publishEvent(type: string, data: JsonObject, options: { account?: string; idempotencyKey?: string; signal?: AbortSignal } = {}): Promise<Event> {
    const query: Query<"WebhookService_PublishEvent"> = {};
    if (options.account) query.account = options.account;
    if (options.idempotencyKey) query.idempotencyKey = options.idempotencyKey;
    return unwrap(
      this.api.POST("/v1/events", {
        params: { query },
        body: { type, data: data as Record<string, never> },
        signal: options.signal,
      }),
    );
  }

  /** createEndpoint registers an endpoint; the result carries its secret. */
  createEndpoint(endpoint: Pick<Endpoint, "url" | "eventTypes"> & Partial<Pick<Endpoint, "description" | "headers">>, options: { account?: string; signal?: AbortSignal } = {}): Promise<Endpoint> {
    return unwrap(
      this.api.POST("/v1/endpoints", {
        params: { query: options.account ? { account: options.account } : {} },
        body: endpoint as Endpoint,
        signal: options.signal,
      }),
    );
  }

  /** getDelivery gets a delivery (`deliveries/…` or its id) with its attempts and body. */
  getDelivery(name: string, options: { signal?: AbortSignal } = {}): Promise<Delivery> {
    return unwrap(this.api.GET("/v1/deliveries/{name}", { params: { path: { name: id(name) } }, signal: options.signal }));
  }

  /** retryDelivery attempts a delivery again now. */
  retryDelivery(name: string, options: { signal?: AbortSignal } = {}): Promise<Delivery> {
    return unwrap(this.api.POST("/v1/deliveries/{name}:retry", { params: { path: { name: id(name) } }, body: {}, signal: options.signal }));
  }

  /** Every endpoint, newest first, fetching pages as the loop needs them. */
  endpoints(query: Omit<Query<"WebhookService_ListEndpoints">, "pageToken"> = {}): AsyncGenerator<Endpoint, void, undefined> {
    return paginate(async (pageToken) => {
      const r = await unwrap(this.api.GET("/v1/endpoints", { params: { query: withToken(query, pageToken) } }));
      return { items: r.endpoints ?? [], nextPageToken: r.nextPageToken ?? "" };
    });
  }

  /** Every event matching query, newest first. */
  events(query: Omit<Query<"WebhookService_ListEvents">, "pageToken"> = {}): AsyncGenerator<Event, void, undefined> {
    return paginate(async (pageToken) => {
      const r = await unwrap(this.api.GET("/v1/events", { params: { query: withToken(query, pageToken) } }));
      return { items: r.events ?? [], nextPageToken: r.nextPageToken ?? "" };
    });
  }

  /**
   * Every delivery of parent (`endpoints/…` or `events/…`), newest first,
   * without attempts.
   */
  deliveries(parent: string, query: Omit<Query<"WebhookService_ListDeliveries">, "pageToken"> = {}): AsyncGenerator<Delivery, void, undefined> {
    const [collection] = parent.split("/", 1);
    const parentId = id(parent);
    return paginate(async (pageToken) => {
      const params = { path: { parent: parentId }, query: withToken(query, pageToken) };
      const r = await unwrap(
        collection === "events"
          ? this.api.GET("/v1/events/{parent}/deliveries", { params })
          : collection === "endpoints"
            ? this.api.GET("/v1/endpoints/{parent}/deliveries", { params })
            : Promise.reject(new TypeError(`deliveries: parent ${parent} is neither endpoints/… nor events/…`)),
      );
      return { items: r.deliveries ?? [], nextPageToken: r.nextPageToken ?? "" };
    });
  }
}

function withToken<Q extends object>(query: Q, pageToken: string): Q & { pageToken?: string } {
  return pageToken ? { ...query, pageToken } : query;
}

/**
 * unwrap turns an openapi-fetch result into its data, or throws the
 * WebhookdError the response describes.
 */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const r = await call;
  if (r.error !== undefined || !r.response.ok) throw fromRestResponse(r.response.status, r.response.headers, r.error);
  return r.data as T;
}

/**
 * id is the last segment of a resource name: "endpoints/ep_1" → "ep_1". The
 * generated paths take ids (protoc-gen-openapiv3 expands
 * "{name=endpoints/*}" into "/v1/endpoints/{name}").
 */
export function id(name: string): string {
  const i = name.lastIndexOf("/");
  return i < 0 ? name : name.slice(i + 1);
}

// Statuses worth a retry: rate limited (429, when Retry-After says when),
// and webhookd or a proxy in front of it unavailable for a moment.
const retryStatuses = new Set([429, 502, 503, 504]);

/**
 * restFetch is the fetch RestClient gives openapi-fetch: it adds an
 * idempotency key to a publish that has none (once, so every retry sends
 * the same), and retries as the policy says. The request body is read once
 * so that each attempt can send it again.
 */
export function restFetch(base: (request: Request) => Promise<Response>, policy: RetryPolicy): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname.endsWith("/v1/events") && !url.searchParams.get("idempotencyKey")) {
      url.searchParams.set("idempotencyKey", newIdempotencyKey());
    }
    const body = request.body === null ? undefined : await request.arrayBuffer();
    const signal = request.signal;
    // Reads and publishes (with their idempotency key) may run twice; see retry.ts.
    const repeatable = request.method === "GET" || (request.method === "POST" && url.pathname.endsWith("/v1/events"));
    for (let retry = 1; ; retry++) {
      const attempt = new Request(url, { method: request.method, headers: request.headers, body, signal, redirect: request.redirect });
      let err: WebhookdError;
      let response: Response | undefined;
      try {
        response = await base(attempt);
      } catch (e) {
        if (signal.aborted) throw e;
        err = new WebhookdError({ code: Code.Unavailable, message: `webhookd could not be reached: ${e instanceof Error ? e.message : String(e)}`, cause: e });
        const delayMs = retryDelay(policy, retry, err, Math.random, repeatable);
        if (delayMs === undefined) throw err;
        policy.onRetry?.({ retry, delayMs, error: err });
        await sleep(delayMs, signal);
        continue;
      }
      if (!retryStatuses.has(response.status)) return response;
      const status: unknown = await response.clone().json().catch(() => undefined);
      err = fromRestResponse(response.status, response.headers, status);
      const delayMs = retryDelay(policy, retry, err, Math.random, repeatable);
      if (delayMs === undefined) return response;
      await response.body?.cancel();
      policy.onRetry?.({ retry, delayMs, error: err });
      await sleep(delayMs, signal);
    }
  };
}
