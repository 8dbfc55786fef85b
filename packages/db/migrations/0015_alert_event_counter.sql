-- Alerts, after an outside review.
-- Event numbers: a sequence hands numbers out at insert and they commit in any order (and a
-- rolled-back insert leaves a gap), so a reader polling alerts(after: N) could pass over an
-- alert forever. The inbox now takes its numbers from one counter row, updated in the inserting
-- transaction: the row stays locked until that transaction ends, so numbers are dense and
-- become visible in the order they were given.
CREATE TABLE "alert_event_counter" (
	"id" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"last" bigint NOT NULL,
	CONSTRAINT "alert_event_counter_one_row" CHECK ("id")
);
--> statement-breakpoint
INSERT INTO "alert_event_counter" ("id", "last") SELECT true, coalesce(max("event_number"), 0) FROM "alert_inbox";
--> statement-breakpoint
ALTER TABLE "alert_inbox" ALTER COLUMN "event_number" DROP DEFAULT;
--> statement-breakpoint
DROP SEQUENCE "alert_event_seq";
--> statement-breakpoint
GRANT SELECT, UPDATE ON "alert_event_counter" TO mcx_app;
--> statement-breakpoint
-- A WATCH alert is its watcher's (the subject of the token that set the watch); null: the node's.
ALTER TABLE "alert_inbox" ADD COLUMN "for_user" text;
--> statement-breakpoint
-- Every acknowledgement, by whom and when (the inbox row keeps the first).
CREATE TABLE "alert_acknowledgements" (
	"alert_id" uuid NOT NULL REFERENCES "alert_inbox" ("id"),
	"acknowledged_by" text NOT NULL,
	"acknowledged_at" timestamp with time zone DEFAULT now() NOT NULL,
	PRIMARY KEY ("alert_id", "acknowledged_by")
);
--> statement-breakpoint
GRANT SELECT, INSERT ON "alert_acknowledgements" TO mcx_app;
--> statement-breakpoint
-- The cross-match keeps each member's mcx.holders/1 answer, so a retried job asks only the members
-- that have not answered; the outbox row says when the job first ran, when its summary went out,
-- and when it was given up (a dead cross-match, shown to operators).
CREATE TABLE "alert_crossmatch_answers" (
	"outbox_id" uuid NOT NULL REFERENCES "alert_outbox" ("id"),
	"member" text NOT NULL,
	"matches" jsonb,
	"refused" text,
	"answered_at" timestamp with time zone DEFAULT now() NOT NULL,
	PRIMARY KEY ("outbox_id", "member")
);
--> statement-breakpoint
ALTER TABLE "alert_outbox" ADD COLUMN "first_run_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "alert_outbox" ADD COLUMN "summarised_at" timestamp with time zone;
--> statement-breakpoint
ALTER TABLE "alert_outbox" ADD COLUMN "not_answered" text;
--> statement-breakpoint
ALTER TABLE "alert_outbox" ADD COLUMN "dead_at" timestamp with time zone;
--> statement-breakpoint
GRANT SELECT, INSERT ON "alert_crossmatch_answers" TO mcx_app;
--> statement-breakpoint
-- Once per crossing: whether the child's count in the window was last seen at or above the threshold.
CREATE TABLE "alert_threshold_state" (
	"subject_ref" text PRIMARY KEY NOT NULL,
	"reached" boolean NOT NULL,
	"episodes" integer NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON "alert_threshold_state" TO mcx_app;
--> statement-breakpoint
-- Members flagged for operators: an out-of-range mcx.holders/1 answer, a flood of mcx.alert/1.
CREATE TABLE "alert_member_flags" (
	"member" text NOT NULL,
	"reason" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "alert_member_flags_at_idx" ON "alert_member_flags" USING btree ("at");
--> statement-breakpoint
GRANT SELECT, INSERT ON "alert_member_flags" TO mcx_app;
--> statement-breakpoint
-- Incoming mcx.alert/1 per sending member and minute (the quota); windows older than an hour are pruned.
CREATE TABLE "alert_inbound_quota" (
	"member" text NOT NULL,
	"window_start" timestamp with time zone NOT NULL,
	"n" integer NOT NULL,
	PRIMARY KEY ("member", "window_start")
);
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON "alert_inbound_quota" TO mcx_app;
--> statement-breakpoint
-- pg-boss 10.4.2 at run time (migrate: false, schedule: false, supervise: true) reads its version
-- and queues, writes the maintenance times, inserts, fetches, completes, fails and deletes jobs
-- through pgboss.job (a partitioned table: privileges are checked on it, never on its partitions),
-- and archives and drops archived jobs. Nothing else: no queue, schedule or subscription writes,
-- no partition of its own, no TRUNCATE or DROP (ownership stays with the schema owner).
REVOKE ALL ON ALL TABLES IN SCHEMA pgboss FROM mcx_app;
--> statement-breakpoint
GRANT SELECT, UPDATE (maintained_on, monitored_on) ON pgboss.version TO mcx_app;
--> statement-breakpoint
GRANT SELECT ON pgboss.queue TO mcx_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON pgboss.job TO mcx_app;
--> statement-breakpoint
GRANT SELECT, INSERT, DELETE ON pgboss.archive TO mcx_app;
