// The guide's Test from Dashboard: pick an endpoint and an event type, edit
// the example payload, send it and see the attempt's result in place.
import { useEffect, useState } from 'preact/hooks';
import { api, asStruct, id, unwrap, type JsonObject, type SendTestEventResponse } from '../api/client';
import { ErrorBanner, Loading, useAction, useResource } from '../components';
import { Link } from '../router';

function parseObject(text: string): { value?: JsonObject; error?: string } {
  try {
    const v: unknown = JSON.parse(text);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { error: 'The payload must be a JSON object.' };
    return { value: v as JsonObject };
  } catch (e) {
    return { error: `Invalid JSON: ${(e as Error).message}` };
  }
}

export function SendTest({ endpoint: initialEndpoint }: { endpoint: string }) {
  const eps = useResource(() => unwrap(api.GET('/v1/endpoints', { params: { query: { pageSize: 100 } } })), [], 0);
  const catalog = useResource(() => unwrap(api.GET('/v1/eventTypes')), [], 0);
  const [endpoint, setEndpoint] = useState(initialEndpoint);
  const [type, setType] = useState('');
  const [payload, setPayload] = useState('');
  const [result, setResult] = useState<SendTestEventResponse | null>(null);
  const act = useAction();

  const endpoints = eps.data?.endpoints ?? [];
  const ep = endpoints.find((e) => id(e.name) === endpoint);
  const types = (catalog.data?.eventTypes ?? []).filter((t) => !!t.type && (!ep || ep.eventTypes.includes(t.type)));

  useEffect(() => {
    if (!endpoint && endpoints[0]) setEndpoint(id(endpoints[0].name));
  }, [endpoints.length]);
  useEffect(() => {
    if (types.length && !types.some((t) => t.type === type)) setType(types[0]?.type ?? '');
  }, [endpoint, types.length]);
  useEffect(() => {
    const t = types.find((x) => x.type === type);
    const example = (t?.example as { data?: unknown } | undefined)?.data ?? {};
    setPayload(JSON.stringify(example, null, 2));
    setResult(null);
  }, [type]);

  const parsed = parseObject(payload);
  const send = (e: Event) => {
    e.preventDefault();
    if (!parsed.value) return;
    setResult(null);
    void act.run(async () => {
      setResult(
        await unwrap(
          api.POST('/v1/endpoints/{endpoint}:sendTestEvent', {
            params: { path: { endpoint } },
            body: { eventType: type, data: asStruct(parsed.value!), wait: true },
          }),
        ),
      );
    });
  };

  const a = result?.attempt;
  const ok = a && !a.errorMessage && (a.responseStatusCode ?? 0) >= 200 && (a.responseStatusCode ?? 0) < 300;
  return (
    <section>
      <h1>Send test event</h1>
      <ErrorBanner error={eps.error ?? catalog.error} />
      {(eps.loading || catalog.loading) && <Loading what="endpoints and event types" />}
      {eps.data && endpoints.length === 0 && (
        <p>
          You have no endpoint yet. <Link href="/endpoints/new">Add endpoint</Link> first.
        </p>
      )}
      {endpoints.length > 0 && (
        <form class="card form" onSubmit={send} noValidate>
          <div class="field">
            <label for="t-endpoint">Endpoint</label>
            <select id="t-endpoint" value={endpoint} onChange={(e) => setEndpoint(e.currentTarget.value)}>
              {endpoints.map((e) => (
                <option key={e.name} value={id(e.name)}>
                  {e.url}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="t-type">Event type</label>
            <select id="t-type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
              {types.map((t) => (
                <option key={t.type} value={t.type}>
                  {t.type} — {t.description}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="t-payload">Payload (the event's data, JSON)</label>
            <textarea
              id="t-payload"
              class="code"
              rows={14}
              spellcheck={false}
              value={payload}
              onInput={(e) => setPayload(e.currentTarget.value)}
              aria-invalid={parsed.error ? 'true' : undefined}
              aria-describedby="t-payload-msg"
            />
            {parsed.error ? (
              <p id="t-payload-msg" class="field-error">
                {parsed.error}
              </p>
            ) : (
              <p id="t-payload-msg" class="help">
                Pre-filled with the type's example. The request is sent with a test flag and signed like any other.
              </p>
            )}
          </div>
          <div class="actions">
            <button type="submit" disabled={act.busy || !parsed.value || !endpoint || !type}>
              {act.busy ? 'Sending and waiting…' : 'Send test event'}
            </button>
          </div>
          <ErrorBanner error={act.error} />
          <div aria-live="polite">
            {result && (
              <div class={`result ${ok ? 'result-ok' : 'result-bad'}`} role="status">
                <h2>{ok ? 'Delivered' : a ? 'Failed' : 'Queued'}</h2>
                {a ? (
                  <p>
                    {a.responseStatusCode ? `HTTP ${a.responseStatusCode}` : 'No response'}
                    {a.duration && ` in ${Math.round(parseFloat(a.duration) * 1000)} ms`}
                    {a.errorMessage && `: ${a.errorMessage}`}
                  </p>
                ) : (
                  <p>The attempt did not finish in time; it shows in the delivery history.</p>
                )}
                {a?.responseBody && <pre class="excerpt">{a.responseBody}</pre>}
                {result.delivery && (
                  <Link href={`/endpoints/${endpoint}/deliveries/${id(result.delivery.name)}`}>Open the delivery</Link>
                )}
              </div>
            )}
          </div>
        </form>
      )}
    </section>
  );
}
