// End-to-end test of the dashboard in real headless Chromium, against a real
// webhookd. web/e2e_test.go starts webhookd and the receivers and runs this
// script with:
//
//   BASE_URL          the dashboard, http://127.0.0.1:PORT
//   API_KEY           a customer key of account A
//   OK_URL            a receiver that answers 200
//   LAST_BODY_URL     answers the last body that receiver got
//   DOWN_URL          a loopback URL nothing listens on
//   FOREIGN_DELIVERY  a delivery id of account B
//   ADMIN_TOKEN       an internal key, and API_KEY_NAME the name of API_KEY,
//                     to revoke it at the end
//   CHROMIUM          the browser binary (Debian's /usr/bin/chromium)
//   SCREENSHOT_DIR    where each page's screenshot goes
//
// It clicks through the flows a customer follows in the guide, runs axe-core
// on every page (no serious or critical violation), fails on any console
// error or CSP violation, and prints one line per step.
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set (run this through go test ./web)`);
  return v;
};
const base = env('BASE_URL');
const apiKey = env('API_KEY');
const okURL = env('OK_URL');
const lastBodyURL = env('LAST_BODY_URL');
const downURL = env('DOWN_URL');
const foreignDelivery = env('FOREIGN_DELIVERY');
const adminToken = env('ADMIN_TOKEN');
const apiKeyName = env('API_KEY_NAME');
const shots = env('SCREENSHOT_DIR');
rmSync(shots, { recursive: true, force: true });
mkdirSync(shots, { recursive: true });

const here = dirname(fileURLToPath(import.meta.url));
const axeSource = readFileSync(join(here, '..', 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

const profile = mkdtempSync(join(tmpdir(), 'webhookd-e2e-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: env('CHROMIUM'),
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-sync',
  ],
  viewport: { width: 1280, height: 900 },
});
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(15000);

// Console errors fail the run, except the browser's own line for a request
// that answered 4xx on purpose (a refused key, a refused URL, a foreign id).
const problems = [];
page.on('console', (m) => {
  const text = m.text();
  if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(text)) {
    problems.push(`console ${m.type()}: ${text}`);
  }
  if (/Content Security Policy/i.test(text)) problems.push(`CSP: ${text}`);
});
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

let stepNo = 0;
async function step(name, f) {
  stepNo++;
  const t0 = Date.now();
  try {
    await f();
  } catch (e) {
    await page.screenshot({ path: join(shots, `failed-${String(stepNo).padStart(2, '0')}.png`), fullPage: true }).catch(() => {});
    console.log(`FAIL ${name}`);
    throw e;
  }
  console.log(`ok   ${name} (${Date.now() - t0} ms)`);
}

// check runs axe-core on the page and writes its screenshot.
async function check(name) {
  await page.evaluate(`${axeSource}\n;0`);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { resultTypes: ['violations'] }),
  );
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    [],
    `axe-core on ${name}`,
  );
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function api(method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: body && JSON.stringify(body),
  });
  const json = await r.json();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

const id = (name) => name.slice(name.lastIndexOf('/') + 1);
let okEndpoint = '';
let downEndpoint = '';

try {
  await step('sign-in page, and a wrong key is refused', async () => {
    await page.goto(base + '/');
    await page.getByLabel('API key').fill('whk_not-a-key-of-anyone');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This key was refused').waitFor();
    await check('sign-in');
  });

  await step('sign in with a customer key: the empty state leads to Add endpoint', async () => {
    await page.getByLabel('API key').fill(apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'No endpoints yet' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('webhookd.apiKey')), apiKey);
    await check('endpoints-empty');
  });

  await step('add endpoint: a refused URL shows its error on the URL field', async () => {
    await page.getByRole('link', { name: 'Add endpoint' }).click();
    await page.getByRole('heading', { name: 'Add endpoint' }).waitFor();
    await page.getByLabel('Endpoint URL').fill('ftp://127.0.0.1/webhooks');
    await page.getByRole('checkbox', { name: /property\.created/ }).check();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    const err = page.locator('#ep-url-error');
    await err.waitFor();
    assert.match(await err.innerText(), /\S/);
    assert.equal(await page.getByLabel('Endpoint URL').getAttribute('aria-invalid'), 'true');
    await page.getByRole('button', { name: 'Example' }).first().click();
    await check('endpoint-add-refused-url');
  });

  await step('add endpoint: saved, the secret is shown once with the verification code', async () => {
    await page.getByLabel('Endpoint URL').fill(okURL);
    await page.getByLabel('Description (optional)').fill('Receiver that answers 200');
    await page.getByRole('button', { name: 'Add header' }).click();
    await page.getByLabel('Header 1 name').fill('X-Api-Key');
    await page.getByLabel('Header 1 value').fill('e2e');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.getByRole('heading', { name: 'Endpoint added' }).waitFor();
    assert.match(await page.getByLabel('Signing secret').innerText(), /^whsec_/);
    assert.match(await page.getByLabel('Verification code').innerText(), /WEBHOOK_SECRET/);
    await check('endpoint-added');
    await page.getByRole('link', { name: 'Go to the endpoint' }).click();
    await page.getByRole('heading', { name: 'Delivery history' }).waitFor();
    okEndpoint = new URL(page.url()).pathname.split('/')[2];
    assert.match(okEndpoint, /^ep_/);
  });

  await step('send a test event: invalid JSON is refused, a valid one is delivered', async () => {
    await page.goto(`${base}/endpoints/${okEndpoint}`);
    await page.getByRole('heading', { name: 'Delivery history' }).waitFor();
    await page.getByRole('link', { name: 'Send test event' }).last().click();
    await page.getByRole('heading', { name: 'Send test event' }).waitFor();
    const payload = page.getByLabel(/Payload/);
    await page.waitForFunction(() => document.querySelector('#t-payload')?.value.includes('property'));
    const example = await payload.inputValue();
    await payload.fill('{"property": ');
    await page.getByText('Invalid JSON').waitFor();
    assert.ok(await page.getByRole('button', { name: 'Send test event' }).isDisabled());
    await payload.fill(example);
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByRole('heading', { name: 'Delivered' }).waitFor();
    await page.getByText('HTTP 200').waitFor();
    await check('send-test-event');
  });

  await step("a delivery's page shows the exact body the receiver got", async () => {
    await page.getByRole('link', { name: 'Open the delivery' }).click();
    await page.getByRole('heading', { name: 'Body sent' }).waitFor();
    const shown = await page.getByLabel('Request body', { exact: true }).textContent();
    const received = await (await fetch(lastBodyURL)).text();
    assert.equal(shown, received);
    assert.match(received, /^\{"id":"evt_[^"]+","type":"property.created","created":"[^"]+","data":\{/);
    await page.getByRole('cell', { name: 'Test event' }).waitFor();
    await page.getByRole('cell', { name: '200' }).waitFor();
  });

  await step('a failing endpoint shows its error in the history', async () => {
    const ep = await api('POST', '/v1/endpoints', { url: downURL, eventTypes: ['property.created', 'user.registered'] });
    downEndpoint = id(ep.name);
    await page.goto(`${base}/test?endpoint=${downEndpoint}`);
    await page.waitForFunction(() => document.querySelector('#t-payload')?.value.includes('{'));
    await page.getByRole('button', { name: 'Send test event' }).click();
    await page.getByRole('heading', { name: 'Failed' }).waitFor();
    await page.goto(`${base}/endpoints/${downEndpoint}`);
    const cell = page.locator('table.history td.error-cell:not(.none)').first();
    await cell.waitFor();
    assert.match(await cell.innerText(), /refused|connect/i);
    await page.getByText('Failing since').waitFor();
    // Its health: the failed test event, and its error.
    await page.locator('.props .health', { hasText: '1 failed' }).waitFor();
    assert.match(await page.locator('.props .last-error').innerText(), /refused|connect/i);
    await check('endpoint-detail-failing');
  });

  await step('Retry now produces a manual attempt', async () => {
    await page.locator('table.history a.delivery-link').first().click();
    await page.getByRole('heading', { name: 'Attempts' }).waitFor();
    assert.equal(await page.getByRole('cell', { name: 'Manual retry' }).count(), 0);
    await page.getByRole('button', { name: 'Retry now' }).click();
    await page.getByRole('cell', { name: 'Manual retry' }).waitFor();
    await page.getByRole('heading', { name: 'Body sent' }).waitFor();
    assert.match(await page.getByLabel('Request body', { exact: true }).textContent(), /"type":"property.created"/);
    await check('delivery');
  });

  await step('disable and enable an endpoint', async () => {
    await page.goto(`${base}/endpoints/${okEndpoint}`);
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.locator('.props .badge', { hasText: 'Disabled' }).waitFor();
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.locator('.props .badge', { hasText: 'Enabled' }).waitFor();
    const ep = await api('GET', `/v1/endpoints/${okEndpoint}`);
    assert.equal(ep.state, 'ENABLED');
  });

  await step('reveal and rotate the secret, with the grace period explained', async () => {
    await page.getByRole('button', { name: 'Reveal secret' }).click();
    const first = await page.getByLabel('Signing secret').innerText();
    assert.match(first, /^whsec_/);
    await page.getByRole('button', { name: 'Rotate secret…' }).click();
    await page.getByText('grace period').first().waitFor();
    await check('endpoint-detail-rotate');
    await page.getByRole('button', { name: 'Rotate secret', exact: true }).click();
    await page.getByText('still signs requests until').waitFor();
    const second = await page.getByLabel('Signing secret').innerText();
    assert.notEqual(second, first);
    const s = await api('GET', `/v1/endpoints/${okEndpoint}/secret`);
    assert.equal(s.secret, second);
  });

  await step('edit an endpoint', async () => {
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Description (optional)').fill('Edited in the dashboard');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Edited in the dashboard').waitFor();
  });

  await step('paginate the delivery history with page tokens', async () => {
    for (let i = 0; i < 12; i++) {
      await api('POST', '/v1/events', { type: 'property.created', data: { property: { id: `prop_${i}` } } });
    }
    await page.reload();
    await page.getByLabel('Per page').selectOption('10');
    const rows = page.locator('table.history tbody tr');
    await page.waitForFunction(() => document.querySelectorAll('table.history tbody tr').length === 10);
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 2', { exact: true }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('table.history tbody tr').length === 3);
    assert.equal(await rows.count(), 3); // 12 events and the test event
    assert.ok(await page.getByRole('button', { name: 'Next page' }).isDisabled());
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.waitForFunction(() => document.querySelectorAll('table.history tbody tr').length === 10);
    await page.getByLabel('Status').selectOption('SUCCEEDED');
    await page.getByText('Page 1', { exact: true }).waitFor();
    await check('endpoint-detail');
  });

  await step('endpoints list', async () => {
    await page.getByRole('link', { name: 'Endpoints' }).first().click();
    await page.getByRole('link', { name: okURL }).waitFor();
    await page.getByText('Failing since').waitFor();
    // Health at a glance: the receiver's successes, the failing one's error.
    const row = (url) => page.locator('tbody tr', { has: page.getByRole('link', { name: url, exact: true }) });
    await row(okURL).locator('.health', { hasText: /[1-9]\d* succeeded · 0 failed/ }).waitFor();
    await row(downURL).locator('.health', { hasText: '1 failed' }).waitFor();
    assert.match(await row(downURL).locator('.last-error').innerText(), /refused|connect/i);
    await check('endpoints');
  });

  await step('events list and an event with its payload and deliveries', async () => {
    await page.getByRole('link', { name: 'Events', exact: true }).click();
    await page.getByRole('heading', { name: 'Events' }).waitFor();
    await page.locator('table tbody tr').first().waitFor();
    await check('events');
    await page.locator('table tbody tr a').first().click();
    await page.getByRole('heading', { name: 'Payload' }).waitFor();
    await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
    await page.locator('table tbody tr').first().waitFor();
    await check('event');
  });

  await step('event types catalog', async () => {
    await page.getByRole('link', { name: 'Event types' }).click();
    await page.getByRole('heading', { name: 'property.created' }).waitFor();
    assert.equal(await page.locator('article.card').count(), 8);
    await check('event-types');
  });

  await step("another account's delivery URL shows not found", async () => {
    await page.goto(`${base}/endpoints/${okEndpoint}/deliveries/${foreignDelivery}`);
    await page.getByRole('alert').filter({ hasText: /not found/i }).waitFor();
    await check('delivery-not-found');
  });

  await step('recover failed deliveries since a time', async () => {
    await page.goto(`${base}/endpoints/${downEndpoint}`);
    await page.getByLabel('Failed since').fill('2020-01-01T00:00');
    await page.getByRole('button', { name: 'Recover' }).click();
    // The test event's delivery failed for good (test events are not
    // retried on the schedule); the published events' are still pending.
    await page.getByText('1 delivery is being attempted again').waitFor();
  });

  await step('delete an endpoint after confirming', async () => {
    await page.getByRole('button', { name: 'Delete…' }).click();
    await page.getByText('This cannot be undone').waitFor();
    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    await page.getByRole('heading', { name: 'Endpoints', exact: true }).waitFor();
    await page.getByRole('link', { name: okURL }).waitFor();
    assert.equal(await page.getByRole('link', { name: downURL }).count(), 0);
    const r = await fetch(`${base}/v1/endpoints/${downEndpoint}`, { headers: { Authorization: `Bearer ${apiKey}` } });
    assert.equal(r.status, 404);
  });

  await step('usable at 375 px', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    for (const path of ['/endpoints', `/endpoints/${okEndpoint}`, '/test', '/endpoints/new']) {
      await page.goto(base + path);
      await page.locator('main h1').waitFor();
      await page.waitForLoadState('networkidle');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${path} is ${overflow} px wider than 375 px`);
    }
    await page.goto(base + '/endpoints');
    await page.getByRole('link', { name: okURL }).waitFor();
    await check('endpoints-375px');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await step('sign out forgets the key', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('webhookd.apiKey')), null);
  });

  await step('a revoked key sends the dashboard back to sign-in', async () => {
    await page.getByLabel('API key').fill(apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Endpoints', exact: true }).waitFor();
    const r = await fetch(`${base}/v1/${apiKeyName}:revoke`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    assert.equal(r.status, 200, await r.text());
    // The next poll is refused.
    await page.getByText('no longer accepts your key').waitFor({ timeout: 20000 });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('webhookd.apiKey')), null);
  });

  await step('the API reference at /docs lists the operations', async () => {
    await page.goto(base + '/docs');
    await page.locator('.opblock-summary-path', { hasText: '/v1/endpoints' }).first().waitFor();
    const paths = await page.locator('.opblock-summary-path').allInnerTexts();
    for (const want of ['/v1/endpoints', '/v1/events', '/v1/portalSessions']) {
      assert.ok(paths.some((p) => p.replace(/\u200b/g, '') === want), `/docs lacks ${want} (has ${paths.length} operations)`);
    }
    await check('docs');
  });

  // Portal links: what a platform sends its customer instead of a key.
  async function portalSession(ttl) {
    const key = await (await fetch(`${base}/v1/${apiKeyName}`, { headers: { Authorization: `Bearer ${adminToken}` } })).json();
    const r = await fetch(`${base}/v1/portalSessions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ account: key.account, ...(ttl ? { ttl } : {}) }),
    });
    const ps = await r.json();
    assert.equal(r.status, 200, JSON.stringify(ps));
    assert.equal(ps.url, `${base}/#portal=${ps.token}`);
    return ps;
  }
  let portal;
  await step('sign in with a portal link: the token leaves the address bar', async () => {
    portal = await portalSession();
    await page.goto(portal.url);
    await page.getByRole('heading', { name: 'Endpoints', exact: true }).waitFor();
    await page.getByRole('link', { name: okURL }).waitFor();
    assert.equal(new URL(page.url()).hash, '');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('webhookd.apiKey')), portal.token);
  });

  await step('sign out revokes the portal session', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('webhookd.apiKey')), null);
    const r = await fetch(`${base}/v1/endpoints`, { headers: { Authorization: `Bearer ${portal.token}` } });
    assert.equal(r.status, 401);
  });

  await step('an expired portal link is refused with a clear message', async () => {
    const short = await portalSession('1s');
    await new Promise((r) => setTimeout(r, Date.parse(short.expireTime) - Date.now() + 200));
    await page.goto(short.url);
    await page.getByText('This sign-in link has expired or was revoked').waitFor();
    assert.equal(new URL(page.url()).hash, '');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('webhookd.apiKey')), null);
    await check('sign-in-link-expired');
  });

  assert.deepEqual(problems, [], 'console errors or CSP violations');
  console.log(`all ${stepNo} steps passed`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
