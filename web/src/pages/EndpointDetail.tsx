// An endpoint: its settings and state, the actions on it (edit, enable or
// disable, delete, reveal and rotate the secret, recover), and its history.
import { useState } from 'preact/hooks';
import { api, unwrap, type EndpointSecret } from '../api/client';
import { CopyButton, ErrorBanner, Loading, Time, useAction, useResource } from '../components';
import { Link, navigate } from '../router';
import { DeliveryHistory } from './DeliveryHistory';
import { EndpointForm } from './EndpointForm';
import { EndpointHealth, EndpointState } from './parts';

function SecretCard({ ep }: { ep: string }) {
  const [secret, setSecret] = useState<EndpointSecret | null>(null);
  const [confirmRotate, setConfirmRotate] = useState(false);
  const act = useAction();
  const reveal = () =>
    act.run(async () => setSecret(await unwrap(api.GET('/v1/endpoints/{name}/secret', { params: { path: { name: ep } } }))));
  const rotate = () =>
    act.run(async () => {
      setSecret(await unwrap(api.POST('/v1/endpoints/{name}/secret:rotate', { params: { path: { name: ep } }, body: {} })));
      setConfirmRotate(false);
    });
  return (
    <div class="card">
      <h2>Signing secret</h2>
      <ErrorBanner error={act.error} />
      {secret ? (
        <>
          <div class="secret-row">
            <code class="secret" aria-label="Signing secret">
              {secret.secret}
            </code>
            <CopyButton text={secret.secret ?? ''} label="Copy secret" />
          </div>
          {secret.previousSecret && (
            <p class="small">
              The previous secret <code>{secret.previousSecret.slice(0, 12)}…</code> still signs requests until{' '}
              <Time value={secret.previousSecretExpireTime} />.
            </p>
          )}
        </>
      ) : (
        <button type="button" class="button-quiet" onClick={reveal} disabled={act.busy}>
          Reveal secret
        </button>
      )}
      {confirmRotate ? (
        <div class="confirm" role="group" aria-labelledby="rotate-title">
          <p id="rotate-title">
            <strong>Rotate the secret?</strong> A new secret signs every request from now on. For a grace period the old one
            signs them too: <code>webhook-signature</code> then carries one signature per secret, while{' '}
            <code>X-Webhook-Signature</code> (the guide's header) is made with the new secret only. Update{' '}
            <code>WEBHOOK_SECRET</code> in your app before the grace period ends.
          </p>
          <button type="button" onClick={rotate} disabled={act.busy}>
            Rotate secret
          </button>{' '}
          <button type="button" class="button-quiet" onClick={() => setConfirmRotate(false)}>
            Cancel
          </button>
        </div>
      ) : (
        <button type="button" class="button-quiet" onClick={() => setConfirmRotate(true)}>
          Rotate secret…
        </button>
      )}
    </div>
  );
}

function RecoverCard({ ep }: { ep: string }) {
  const [since, setSince] = useState('');
  const [result, setResult] = useState<number | null>(null);
  const act = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void act.run(async () => {
      const r = await unwrap(
        api.POST('/v1/endpoints/{name}:recover', {
          params: { path: { name: ep } },
          body: { since: new Date(since).toISOString() },
        }),
      );
      setResult(r.deliveryCount ?? 0);
    });
  };
  return (
    <form class="card" onSubmit={submit}>
      <h2>Recover failed deliveries</h2>
      <p class="small">Attempt again every delivery to this endpoint that failed since a time, e.g. after an outage of your app.</p>
      <ErrorBanner error={act.error} />
      <div class="inline">
        <label for="recover-since">Failed since</label>
        <input id="recover-since" type="datetime-local" value={since} onInput={(e) => setSince(e.currentTarget.value)} required />
        <button type="submit" disabled={act.busy || !since}>
          Recover
        </button>
      </div>
      {result !== null && (
        <p role="status">
          {result === 1 ? '1 delivery is' : `${result} deliveries are`} being attempted again.
        </p>
      )}
    </form>
  );
}

