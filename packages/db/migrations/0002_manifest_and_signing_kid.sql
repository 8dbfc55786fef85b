CREATE TABLE "manifest_state" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"highest_version" integer NOT NULL,
	"manifest_jws" text,
	"accepted_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "manifest_state_singleton" CHECK ("manifest_state"."id" = 1)
);
--> statement-breakpoint
ALTER TABLE "record_versions" ADD COLUMN "signing_kid" text;--> statement-breakpoint
CREATE INDEX "record_versions_kid_idx" ON "record_versions" USING btree ("signing_kid");