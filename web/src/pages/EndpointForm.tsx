// The form of Add endpoint and of an endpoint's Edit: URL, description, event
// types from the catalog (each with its description and example), headers.
// Field violations from the API are shown next to the field they name.
import { useState } from 'preact/hooks';
import { api, unwrap, type ApiError, type Endpoint, type EventType } from '../api/client';
import { ErrorBanner, Json, useResource } from '../components';

export interface EndpointInput {
  url: string;
  description: string;
  eventTypes: string[];
  headers: Record<string, string>;
}

interface Props {
  initial?: Endpoint;
  submitLabel: string;
  busy: boolean;
  error: ApiError | undefined;
  onSubmit: (v: EndpointInput) => void;
  onCancel?: () => void;
}

function FieldError({ id, error, field }: { id: string; error: ApiError | undefined; field: string }) {
  const msg = error?.fields[field];
  if (!msg) return null;
  return (
    <p id={id} class="field-error">
      {msg}
    </p>
  );
}

export function EndpointForm({ initial, submitLabel, busy, error, onSubmit, onCancel }: Props) {
  const catalog = useResource(() => unwrap(api.GET('/v1/eventTypes')), [], 0);
  const [url, setUrl] = useState(initial?.url ?? '');
  const [description, setDescription] = useState(initial?.description ?? '');
  const [types, setTypes] = useState<string[]>(initial?.eventTypes ?? []);
  const [headers, setHeaders] = useState<[string, string][]>(Object.entries(initial?.headers ?? {}));
  const [shown, setShown] = useState<string | null>(null);

  const toggle = (t: string) => setTypes(types.includes(t) ? types.filter((x) => x !== t) : [...types, t]);
  const submit = (e: Event) => {
    e.preventDefault();
    const h: Record<string, string> = {};
    for (const [k, v] of headers) if (k.trim()) h[k.trim()] = v;
    onSubmit({ url: url.trim(), description, eventTypes: types, headers: h });
  };
  const invalid = (f: string) => (error?.fields[f] ? 'true' : undefined);
  const known = new Set(['endpoint.url', 'endpoint.description', 'endpoint.event_types', 'endpoint.headers']);
  const other = error && !Object.keys(error.fields).some((f) => known.has(f) || f.startsWith('endpoint.headers'));
  const eventTypes = (catalog.data?.eventTypes ?? []).filter((t): t is EventType & { type: string } => !!t.type);

  return (
    <form onSubmit={submit} class="card form" noValidate>
      {other && <ErrorBanner error={error} />}
      <div class="field">
        <label for="ep-url">Endpoint URL</label>
        <input
          id="ep-url"
          type="url"
          inputMode="url"
          placeholder="https://your-app.com/webhooks/real-estate"
          value={url}
          onInput={(e) => setUrl(e.currentTarget.value)}
          aria-invalid={invalid('endpoint.url')}
          aria-describedby={error?.fields['endpoint.url'] ? 'ep-url-error' : 'ep-url-help'}
          required
        />
        {error?.fields['endpoint.url'] ? (
          <FieldError id="ep-url-error" error={error} field="endpoint.url" />
        ) : (
          <p id="ep-url-help" class="help">
            A public https:// URL of your app. webhookd sends each event to it as a signed POST request.
          </p>
        )}
      </div>
      <div class="field">
        <label for="ep-description">Description (optional)</label>
        <input
          id="ep-description"
          value={description}
          onInput={(e) => setDescription(e.currentTarget.value)}
          aria-invalid={invalid('endpoint.description')}
          aria-describedby="ep-description-error"
        />
        <FieldError id="ep-description-error" error={error} field="endpoint.description" />
      </div>
      <fieldset class="field" aria-describedby="ep-types-error">
        <legend>Events to send</legend>
        {catalog.error && <ErrorBanner error={catalog.error} />}
        <ul class="checklist">
          {eventTypes.map((t) => (
            <li key={t.type}>
              <label class="check">
                <input type="checkbox" checked={types.includes(t.type)} onChange={() => toggle(t.type)} />
                <code>{t.type}</code>
                <span class="muted"> — {t.description}</span>
              </label>
              <button
                type="button"
                class="button-link"
                aria-expanded={shown === t.type}
                aria-controls={`example-${t.type}`}
                onClick={() => setShown(shown === t.type ? null : t.type)}
              >
                {shown === t.type ? 'Hide example' : 'Example'}
              </button>
              {shown === t.type && (
                <div id={`example-${t.type}`}>
                  <Json value={t.example} label={`Example payload of ${t.type}`} />
                </div>
              )}
            </li>
          ))}
        </ul>
        <FieldError id="ep-types-error" error={error} field="endpoint.event_types" />
      </fieldset>
      <fieldset class="field" aria-describedby="ep-headers-error">
        <legend>Custom headers (optional)</legend>
        <p class="help">Sent with every request, e.g. an authorization header your gateway expects.</p>
        {headers.map(([k, v], i) => (
          <div class="header-row" key={i}>
            <input
              aria-label={`Header ${i + 1} name`}
              placeholder="X-Api-Key"
              value={k}
              onInput={(e) => setHeaders(headers.map((h, j) => (j === i ? [e.currentTarget.value, h[1]] : h)))}
            />
            <input
              aria-label={`Header ${i + 1} value`}
              value={v}
              onInput={(e) => setHeaders(headers.map((h, j) => (j === i ? [h[0], e.currentTarget.value] : h)))}
            />
            <button
              type="button"
              class="button-small button-quiet"
              aria-label={`Remove header ${i + 1}`}
              onClick={() => setHeaders(headers.filter((_, j) => j !== i))}
            >
              Remove
            </button>
          </div>
        ))}
        <button type="button" class="button-small button-quiet" onClick={() => setHeaders([...headers, ['', '']])}>
          Add header
        </button>
        {error &&
          Object.entries(error.fields)
            .filter(([f]) => f.startsWith('endpoint.headers'))
            .map(([f, m]) => (
              <p key={f} id="ep-headers-error" class="field-error">
                {m}
              </p>
            ))}
      </fieldset>
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : submitLabel}
        </button>
        {onCancel && (
          <button type="button" class="button-quiet" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
