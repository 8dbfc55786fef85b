-- The cross-force link counts of this node's own associates (DESIGN.md "Federated history"), kept
-- fresh in the background so that a child's history answers from what the owner holds and never
-- waits for a nested fan-out. Counts only: how many children a member links to an associate, and
-- when that member said so; never which children.
CREATE TABLE "associate_link_counts" (
	"associate_id" text NOT NULL,
	"member" text NOT NULL,
	"children" integer NOT NULL,
	"computed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "associate_link_counts_pk" PRIMARY KEY ("associate_id", "member"),
	CONSTRAINT "associate_link_counts_children_check" CHECK ("children" >= 0)
);
--> statement-breakpoint
-- When each associate's counts are next due, and until when a replica is counting them (a lease,
-- so that replicas sharing the database do not count the same associates at once).
CREATE TABLE "associate_link_refresh" (
	"associate_id" text PRIMARY KEY NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"leased_until" timestamp with time zone,
	"attempted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "associate_link_refresh_due_idx" ON "associate_link_refresh" USING btree ("due_at");
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON associate_link_counts, associate_link_refresh TO mcx_app;
