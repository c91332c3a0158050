import { api, id, unwrap, type Endpoint } from '../api/client';
import { Empty, ErrorBanner, Loading, useResource } from '../components';
import { Link } from '../router';
import { EndpointHealth, EndpointState } from './parts';

export function EndpointList() {
  const r = useResource(
    () => unwrap(api.GET('/v1/endpoints', { params: { query: { pageSize: 100 } } })),
    [],
  );
  const eps: Endpoint[] = r.data?.endpoints ?? [];
  return (
    <section>
      <div class="title-row">
        <h1>Endpoints</h1>
        {eps.length > 0 && (
          <Link href="/endpoints/new" class="button">
            Add endpoint
          </Link>
        )}
      </div>
      <ErrorBanner error={r.error} />
      {r.loading && <Loading what="endpoints" />}
      {r.data && eps.length === 0 && (
        <Empty>
          <h2>No endpoints yet</h2>
          <p>Add the URL of your app that should receive webhooks, and pick the events it subscribes to.</p>
          <Link href="/endpoints/new" class="button">
            Add endpoint
          </Link>
        </Empty>
      )}
      {eps.length > 0 && (
        <div class="table-wrap">
          <table class="stack">
            <caption class="sr-only">Your endpoints</caption>
            <thead>
              <tr>
                <th scope="col">URL</th>
                <th scope="col">State</th>
                <th scope="col">Health</th>
                <th scope="col">Subscribed events</th>
              </tr>
            </thead>
            <tbody>
              {eps.map((ep) => (
                <tr key={ep.name}>
                  <td class="url">
                    <Link href={`/endpoints/${id(ep.name)}`}>{ep.url}</Link>
                    {ep.description && <div class="muted small">{ep.description}</div>}
                  </td>
                  <td>
                    <EndpointState ep={ep} />
                  </td>
                  <td>
                    <EndpointHealth ep={ep} />
                  </td>
                  <td>
                    <ul class="tags">
                      {ep.eventTypes.map((t) => (
                        <li key={t}>
                          <code>{t}</code>
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {r.data?.nextPageToken && <p class="muted">Showing the newest 100 endpoints.</p>}
    </section>
  );
}
