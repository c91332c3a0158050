import { useState } from 'preact/hooks';
import { api, signIn, unwrap } from '../api/client';
import { useAction } from '../components';

// SignIn takes a customer API key. It is checked with one API call before it
// is kept, so a wrong key is refused here rather than on every page.
export function SignIn({ onSignedIn, notice }: { onSignedIn: () => void; notice?: string | undefined }) {
  const [key, setKey] = useState('');
  const act = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const k = key.trim();
    void act.run(async () => {
      await unwrap(
        api.GET('/v1/endpoints', { params: { query: { pageSize: 1 } }, headers: { Authorization: `Bearer ${k}` } }),
      );
      signIn(k);
      onSignedIn();
    });
  };
  return (
    <main id="main" class="signin">
      <h1>Webhooks</h1>
      <p>
        Sign in with an API key of your account to manage its webhook endpoints and see their deliveries, or open the
        sign-in link your platform gave you.
      </p>
      {notice && (
        <div class="banner banner-error" role="alert">
          {notice}
        </div>
      )}
      <form onSubmit={submit} class="card">
        <label for="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          placeholder="whk_…"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          aria-invalid={act.error ? 'true' : undefined}
          aria-describedby={act.error ? 'api-key-error' : 'api-key-help'}
          required
        />
        {act.error ? (
          <p id="api-key-error" class="field-error" role="alert">
            This key was refused: {act.error.message}
          </p>
        ) : (
          <p id="api-key-help" class="help">
            The key stays in this browser tab only and is sent to nothing but this API. Closing the tab or signing out
            forgets it.
          </p>
        )}
        <button type="submit" disabled={act.busy || !key.trim()}>
          {act.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
