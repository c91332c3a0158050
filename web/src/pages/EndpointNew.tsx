import { useState } from 'preact/hooks';
import { api, id, unwrap, type Endpoint } from '../api/client';
import { CopyButton, useAction } from '../components';
import { Link } from '../router';
import { EndpointForm } from './EndpointForm';
import { verifySnippet } from './parts';

// EndpointNew is the guide's Step 2. After saving, the signing secret is
// shown once, next to the guide's verification code.
export function EndpointNew() {
  const act = useAction();
  const [created, setCreated] = useState<Endpoint | null>(null);
  if (created) {
    return (
      <section>
        <h1>Endpoint added</h1>
        <p>
          webhookd now sends the events you picked to <code>{created.url}</code>.
        </p>
        <div class="card">
          <h2>Signing secret</h2>
          <p>
            Keep it in your app as <code>WEBHOOK_SECRET</code>: it verifies that requests come from webhookd. It is shown
            here once; you can reveal it again on the endpoint's page.
          </p>
          <div class="secret-row">
            <code class="secret" aria-label="Signing secret">
              {created.secret}
            </code>
            <CopyButton text={created.secret ?? ''} label="Copy secret" />
          </div>
          <h3>Verify signatures (Node.js, Express)</h3>
          <pre class="code" tabIndex={0} aria-label="Verification code">
            {verifySnippet}
          </pre>
          <CopyButton text={verifySnippet} label="Copy code" />
        </div>
        <p class="actions">
          <Link href={`/endpoints/${id(created.name)}`} class="button">
            Go to the endpoint
          </Link>
          <Link href={`/test?endpoint=${id(created.name)}`} class="button button-quiet">
            Send a test event
          </Link>
        </p>
      </section>
    );
  }
  return (
    <section>
      <p class="crumbs">
        <Link href="/endpoints">Endpoints</Link> /
      </p>
      <h1>Add endpoint</h1>
      <EndpointForm
        submitLabel="Add endpoint"
        busy={act.busy}
        error={act.error}
        onSubmit={(v) =>
          void act.run(async () => {
            const ep = await unwrap(api.POST('/v1/endpoints', { body: v }));
            setCreated(ep);
          })
        }
      />
    </section>
  );
}
