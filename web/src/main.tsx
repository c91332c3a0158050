import { render } from 'preact';
import { useState } from 'preact/hooks';
import { endSession, takePortalLink, token, whenUnauthenticated } from './api/client';
import { Link, match, navigate, useLocation } from './router';
import { SignIn } from './pages/SignIn';
import { EndpointList } from './pages/EndpointList';
import { EndpointNew } from './pages/EndpointNew';
import { EndpointDetail } from './pages/EndpointDetail';
import { DeliveryPage } from './pages/DeliveryPage';
import { SendTest } from './pages/SendTest';
import { EventList } from './pages/EventList';
import { EventDetail } from './pages/EventDetail';
import { EventTypes } from './pages/EventTypes';
import './styles.css';

const nav = [
  { href: '/endpoints', label: 'Endpoints' },
  { href: '/test', label: 'Send test event' },
  { href: '/events', label: 'Events' },
  { href: '/event-types', label: 'Event types' },
];

function Page({ path, query }: { path: string; query: URLSearchParams }) {
  let m: Record<string, string> | null;
  if (path === '/' || path === '/endpoints') return <EndpointList />;
  if (path === '/endpoints/new') return <EndpointNew />;
  if ((m = match('/endpoints/:ep/deliveries/:dlv', path))) return <DeliveryPage id={m.dlv ?? ''} endpoint={m.ep} />;
  if ((m = match('/deliveries/:dlv', path))) return <DeliveryPage id={m.dlv ?? ''} />;
  if ((m = match('/endpoints/:ep', path))) return <EndpointDetail id={m.ep ?? ''} query={query} />;
  if (path === '/test') return <SendTest endpoint={query.get('endpoint') ?? ''} />;
  if (path === '/events') return <EventList />;
  if ((m = match('/events/:evt', path))) return <EventDetail id={m.evt ?? ''} />;
  if (path === '/event-types') return <EventTypes />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{path}</code>. <Link href="/endpoints">Go to your endpoints</Link>.
      </p>
    </section>
  );
}

// A portal link's token is taken before the first render, so no page ever
// sees it in the address. A link opened in a tab already showing the
// dashboard changes only the fragment: the page then starts over with it.
takePortalLink();
addEventListener('hashchange', () => {
  if (takePortalLink()) location.reload();
});

function App() {
  const loc = useLocation();
  const [signedIn, setSignedIn] = useState(token() !== null);
  const [ended, setEnded] = useState<'key' | 'portal' | null>(null);
  whenUnauthenticated((portal) => {
    setEnded(portal ? 'portal' : 'key');
    setSignedIn(false);
  });
  if (!signedIn) {
    return (
      <SignIn
        notice={
          ended === 'portal'
            ? 'This sign-in link has expired or was revoked. Ask for a new link where you got this one, or sign in with an API key.'
            : ended === 'key'
              ? 'The API no longer accepts your key (it may have been revoked). Sign in again.'
              : undefined
        }
        onSignedIn={() => {
          setEnded(null);
          setSignedIn(true);
        }}
      />
    );
  }
  const out = () => {
    void endSession().then(() => {
      setSignedIn(false);
      navigate('/', true);
    });
  };
  const current = (href: string) => loc.path === href || loc.path.startsWith(href + '/') || (href === '/endpoints' && loc.path === '/');
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Webhooks</span>
        <nav aria-label="Main">
          {nav.map((n) => (
            <Link key={n.href} href={n.href} aria-current={current(n.href) ? 'page' : undefined}>
              {n.label}
            </Link>
          ))}
        </nav>
        <button type="button" class="button-small button-quiet" onClick={out}>
          Sign out
        </button>
      </header>
      <main id="main">
        <Page path={loc.path} query={loc.query} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
