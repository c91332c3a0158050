// One delivery: every attempt and the body that was sent, with Retry now.
// Its URL is the one to paste into a support ticket.
import { api, id as idOf, unwrap, type Attempt } from '../api/client';
import { CopyButton, ErrorBanner, Json, Loading, Time, useAction, useResource } from '../components';
import { Link } from '../router';
import { DeliveryStatus } from './parts';

const triggerLabel: Record<string, string> = {
  INITIAL: 'First attempt',
  RETRY: 'Scheduled retry',
  MANUAL: 'Manual retry',
  TEST: 'Test event',
};

function seconds(d: string | undefined): string {
  if (!d) return '—';
  const s = parseFloat(d);
  if (isNaN(s)) return d;
  return s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(2)} s`;
}

function indent(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function AttemptRow({ a }: { a: Attempt }) {
  const ok = (a.responseStatusCode ?? 0) >= 200 && (a.responseStatusCode ?? 0) < 300 && !a.errorMessage;
  return (
    <tr>
      <td class="num">{a.number}</td>
      <td>{triggerLabel[a.trigger ?? ''] ?? a.trigger}</td>
      <td>
        <Time value={a.startTime} />
      </td>
      <td class="num">{seconds(a.duration)}</td>
      <td class={`num ${ok ? 'ok' : 'bad'}`}>{a.responseStatusCode || '—'}</td>
      <td class={a.errorMessage ? 'error-cell' : 'error-cell none'}>{a.errorMessage || '—'}</td>
      <td>{a.responseBody ? <pre class="excerpt">{a.responseBody}</pre> : <span class="muted">—</span>}</td>
    </tr>
  );
}

export function DeliveryPage({ id, endpoint }: { id: string; endpoint?: string | undefined }) {
  const r = useResource(() => unwrap(api.GET('/v1/deliveries/{name}', { params: { path: { name: id } } })), [id]);
  const d = r.data;
  const evId = idOf(d?.event);
  const act = useAction();
  const epId = idOf(d?.endpoint) || endpoint || '';
  const retry = () =>
    act.run(async () => {
      await unwrap(api.POST('/v1/deliveries/{name}:retry', { params: { path: { name: id } }, body: {} }));
      r.reload();
    });
  return (
    <section>
      <p class="crumbs">
        <Link href="/endpoints">Endpoints</Link> /{' '}
        {epId && (
          <>
            <Link href={`/endpoints/${epId}`}>Endpoint</Link> /
          </>
        )}
      </p>
      <h1>
        Delivery <code>{id}</code>
      </h1>
      <ErrorBanner error={r.error} />
      {r.loading && <Loading what="the delivery" />}
      {d && (
        <>
          <div class="card">
            <dl class="props">
              <dt>Status</dt>
              <dd>
                <DeliveryStatus d={d} />
              </dd>
              <dt>Event</dt>
              <dd>
                <Link href={`/events/${evId}`}>
                  <code>{evId}</code>
                </Link>{' '}
                <code>{d.eventType}</code>
              </dd>
              <dt>Endpoint</dt>
              <dd>
                <Link href={`/endpoints/${epId}`}>
                  <code>{epId}</code>
                </Link>
              </dd>
              <dt>Attempts</dt>
              <dd>{d.attemptCount}</dd>
              {d.lastError && (
                <>
                  <dt>Last error</dt>
                  <dd class="bad">{d.lastError}</dd>
                </>
              )}
              {d.status === 'PENDING' && (
                <>
                  <dt>Next attempt</dt>
                  <dd>
                    <Time value={d.nextAttemptTime} />
                  </dd>
                </>
              )}
              <dt>Created</dt>
              <dd>
                <Time value={d.createTime} />
              </dd>
            </dl>
            <div class="actions">
              <button type="button" onClick={retry} disabled={act.busy}>
                {act.busy ? 'Retrying…' : 'Retry now'}
              </button>
              <CopyButton text={location.href} label="Copy link for support" />
            </div>
            <ErrorBanner error={act.error} />
          </div>
          <h2>Attempts</h2>
          {(d.attempts ?? []).length === 0 ? (
            <p class="muted">No attempt yet.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="sr-only">Attempts of this delivery</caption>
                <thead>
                  <tr>
                    <th scope="col">#</th>
                    <th scope="col">Trigger</th>
                    <th scope="col">Time</th>
                    <th scope="col">Duration</th>
                    <th scope="col">Status code</th>
                    <th scope="col">Error</th>
                    <th scope="col">Response</th>
                  </tr>
                </thead>
                <tbody>
                  {(d.attempts ?? []).map((a) => (
                    <AttemptRow key={a.id ?? a.number} a={a} />
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h2>Body sent</h2>
          <p class="help">The exact bytes of every attempt's request body; the signatures cover them.</p>
          <pre class="code wrap" tabIndex={0} aria-label="Request body">
            {d.body}
          </pre>
          <div class="actions">
            <CopyButton text={d.body ?? ''} label="Copy body" />
          </div>
          {d.body && (
            <details>
              <summary>Indented</summary>
              <Json value={indent(d.body)} label="Request body, indented" />
            </details>
          )}
        </>
      )}
    </section>
  );
}
