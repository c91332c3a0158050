// Small building blocks shared by the pages: data loading with polling,
// timestamps, status badges, banners, copy buttons.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api/client';

// pollInterval is how often a page refreshes what it shows, so a delivery's
// result appears without a reload. Hidden tabs do not poll.
export const pollInterval = 4000;

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

// useResource loads data with load() whenever deps change, and again every
// pollMs while the tab is visible (0: never). A failed refresh keeps the
// last data and shows the error beside it.
export function useResource<T>(load: () => Promise<T>, deps: unknown[], pollMs = pollInterval): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const gen = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const run = useCallback((initial: boolean) => {
    const g = ++gen.current;
    if (initial) {
      setLoading(true);
      setData(undefined);
      setError(undefined);
    }
    loadRef.current().then(
      (d) => {
        if (g !== gen.current) return;
        setData(d);
        setError(undefined);
        setLoading(false);
      },
      (e: unknown) => {
        if (g !== gen.current) return;
        setError(e instanceof ApiError ? e : new ApiError(0, String(e)));
        setLoading(false);
      },
    );
  }, []);

  useEffect(() => {
    run(true);
    if (!pollMs) return;
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') run(false);
    }, pollMs);
    return () => clearInterval(t);
  }, deps);

  return { data, error, loading, reload: () => run(false) };
}

const localFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

// Time shows a timestamp in local time, with UTC on hover.
export function Time({ value, empty = '—' }: { value: string | undefined; empty?: string }) {
  if (!value) return <span class="muted">{empty}</span>;
  const d = new Date(value);
  if (isNaN(d.getTime()) || d.getTime() <= 0) return <span class="muted">{empty}</span>;
  return (
    <time dateTime={value} title={d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC').replace(/Z$/, ' UTC')}>
      {localFormat.format(d)}
    </time>
  );
}

export function Badge({ kind, children }: { kind: string; children: ComponentChildren }) {
  return <span class={`badge badge-${kind.toLowerCase()}`}>{children}</span>;
}

export function ErrorBanner({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  return (
    <div class="banner banner-error" role="alert">
      {error.status === 404 ? 'Not found: ' : ''}
      {error.message}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="empty">{children}</div>;
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone(true);
      setTimeout(() => setDone(false), 2000);
    } catch {
      // No clipboard access (an embedding frame may forbid it): the text is
      // on screen to select by hand.
      setDone(false);
    }
  };
  return (
    <button type="button" class="button-small" onClick={copy} aria-live="polite">
      {done ? 'Copied' : label}
    </button>
  );
}

export function Json({ value, label }: { value: unknown; label: string }) {
  return (
    <pre class="code" tabIndex={0} aria-label={label}>
      {typeof value === 'string' ? value : JSON.stringify(value, null, 2)}
    </pre>
  );
}

// useAction runs a button's API call, keeping its pending state and error.
export function useAction(): {
  busy: boolean;
  error: ApiError | undefined;
  run: (f: () => Promise<void>) => Promise<void>;
  clear: () => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await f();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, String(e)));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, clear: () => setError(undefined) };
}
