CREATE TABLE "audit_checkpoints" (
	"size" bigint PRIMARY KEY NOT NULL,
	"head_hash" text NOT NULL,
	"jws" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_entries" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	"at" timestamp (3) with time zone NOT NULL,
	"action" text NOT NULL,
	"actor_subject" text NOT NULL,
	"actor_force" text NOT NULL,
	"requesting_node" text,
	"purpose" text,
	"case_ref" text,
	"outcome" text NOT NULL,
	"record_ids" text[] NOT NULL,
	"entry" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_receipts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"peer" text NOT NULL,
	"peer_entry_id" text NOT NULL,
	"checkpoint_jws" text NOT NULL,
	"our_seq" bigint,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "security_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"kind" text NOT NULL,
	"reason" text NOT NULL,
	"source" text NOT NULL,
	"count" integer DEFAULT 1 NOT NULL
);
--> statement-breakpoint
CREATE INDEX "audit_entries_at_idx" ON "audit_entries" USING btree ("at");--> statement-breakpoint
CREATE INDEX "audit_entries_actor_idx" ON "audit_entries" USING btree ("actor_subject","at");--> statement-breakpoint
CREATE INDEX "audit_entries_case_idx" ON "audit_entries" USING btree ("case_ref");--> statement-breakpoint
CREATE INDEX "audit_entries_records_idx" ON "audit_entries" USING gin ("record_ids");--> statement-breakpoint
CREATE INDEX "security_events_at_idx" ON "security_events" USING btree ("at");