// @webhookd/sdk: webhookd's TypeScript SDK.
//
//   Client            gRPC, for Node (grpc.ts)
//   RestClient        REST, for browsers and Node (rest.ts; also "@webhookd/sdk/rest")
//   verifyWebhook     signature checks for receivers (verify.ts; also "@webhookd/sdk/verify";
//                     verifyWebhookWeb, WebCrypto, in "@webhookd/sdk/verify/web")
//   WebhookdError     what both clients throw (errors.ts)
export { Client, grpcBaseUrl, type ClientOptions } from "./grpc.js";
export { RestClient, unwrap, type RestClientOptions } from "./rest.js";
export { Code, WebhookdError, codeName, type FieldViolation } from "./errors.js";
export type { RetryOptions, RetryInfo } from "./retry.js";
export {
  verifyWebhook,
  signWebhook,
  webhookMiddleware,
  verifiedWebhook,
  WebhookVerificationError,
  type VerifiedWebhook,
  type VerifyOptions,
  type WebhookHeaders,
  type WebhookScheme,
  type MiddlewareOptions,
  type WebhookRequest,
} from "./verify.js";
export { verifyWebhookWeb } from "./verify-web.js";
export { VERSION } from "./version.js";
// The generated messages and services of the gRPC API.
export * from "./gen/proto/webhooks/v1/resources_pb.js";
export * from "./gen/proto/webhooks/v1/webhook_service_pb.js";
export * from "./gen/proto/webhooks/v1/admin_service_pb.js";
