import { api, unwrap } from '../api/client';
import { ErrorBanner, Json, Loading, useResource } from '../components';

export function EventTypes() {
  const r = useResource(() => unwrap(api.GET('/v1/eventTypes')), [], 0);
  return (
    <section>
      <h1>Event types</h1>
      <p>Every event webhookd can send. An endpoint receives the types it subscribes to; each request's body looks like the example.</p>
      <ErrorBanner error={r.error} />
      {r.loading && <Loading what="event types" />}
      {(r.data?.eventTypes ?? []).map((t) => (
        <article class="card" key={t.type}>
          <h2>
            <code>{t.type}</code>
          </h2>
          <p>{t.description}</p>
          <details>
            <summary>Example body</summary>
            <Json value={t.example} label={`Example body of ${t.type}`} />
          </details>
        </article>
      ))}
    </section>
  );
}
