// Events of the account, newest first: the guide's "fetch missed events".
import { useState } from 'preact/hooks';
import { api, id, unwrap } from '../api/client';
import { Empty, ErrorBanner, Loading, Time, useResource } from '../components';
import { Link } from '../router';
import { Pager } from './parts';

export function EventList() {
  const catalog = useResource(() => unwrap(api.GET('/v1/eventTypes')), [], 0);
  const [type, setType] = useState('');
  const [tokens, setTokens] = useState<string[]>(['']);
  const page = tokens.length - 1;
  const r = useResource(
    () =>
      unwrap(
        api.GET('/v1/events', {
          params: { query: { pageSize: 25, pageToken: tokens[page] || undefined, eventTypes: type ? [type] : undefined } },
        }),
      ),
    [type, tokens.join(',')],
  );
  const rows = r.data?.events ?? [];
  return (
    <section>
      <h1>Events</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="e-type">Event type</label>
          <select
            id="e-type"
            value={type}
            onChange={(e) => {
              setType(e.currentTarget.value);
              setTokens(['']);
            }}
          >
            <option value="">Any</option>
            {(catalog.data?.eventTypes ?? []).map((t) => (
              <option key={t.type} value={t.type}>
                {t.type}
              </option>
            ))}
          </select>
        </div>
      </form>
      <ErrorBanner error={r.error} />
      {r.loading && <Loading what="events" />}
      {r.data && rows.length === 0 && (
        <Empty>
          <p>No events yet.</p>
        </Empty>
      )}
      {rows.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Type</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((ev) => (
                <tr key={ev.name}>
                  <td>
                    <Link href={`/events/${id(ev.name)}`}>
                      <code>{id(ev.name)}</code>
                    </Link>
                    {ev.test && <span class="badge badge-test">test</span>}
                  </td>
                  <td>
                    <code>{ev.type}</code>
                  </td>
                  <td>
                    <Time value={ev.createTime} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager label="Event pages" tokens={tokens} setTokens={setTokens} nextPageToken={r.data?.nextPageToken} />
    </section>
  );
}
