// The guide's Monitor Webhook Failures: an endpoint's deliveries, newest
// first, filtered by status, event type and time, a page at a time.
import { useState } from 'preact/hooks';
import { api, id, unwrap, type DeliveryStatus as Status } from '../api/client';
import { Empty, ErrorBanner, Loading, Time, useResource } from '../components';
import { Link } from '../router';
import { DeliveryStatus, Pager } from './parts';

// toRFC3339 turns a datetime-local value (local time) into the API's UTC form.
function toRFC3339(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function DeliveryHistory({ endpoint, eventTypes }: { endpoint: string; eventTypes: string[] }) {
  const [status, setStatus] = useState<Status | ''>('');
  const [type, setType] = useState('');
  const [after, setAfter] = useState('');
  const [before, setBefore] = useState('');
  const [pageSize, setPageSize] = useState(25);
  // tokens[i] is the page token of page i (page 0 has none).
  const [tokens, setTokens] = useState<string[]>(['']);
  const page = tokens.length - 1;
  const reset = () => setTokens(['']);

  const r = useResource(
    () =>
      unwrap(
        api.GET('/v1/endpoints/{parent}/deliveries', {
          params: {
            path: { parent: endpoint },
            query: {
              pageSize,
              pageToken: tokens[page] || undefined,
              statuses: status ? [status] : undefined,
              eventTypes: type ? [type] : undefined,
              createTimeAfter: toRFC3339(after),
              createTimeBefore: toRFC3339(before),
            },
          },
        }),
      ),
    [endpoint, status, type, after, before, pageSize, tokens.join(',')],
  );
  const rows = r.data?.deliveries ?? [];
  const filtered = status || type || after || before;

  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">Delivery history</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="f-status">Status</label>
          <select
            id="f-status"
            value={status}
            onChange={(e) => {
              setStatus(e.currentTarget.value as Status | '');
              reset();
            }}
          >
            <option value="">Any</option>
            <option value="PENDING">Pending</option>
            <option value="SUCCEEDED">Succeeded</option>
            <option value="FAILED">Failed</option>
          </select>
        </div>
        <div class="field">
          <label for="f-type">Event type</label>
          <select
            id="f-type"
            value={type}
            onChange={(e) => {
              setType(e.currentTarget.value);
              reset();
            }}
          >
            <option value="">Any</option>
            {eventTypes.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-after">Created after</label>
          <input
            id="f-after"
            type="datetime-local"
            value={after}
            onChange={(e) => {
              setAfter(e.currentTarget.value);
              reset();
            }}
          />
        </div>
        <div class="field">
          <label for="f-before">Created before</label>
          <input
            id="f-before"
            type="datetime-local"
            value={before}
            onChange={(e) => {
              setBefore(e.currentTarget.value);
              reset();
            }}
          />
        </div>
        <div class="field">
          <label for="f-size">Per page</label>
          <select
            id="f-size"
            value={String(pageSize)}
            onChange={(e) => {
              setPageSize(Number(e.currentTarget.value));
              reset();
            }}
          >
            {[10, 25, 50, 100].map((n) => (
              <option key={n} value={String(n)}>
                {n}
              </option>
            ))}
          </select>
        </div>
      </form>
      <ErrorBanner error={r.error} />
      {r.loading && <Loading what="deliveries" />}
      {r.data && rows.length === 0 && (
        <Empty>
          <p>{filtered ? 'No deliveries match these filters.' : 'No deliveries yet. Send a test event to see one here.'}</p>
        </Empty>
      )}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table class="history">
            <caption class="sr-only">Deliveries, newest first, page {page + 1}</caption>
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Event type</th>
                <th scope="col">Event</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last status code</th>
                <th scope="col">Last error</th>
                <th scope="col">Next attempt</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.name}>
                  <td>
                    <Link href={`/endpoints/${endpoint}/deliveries/${id(d.name)}`} class="delivery-link">
                      <DeliveryStatus d={d} />
                      <span class="sr-only"> delivery {id(d.name)}</span>
                    </Link>
                  </td>
                  <td>
                    <code>{d.eventType}</code>
                  </td>
                  <td>
                    <Link href={`/events/${id(d.event)}`}>
                      <code>{id(d.event)}</code>
                    </Link>
                  </td>
                  <td class="num">{d.attemptCount}</td>
                  <td class="num">{d.lastResponseStatusCode || '—'}</td>
                  <td class={d.lastError ? 'error-cell' : 'error-cell none'}>{d.lastError || '—'}</td>
                  <td>
                    <Time value={d.status === 'PENDING' ? d.nextAttemptTime : undefined} />
                  </td>
                  <td>
                    <Time value={d.createTime} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label="Delivery history pages" tokens={tokens} setTokens={setTokens} nextPageToken={r.data?.nextPageToken} />
    </section>
  );
}
