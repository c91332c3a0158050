-- Create "accounts" table
CREATE TABLE "accounts" ("id" character varying NOT NULL, "display_name" character varying NOT NULL DEFAULT '', "create_time" timestamptz NOT NULL, "update_time" timestamptz NOT NULL, PRIMARY KEY ("id"));
-- Create "event_types" table
CREATE TABLE "event_types" ("name" character varying NOT NULL, "description" text NOT NULL DEFAULT '', "example" bytea NULL, "create_time" timestamptz NOT NULL, PRIMARY KEY ("name"));
-- Create "api_keys" table
CREATE TABLE "api_keys" ("id" character varying NOT NULL, "internal" boolean NOT NULL DEFAULT false, "display_name" character varying NOT NULL DEFAULT '', "token_hash" bytea NOT NULL, "create_time" timestamptz NOT NULL, "revoke_time" timestamptz NULL, "account_id" character varying NULL, PRIMARY KEY ("id"), CONSTRAINT "api_keys_accounts_api_keys" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "apikey_account_id_id" to table: "api_keys"
CREATE INDEX "apikey_account_id_id" ON "api_keys" ("account_id", "id");
-- Create index "apikey_token_hash" to table: "api_keys"
CREATE UNIQUE INDEX "apikey_token_hash" ON "api_keys" ("token_hash");
-- Create "endpoints" table
CREATE TABLE "endpoints" ("id" character varying NOT NULL, "url" text NOT NULL, "description" text NOT NULL DEFAULT '', "event_types" jsonb NOT NULL, "headers" jsonb NULL, "disabled" boolean NOT NULL DEFAULT false, "disabled_reason" character varying NOT NULL DEFAULT '', "disable_time" timestamptz NULL, "failing_since" timestamptz NULL, "secret" character varying NOT NULL, "previous_secret" character varying NOT NULL DEFAULT '', "previous_secret_expire_time" timestamptz NULL, "create_time" timestamptz NOT NULL, "update_time" timestamptz NOT NULL, "development" boolean NOT NULL DEFAULT false, "revision" bigint NOT NULL DEFAULT 1, "account_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "endpoints_accounts_endpoints" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "endpoint_account_id" to table: "endpoints"
CREATE UNIQUE INDEX "endpoint_account_id" ON "endpoints" ("account_id") WHERE development;
-- Create index "endpoint_account_id_id" to table: "endpoints"
CREATE INDEX "endpoint_account_id_id" ON "endpoints" ("account_id", "id");
-- Create "events" table
CREATE TABLE "events" ("id" character varying NOT NULL, "type" character varying NOT NULL, "data" bytea NOT NULL, "idempotency_key" character varying NULL, "test" boolean NOT NULL DEFAULT false, "create_time" timestamptz NOT NULL, "account_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "events_accounts_events" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "event_account_id_id" to table: "events"
CREATE INDEX "event_account_id_id" ON "events" ("account_id", "id");
-- Create index "event_account_id_idempotency_key" to table: "events"
CREATE UNIQUE INDEX "event_account_id_idempotency_key" ON "events" ("account_id", "idempotency_key");
-- Create index "event_account_id_type_id" to table: "events"
CREATE INDEX "event_account_id_type_id" ON "events" ("account_id", "type", "id");
-- Create index "event_create_time" to table: "events"
CREATE INDEX "event_create_time" ON "events" ("create_time");
-- Create "deliveries" table
CREATE TABLE "deliveries" ("id" character varying NOT NULL, "event_type" character varying NOT NULL, "status" character varying NOT NULL DEFAULT 'pending', "attempt_count" bigint NOT NULL DEFAULT 0, "next_attempt_time" timestamptz NULL, "next_trigger" character varying NOT NULL DEFAULT 'initial', "last_error" text NOT NULL DEFAULT '', "last_response_status" bigint NOT NULL DEFAULT 0, "create_time" timestamptz NOT NULL, "update_time" timestamptz NOT NULL, "account_id" character varying NOT NULL, "endpoint_id" character varying NOT NULL, "event_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "deliveries_accounts_deliveries" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "deliveries_endpoints_deliveries" FOREIGN KEY ("endpoint_id") REFERENCES "endpoints" ("id") ON UPDATE NO ACTION ON DELETE CASCADE, CONSTRAINT "deliveries_events_deliveries" FOREIGN KEY ("event_id") REFERENCES "events" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "delivery_account_id_id" to table: "deliveries"
CREATE INDEX "delivery_account_id_id" ON "deliveries" ("account_id", "id");
-- Create index "delivery_endpoint_id_id" to table: "deliveries"
CREATE INDEX "delivery_endpoint_id_id" ON "deliveries" ("endpoint_id", "id");
-- Create index "delivery_endpoint_id_status_update_time" to table: "deliveries"
CREATE INDEX "delivery_endpoint_id_status_update_time" ON "deliveries" ("endpoint_id", "status", "update_time");
-- Create index "delivery_event_id_id" to table: "deliveries"
CREATE INDEX "delivery_event_id_id" ON "deliveries" ("event_id", "id");
-- Create index "delivery_status_next_attempt_time" to table: "deliveries"
CREATE INDEX "delivery_status_next_attempt_time" ON "deliveries" ("status", "next_attempt_time");
-- Create "attempts" table
CREATE TABLE "attempts" ("id" character varying NOT NULL, "number" bigint NOT NULL, "trigger" character varying NOT NULL, "start_time" timestamptz NOT NULL, "duration_ns" bigint NOT NULL DEFAULT 0, "response_status" bigint NOT NULL DEFAULT 0, "response_body" text NOT NULL DEFAULT '', "error" text NOT NULL DEFAULT '', "delivery_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "attempts_deliveries_attempts" FOREIGN KEY ("delivery_id") REFERENCES "deliveries" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "attempt_delivery_id_number" to table: "attempts"
CREATE UNIQUE INDEX "attempt_delivery_id_number" ON "attempts" ("delivery_id", "number");
-- Create "portal_sessions" table
CREATE TABLE "portal_sessions" ("id" character varying NOT NULL, "token_hash" bytea NOT NULL, "create_time" timestamptz NOT NULL, "expire_time" timestamptz NOT NULL, "revoke_time" timestamptz NULL, "account_id" character varying NOT NULL, PRIMARY KEY ("id"), CONSTRAINT "portal_sessions_accounts_portal_sessions" FOREIGN KEY ("account_id") REFERENCES "accounts" ("id") ON UPDATE NO ACTION ON DELETE CASCADE);
-- Create index "portalsession_token_hash" to table: "portal_sessions"
CREATE UNIQUE INDEX "portalsession_token_hash" ON "portal_sessions" ("token_hash");
