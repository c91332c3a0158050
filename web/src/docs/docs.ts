// The API reference at /docs: Swagger UI, bundled from the pinned
// swagger-ui-dist package and served by webhookd like the dashboard (no CDN;
// this file is the initializer the CSP keeps out of the HTML), over the
// OpenAPI document webhookd serves at /openapi.json.
// @ts-expect-error swagger-ui-dist ships no types
import SwaggerUIBundle from 'swagger-ui-dist/swagger-ui-es-bundle.js';
import 'swagger-ui-dist/swagger-ui.css';
import './docs.css';

SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  // Deep links put a link inside each operation's toggle button, which
  // screen readers cannot reach (nested interactive controls).
  deepLinking: false,
  // The default validator badge loads an image from validator.swagger.io.
  validatorUrl: null,
  // "Try it out" calls this origin's API with the key given to Authorize,
  // which is kept in memory only.
  persistAuthorization: false,
  tryItOutEnabled: false,
});
