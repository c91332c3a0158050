import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// The build is committed (web/dist) and embedded in the webhookd binary, so it
// must be the same bytes on every machine: no timestamps, no absolute paths,
// and hashed asset names that the Go handler may cache for a year.
export default defineConfig({
  plugins: [preact({ prerender: { enabled: false } })],
  base: '/',
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
  },
});
