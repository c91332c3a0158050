-- Create "api_keys" table
CREATE TABLE `api_keys` (`id` text NOT NULL, `internal` bool NOT NULL DEFAULT (false), `display_name` text NOT NULL DEFAULT (''), `token_hash` blob NOT NULL, `create_time` datetime NOT NULL, `revoke_time` datetime NULL, `account_id` text NULL, PRIMARY KEY (`id`), CONSTRAINT `api_keys_accounts_api_keys` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE CASCADE);
-- Create index "apikey_token_hash" to table: "api_keys"
CREATE UNIQUE INDEX `apikey_token_hash` ON `api_keys` (`token_hash`);
-- Create index "apikey_account_id_id" to table: "api_keys"
CREATE INDEX `apikey_account_id_id` ON `api_keys` (`account_id`, `id`);
-- Create "accounts" table
CREATE TABLE `accounts` (`id` text NOT NULL, `display_name` text NOT NULL DEFAULT (''), `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, PRIMARY KEY (`id`));
-- Create "attempts" table
CREATE TABLE `attempts` (`id` text NOT NULL, `number` integer NOT NULL, `trigger` text NOT NULL, `start_time` datetime NOT NULL, `duration_ns` integer NOT NULL DEFAULT (0), `response_status` integer NOT NULL DEFAULT (0), `response_body` text NOT NULL DEFAULT (''), `error` text NOT NULL DEFAULT (''), `delivery_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `attempts_deliveries_attempts` FOREIGN KEY (`delivery_id`) REFERENCES `deliveries` (`id`) ON DELETE CASCADE);
-- Create index "attempt_delivery_id_number" to table: "attempts"
CREATE UNIQUE INDEX `attempt_delivery_id_number` ON `attempts` (`delivery_id`, `number`);
-- Create "deliveries" table
CREATE TABLE `deliveries` (`id` text NOT NULL, `event_type` text NOT NULL, `status` text NOT NULL DEFAULT ('pending'), `attempt_count` integer NOT NULL DEFAULT (0), `next_attempt_time` datetime NULL, `next_trigger` text NOT NULL DEFAULT ('initial'), `last_error` text NOT NULL DEFAULT (''), `last_response_status` integer NOT NULL DEFAULT (0), `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, `account_id` text NOT NULL, `endpoint_id` text NOT NULL, `event_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `deliveries_accounts_deliveries` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE CASCADE, CONSTRAINT `deliveries_endpoints_deliveries` FOREIGN KEY (`endpoint_id`) REFERENCES `endpoints` (`id`) ON DELETE CASCADE, CONSTRAINT `deliveries_events_deliveries` FOREIGN KEY (`event_id`) REFERENCES `events` (`id`) ON DELETE CASCADE);
-- Create index "delivery_endpoint_id_id" to table: "deliveries"
CREATE INDEX `delivery_endpoint_id_id` ON `deliveries` (`endpoint_id`, `id`);
-- Create index "delivery_event_id_id" to table: "deliveries"
CREATE INDEX `delivery_event_id_id` ON `deliveries` (`event_id`, `id`);
-- Create index "delivery_account_id_id" to table: "deliveries"
CREATE INDEX `delivery_account_id_id` ON `deliveries` (`account_id`, `id`);
-- Create index "delivery_status_next_attempt_time" to table: "deliveries"
CREATE INDEX `delivery_status_next_attempt_time` ON `deliveries` (`status`, `next_attempt_time`);
-- Create index "delivery_endpoint_id_status_update_time" to table: "deliveries"
CREATE INDEX `delivery_endpoint_id_status_update_time` ON `deliveries` (`endpoint_id`, `status`, `update_time`);
-- Create "endpoints" table
CREATE TABLE `endpoints` (`id` text NOT NULL, `url` text NOT NULL, `description` text NOT NULL DEFAULT (''), `event_types` json NOT NULL, `headers` json NULL, `disabled` bool NOT NULL DEFAULT (false), `disabled_reason` text NOT NULL DEFAULT (''), `disable_time` datetime NULL, `failing_since` datetime NULL, `secret` text NOT NULL, `previous_secret` text NOT NULL DEFAULT (''), `previous_secret_expire_time` datetime NULL, `create_time` datetime NOT NULL, `update_time` datetime NOT NULL, `development` bool NOT NULL DEFAULT (false), `revision` integer NOT NULL DEFAULT (1), `account_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `endpoints_accounts_endpoints` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE CASCADE);
-- Create index "endpoint_account_id_id" to table: "endpoints"
CREATE INDEX `endpoint_account_id_id` ON `endpoints` (`account_id`, `id`);
-- Create index "endpoint_account_id" to table: "endpoints"
CREATE UNIQUE INDEX `endpoint_account_id` ON `endpoints` (`account_id`) WHERE development;
-- Create "events" table
CREATE TABLE `events` (`id` text NOT NULL, `type` text NOT NULL, `data` blob NOT NULL, `idempotency_key` text NULL, `test` bool NOT NULL DEFAULT (false), `create_time` datetime NOT NULL, `account_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `events_accounts_events` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE CASCADE);
-- Create index "event_account_id_idempotency_key" to table: "events"
CREATE UNIQUE INDEX `event_account_id_idempotency_key` ON `events` (`account_id`, `idempotency_key`);
-- Create index "event_account_id_id" to table: "events"
CREATE INDEX `event_account_id_id` ON `events` (`account_id`, `id`);
-- Create index "event_account_id_type_id" to table: "events"
CREATE INDEX `event_account_id_type_id` ON `events` (`account_id`, `type`, `id`);
-- Create index "event_create_time" to table: "events"
CREATE INDEX `event_create_time` ON `events` (`create_time`);
-- Create "event_types" table
CREATE TABLE `event_types` (`name` text NOT NULL, `description` text NOT NULL DEFAULT (''), `example` blob NULL, `create_time` datetime NOT NULL, PRIMARY KEY (`name`));
-- Create "portal_sessions" table
CREATE TABLE `portal_sessions` (`id` text NOT NULL, `token_hash` blob NOT NULL, `create_time` datetime NOT NULL, `expire_time` datetime NOT NULL, `revoke_time` datetime NULL, `account_id` text NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `portal_sessions_accounts_portal_sessions` FOREIGN KEY (`account_id`) REFERENCES `accounts` (`id`) ON DELETE CASCADE);
-- Create index "portalsession_token_hash" to table: "portal_sessions"
CREATE UNIQUE INDEX `portalsession_token_hash` ON `portal_sessions` (`token_hash`);
