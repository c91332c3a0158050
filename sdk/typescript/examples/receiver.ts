import express from "express";
import { verifiedWebhook, webhookMiddleware } from "@webhookd/sdk/verify";

const app = express();
// Before any JSON body parser: the signature covers the raw bytes.
app.post("/webhooks/real-estate", webhookMiddleware({ secret: process.env.WEBHOOK_SECRET ?? "" }), (req, res) => {
  const { id, payload } = verifiedWebhook(req); // id: the event id, the same on every retry
  console.log(id, payload);
  res.json({ received: true });
});
app.listen(3000);
