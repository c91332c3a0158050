// A webhook receiver that checks webhookd's requests the two ways customers
// will: with the guide's Express middleware, copied below exactly as the
// guide prints it (express.json(), then HMAC over JSON.stringify(req.body)),
// and with the standardwebhooks package over the raw body.
//
//   WEBHOOK_SECRET=whsec_… [STANDARD_WEBHOOK_SECRETS=whsec_a,whsec_b] node receiver.js [port]
//
// WEBHOOK_SECRET is the guide's environment variable. Every secret in
// STANDARD_WEBHOOK_SECRETS (default: WEBHOOK_SECRET) must verify the
// webhook-signature header on its own, which is how a rotation is tested:
// both the current and the previous secret must be accepted. The port comes
// from argv or PORT (0 or unset: any free port). On start it prints
// {"listening":<port>}; then one JSON line per request. It answers 200
// {"received":true} only when every check passes, 401 otherwise.
'use strict';

const express = require('express');
const { Webhook } = require('standardwebhooks');
const app = express();

// ---- The guide's Step 3, verbatim. ----
const crypto = require('crypto');

// Middleware to verify webhook signatures
function verifyWebhookSignature(req, res, next) {
  const signature = req.headers['x-webhook-signature'];
  const timestamp = req.headers['x-webhook-timestamp'];
  const body = JSON.stringify(req.body);
  
  // Your webhook secret from the dashboard
  const secret = process.env.WEBHOOK_SECRET;
  
  // Create the signature
  const expectedSignature = crypto
    .createHmac('sha256', secret)
    .update(timestamp + body)
    .digest('hex');
  
  // Check if signatures match
  if (crypto.timingSafeEqual(
    Buffer.from(signature),
    Buffer.from(expectedSignature)
  )) {
    next();
  } else {
    res.status(401).send('Invalid signature');
  }
}
// ---- End of the guide's code. ----

// The guide's express.json(), also keeping the raw bytes that Standard
// Webhooks verifies.
app.use(express.json({ verify: (req, res, buf) => { req.rawBody = buf; } }));

// guideVerdict runs the guide's middleware and reports what it decided
// instead of letting it answer: true when it called next().
function guideVerdict(req) {
  let passed = false;
  const res = { status() { return this; }, send() { return this; } };
  try {
    verifyWebhookSignature(req, res, () => { passed = true; });
    return { passed };
  } catch (e) {
    // timingSafeEqual throws when the lengths differ (or the header is missing).
    return { passed: false, error: String(e.message) };
  }
}

const standardSecrets = (process.env.STANDARD_WEBHOOK_SECRETS || process.env.WEBHOOK_SECRET || '')
  .split(',').filter((s) => s !== '');

function standardVerdicts(req) {
  return standardSecrets.map((secret) => {
    try {
      new Webhook(secret).verify(req.rawBody || Buffer.alloc(0), req.headers);
      return { passed: true };
    } catch (e) {
      return { passed: false, error: String(e.message) };
    }
  });
}

app.post('*', (req, res) => {
  const guide = guideVerdict(req);
  const standard = standardVerdicts(req);
  const ok = guide.passed && standard.length > 0 && standard.every((v) => v.passed);
  const status = ok ? 200 : 401;
  process.stdout.write(JSON.stringify({
    path: req.path,
    id: req.headers['webhook-id'] || null,
    contentType: req.headers['content-type'] || null,
    userAgent: req.headers['user-agent'] || null,
    type: req.body && req.body.type,
    guide,
    standard,
    status,
  }) + '\n');
  if (ok) {
    res.status(200).send({ received: true });
  } else {
    res.status(401).send('Invalid signature');
  }
});

// A body express.json() cannot parse never reaches the route; say so too.
app.use((err, req, res, next) => {
  process.stdout.write(JSON.stringify({ path: req.path, status: 400, error: String(err.message) }) + '\n');
  res.status(400).send('Bad request');
});

const port = Number(process.argv[2] || process.env.PORT || 0);
const server = app.listen(port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ listening: server.address().port }) + '\n');
});
