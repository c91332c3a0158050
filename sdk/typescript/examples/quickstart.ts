// The README's examples, type-checked with the package (npm run typecheck,
// npm test) so that they keep compiling as the SDK changes. Not run.
import { Client } from "@webhookd/sdk";

const webhookd = new Client({ address: "127.0.0.1:9090", apiKey: process.env.WEBHOOKD_API_KEY ?? "" });
const event = await webhookd.publishEvent("property.created", { property: { id: "prop_1" } });
for await (const d of webhookd.deliveries({ parent: event.name })) console.log(d.name, d.status);
webhookd.close();
