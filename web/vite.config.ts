import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// The config runs in Node; this is all it needs of Node's types.
declare const process: { env: Record<string, string | undefined> };

// The build is committed (web/dist) and embedded in the webhookd binary, so it
// must be the same bytes on every machine: no timestamps, no absolute paths,
// and hashed asset names that the Go handler may cache for a year.
export default defineConfig({
  plugins: [preact({ prerender: { enabled: false } })],
  base: '/',
  // `npm run dev` serves the app with hot reload and sends API calls to a
  // running webhookd (make run), so the dashboard sees the same origin as
  // when webhookd serves it.
  server: {
    proxy: { '/v1': process.env.WEBHOOKD_URL ?? 'http://127.0.0.1:8080' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // Everything inline-able would end up in data: URLs or inline scripts,
    // which the dashboard's Content-Security-Policy forbids.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    reportCompressedSize: true,
    // Two pages: the dashboard, and the API reference at /docs (Swagger UI),
    // which the dashboard's first load never fetches.
    rollupOptions: {
      input: { index: 'index.html', docs: 'docs/index.html' },
    },
    // Swagger UI is one large module; it loads on /docs only.
    chunkSizeWarningLimit: 2048,
  },
});
