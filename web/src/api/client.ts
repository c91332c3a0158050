// The dashboard's one API client: openapi-fetch over the types that
// openapi-typescript generates from webhookd's OpenAPI document (schema.d.ts,
// from proto/ through protoc-gen-openapiv3). No API type is written by hand.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Endpoint = Schemas['webhooks.v1.Endpoint'];
export type EndpointSecret = Schemas['webhooks.v1.EndpointSecret'];
export type EventType = Schemas['webhooks.v1.EventType'];
export type Event = Schemas['webhooks.v1.Event'];
export type Delivery = Schemas['webhooks.v1.Delivery'];
export type DeliveryStatus = Schemas['webhooks.v1.Delivery.Status'];
export type Attempt = Schemas['webhooks.v1.Attempt'];
export type SendTestEventResponse = Schemas['webhooks.v1.SendTestEventResponse'];
type Status = Schemas['google.rpc.Status'];

// The key lives in sessionStorage: it is gone when the tab closes, and it is
// only ever sent to this origin's API.
const tokenKey = 'webhookd.apiKey';

export function token(): string | null {
  return sessionStorage.getItem(tokenKey);
}

export function signIn(key: string): void {
  sessionStorage.setItem(tokenKey, key);
}

export function signOut(): void {
  sessionStorage.removeItem(tokenKey);
}

// Portal session tokens (CreatePortalSession) start with whps_; API keys
// with whk_.
export function isPortalToken(t: string | null): boolean {
  return t?.startsWith('whps_') ?? false;
}

// takePortalLink signs in with a portal link's token (#portal=whps_…) and
// removes it from the address bar and the tab's history, so it is not
// bookmarked, shared or shown. The fragment never reaches a server.
export function takePortalLink(): boolean {
  const m = /^#portal=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!m?.[1]) return false;
  signIn(m[1]);
  history.replaceState(history.state, '', location.pathname + location.search);
  return true;
}

// endSession signs out; a portal session is revoked first, so the link
// stops working even if it was copied.
export async function endSession(): Promise<void> {
  if (isPortalToken(token())) {
    try {
      await api.POST('/v1/session:revoke', { body: {} });
    } catch {
      // Signed out here all the same; the session ends at its expire time.
    }
  }
  signOut();
}

// ApiError is a failed call as the API described it: the HTTP status, the
// google.rpc.Status message, and field violations by field name
// ("endpoint.url") so forms can show each next to its field.
export class ApiError extends Error {
  readonly status: number;
  readonly fields: Record<string, string>;
  constructor(status: number, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.fields = fields;
  }
}

// onUnauthenticated is called when the API refuses the kept key (revoked,
// or a session that ended), so the app can ask for a new one; portal says
// whether it was a portal session's token.
let onUnauthenticated: ((portal: boolean) => void) | undefined;
export function whenUnauthenticated(f: (portal: boolean) => void): void {
  onUnauthenticated = f;
}

const auth: Middleware = {
  onRequest({ request }) {
    const t = token();
    if (t && !request.headers.has('Authorization')) request.headers.set('Authorization', `Bearer ${t}`);
    return request;
  },
  onResponse({ request, response }) {
    const t = token();
    if (response.status === 401 && t && request.headers.get('Authorization') === `Bearer ${t}`) {
      signOut();
      onUnauthenticated?.(isPortalToken(t));
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: location.origin });
api.use(auth);

interface FieldViolation {
  field?: string;
  description?: string;
}

function toApiError(status: number, body: unknown): ApiError {
  const s = (body ?? {}) as Status;
  const fields: Record<string, string> = {};
  for (const d of s.details ?? []) {
    const v = (d as { fieldViolations?: FieldViolation[] }).fieldViolations;
    for (const f of v ?? []) {
      if (f.field) fields[f.field] = f.description ?? 'invalid';
    }
  }
  const message = s.message || (status === 0 ? 'The API could not be reached.' : `The API answered HTTP ${status}.`);
  return new ApiError(status, message, fields);
}

// unwrap turns an openapi-fetch result into its data, or throws ApiError.
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let r: { data?: T; error?: unknown; response: Response };
  try {
    r = await call;
  } catch {
    throw new ApiError(0, 'The API could not be reached. Is webhookd running?');
  }
  if (r.error !== undefined || !r.response.ok) throw toApiError(r.response.status, r.error);
  return r.data as T;
}

// id is the last segment of a resource name: "endpoints/ep_1" → "ep_1". The
// generated paths take ids (protoc-gen-openapiv3 expands "{name=endpoints/*}"
// into "/v1/endpoints/{name}").
export function id(name: string | undefined): string {
  if (!name) return '';
  const i = name.lastIndexOf('/');
  return i < 0 ? name : name.slice(i + 1);
}

// A Struct field is generated as Record<string, never>; event payloads are
// arbitrary JSON objects.
export type JsonObject = Record<string, unknown>;
export function asStruct(v: JsonObject): Record<string, never> {
  return v as Record<string, never>;
}
