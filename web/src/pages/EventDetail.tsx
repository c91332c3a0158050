import { api, id as idOf, unwrap } from '../api/client';
import { ErrorBanner, Json, Loading, Time, useResource } from '../components';
import { Link } from '../router';
import { DeliveryStatus } from './parts';

export function EventDetail({ id }: { id: string }) {
  const ev = useResource(() => unwrap(api.GET('/v1/events/{name}', { params: { path: { name: id } } })), [id], 0);
  const ds = useResource(
    () => unwrap(api.GET('/v1/events/{parent}/deliveries', { params: { path: { parent: id }, query: { pageSize: 100 } } })),
    [id],
  );
  return (
    <section>
      <p class="crumbs">
        <Link href="/events">Events</Link> /
      </p>
      <h1>
        Event <code>{id}</code>
      </h1>
      <ErrorBanner error={ev.error} />
      {ev.loading && <Loading what="the event" />}
      {ev.data && (
        <>
          <div class="card">
            <dl class="props">
              <dt>Type</dt>
              <dd>
                <code>{ev.data.type}</code> {ev.data.test && <span class="badge badge-test">test</span>}
              </dd>
              <dt>Created</dt>
              <dd>
                <Time value={ev.data.createTime} />
              </dd>
              {ev.data.idempotencyKey && (
                <>
                  <dt>Idempotency key</dt>
                  <dd>
                    <code>{ev.data.idempotencyKey}</code>
                  </dd>
                </>
              )}
            </dl>
          </div>
          <h2>Payload</h2>
          <Json value={ev.data.data} label="Event payload" />
          <h2>Deliveries</h2>
          <ErrorBanner error={ds.error} />
          {(ds.data?.deliveries ?? []).length === 0 ? (
            <p class="muted">No endpoint was subscribed to this event.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <caption class="sr-only">Deliveries of this event</caption>
                <thead>
                  <tr>
                    <th scope="col">Status</th>
                    <th scope="col">Endpoint</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Last error</th>
                  </tr>
                </thead>
                <tbody>
                  {(ds.data?.deliveries ?? []).map((d) => (
                    <tr key={d.name}>
                      <td>
                        <Link href={`/endpoints/${idOf(d.endpoint)}/deliveries/${idOf(d.name)}`} class="delivery-link">
                          <DeliveryStatus d={d} />
                          <span class="sr-only"> delivery {idOf(d.name)}</span>
                        </Link>
                      </td>
                      <td>
                        <Link href={`/endpoints/${idOf(d.endpoint)}`}>
                          <code>{idOf(d.endpoint)}</code>
                        </Link>
                      </td>
                      <td class="num">{d.attemptCount}</td>
                      <td class={d.lastError ? 'error-cell' : 'error-cell none'}>{d.lastError || '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}