export function EndpointDetail({ id }: { id: string; query: URLSearchParams }) {
  const r = useResource(() => unwrap(api.GET('/v1/endpoints/{name}', { params: { path: { name: id } } })), [id]);
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const act = useAction();
  const ep = r.data;

  const setState = (enable: boolean) =>
    act.run(async () => {
      const path = enable ? '/v1/endpoints/{name}:enable' : '/v1/endpoints/{name}:disable';
      await unwrap(api.POST(path, { params: { path: { name: id } }, body: {} }));
      r.reload();
    });
  const remove = () =>
    act.run(async () => {
      await unwrap(api.DELETE('/v1/endpoints/{name}', { params: { path: { name: id } } }));
      navigate('/endpoints');
    });

  return (
    <section>
      <p class="crumbs">
        <Link href="/endpoints">Endpoints</Link> /
      </p>
      <h1 class="url">{ep ? ep.url : 'Endpoint'}</h1>
      <ErrorBanner error={r.error} />
      {r.loading && <Loading what="the endpoint" />}
      {ep && (
        <>
          <ErrorBanner error={act.error} />
          {editing ? (
            <EndpointForm
              initial={ep}
              submitLabel="Save changes"
              busy={act.busy}
              error={act.error}
              onCancel={() => setEditing(false)}
              onSubmit={(v) =>
                void act.run(async () => {
                  await unwrap(
                    api.PATCH('/v1/endpoints/{endpoint.name}', {
                      params: { path: { 'endpoint.name': id }, query: { updateMask: 'url,description,event_types,headers' } },
                      body: v,
                    }),
                  );
                  setEditing(false);
                  r.reload();
                })
              }
            />
          ) : (
            <div class="card">
              <dl class="props">
                <dt>Endpoint ID</dt>
                <dd>
                  <code>{id}</code>
                </dd>
                <dt>State</dt>
                <dd>
                  <EndpointState ep={ep} />
                </dd>
                <dt>Health</dt>
                <dd>
                  <EndpointHealth ep={ep} />
                </dd>
                {ep.description && (
                  <>
                    <dt>Description</dt>
                    <dd>{ep.description}</dd>
                  </>
                )}
                <dt>Events</dt>
                <dd>
                  <ul class="tags">
                    {ep.eventTypes.map((t) => (
                      <li key={t}>
                        <code>{t}</code>
                      </li>
                    ))}
                  </ul>
                </dd>
                {Object.keys(ep.headers ?? {}).length > 0 && (
                  <>
                    <dt>Custom headers</dt>
                    <dd>
                      {Object.entries(ep.headers ?? {}).map(([k, v]) => (
                        <div key={k}>
                          <code>
                            {k}: {v}
                          </code>
                        </div>
                      ))}
                    </dd>
                  </>
                )}
                <dt>Created</dt>
                <dd>
                  <Time value={ep.createTime} />
                </dd>
              </dl>
              <div class="actions">
                <button type="button" class="button-quiet" onClick={() => setEditing(true)}>
                  Edit
                </button>
                {ep.state === 'DISABLED' ? (
                  <button type="button" onClick={() => setState(true)} disabled={act.busy}>
                    Enable
                  </button>
                ) : (
                  <button type="button" class="button-quiet" onClick={() => setState(false)} disabled={act.busy}>
                    Disable
                  </button>
                )}
                <Link href={`/test?endpoint=${id}`} class="button button-quiet">
                  Send test event
                </Link>
                <button type="button" class="button-danger" onClick={() => setConfirmDelete(true)}>
                  Delete…
                </button>
              </div>
              {confirmDelete && (
                <div class="confirm" role="group" aria-labelledby="delete-title">
                  <p id="delete-title">
                    <strong>Delete this endpoint?</strong> Its delivery history goes with it, and pending deliveries to it are
                    dropped. This cannot be undone.
                  </p>
                  <button type="button" class="button-danger" onClick={remove} disabled={act.busy}>
                    Delete endpoint
                  </button>{' '}
                  <button type="button" class="button-quiet" onClick={() => setConfirmDelete(false)}>
                    Cancel
                  </button>
                </div>
              )}
            </div>
          )}
          <div class="grid2">
            <SecretCard ep={id} />
            <RecoverCard ep={id} />
          </div>
          <DeliveryHistory endpoint={id} eventTypes={ep.eventTypes} />
        </>
      )}
    </section>
  );
}
