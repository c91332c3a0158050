import { RestClient, WebhookdError, Code } from "@webhookd/sdk/rest";

const api = new RestClient({ baseUrl: "http://127.0.0.1:8080", apiKey: process.env.WEBHOOKD_API_KEY ?? "" });
try {
  await api.createEndpoint({ url: "not a url", eventTypes: ["property.created"] });
} catch (e) {
  if (e instanceof WebhookdError && e.code === Code.InvalidArgument) {
    console.log(e.violation("endpoint.url")); // what is wrong with the URL
  }
}
// Every path of the OpenAPI document, typed:
const { data } = await api.api.GET("/v1/eventTypes");
console.log(data?.eventTypes?.map((t) => t.type));
