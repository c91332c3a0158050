// Pieces that several pages show the same way.
import type { Delivery, Endpoint } from '../api/client';
import { Badge, Time } from '../components';

export function EndpointState({ ep }: { ep: Endpoint }) {
  if (ep.state === 'DISABLED') {
    return (
      <span>
        <Badge kind="disabled">Disabled</Badge>
        {ep.disabledReason && <div class="small muted">{ep.disabledReason}</div>}
      </span>
    );
  }
  return (
    <span>
      <Badge kind="enabled">Enabled</Badge>
      {ep.failingSinceTime && (
        <div class="small warn">
          Failing since <Time value={ep.failingSinceTime} />
        </div>
      )}
    </span>
  );
}

// EndpointHealth is an endpoint's stats: its deliveries that succeeded and
// failed in the last 24 hours and its latest error.
export function EndpointHealth({ ep }: { ep: Endpoint }) {
  const s = ep.stats;
  const succeeded = Number(s?.succeeded24h ?? 0);
  const failed = Number(s?.failed24h ?? 0);
  return (
    <div class="health">
      <span class="health-counts">
        <span>{succeeded.toLocaleString()} succeeded</span>
        {' · '}
        <span class={failed > 0 ? 'health-failed' : undefined}>{failed.toLocaleString()} failed</span>
        <span class="muted small"> in 24 h</span>
      </span>
      {s?.lastError && (
        <div class="small last-error">
          Last error <Time value={s.lastErrorTime} />: {s.lastError}
        </div>
      )}
    </div>
  );
}

const statusLabel: Record<string, string> = {
  PENDING: 'Pending',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
};

export function DeliveryStatus({ d }: { d: Delivery }) {
  const s = d.status ?? 'STATUS_UNSPECIFIED';
  return <Badge kind={s}>{statusLabel[s] ?? s}</Badge>;
}

// The guide's Step 3 verifier, with the secret's variable named as the guide
// names it.
export const verifySnippet = `const crypto = require('crypto');

function verifyWebhookSignature(req, res, next) {
  const signature = req.headers['x-webhook-signature'];
  const timestamp = req.headers['x-webhook-timestamp'];
  const body = JSON.stringify(req.body);
  const secret = process.env.WEBHOOK_SECRET; // the signing secret above

  const expected = crypto
    .createHmac('sha256', secret)
    .update(timestamp + body)
    .digest('hex');

  if (crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) {
    next();
  } else {
    res.status(401).send('Invalid signature');
  }
}`;

/**
 * Pager moves through a list's pages with its page tokens: tokens holds the
 * token of every page up to the one shown ('' for the first).
 */
export function Pager({ label, tokens, setTokens, nextPageToken }: {
  label: string;
  tokens: string[];
  setTokens: (tokens: string[]) => void;
  nextPageToken: string | undefined;
}) {
  const page = tokens.length - 1;
  return (
    <nav class="pager" aria-label={label}>
      <button type="button" class="button-small button-quiet" disabled={page === 0} onClick={() => setTokens(tokens.slice(0, -1))}>
        Previous page
      </button>
      <span class="muted">Page {page + 1}</span>
      <button
        type="button"
        class="button-small button-quiet"
        disabled={!nextPageToken}
        onClick={() => setTokens([...tokens, nextPageToken ?? ''])}
      >
        Next page
      </button>
    </nav>
  );
}
