-- Alerts to a force's own systems: each inbox alert goes to the configured webhook once it is
-- committed (the relay enqueues it, job id = alert id), retried with backoff past 24 hours, then
-- dead-lettered; the inbox row says where it stands.
ALTER TABLE "alert_inbox" ADD COLUMN "webhook_enqueued_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "alert_inbox" ADD COLUMN "webhook_delivered_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "alert_inbox" ADD COLUMN "webhook_dead_at" timestamp with time zone;
--> statement-breakpoint
CREATE INDEX "alert_inbox_webhook_pending_idx" ON "alert_inbox" USING btree ("event_number") WHERE "webhook_enqueued_at" IS NULL;
--> statement-breakpoint
SELECT pgboss.create_queue('mcx-alert-webhook', '{"policy":"standard","retryLimit":16,"retryDelay":2,"retryBackoff":true,"expireInSeconds":120,"retentionMinutes":43200,"deadLetter":"mcx-alert-dead"}');
--> statement-breakpoint
-- The queue's new partition, like the others: the node works it and creates nothing.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pgboss TO mcx_app;
