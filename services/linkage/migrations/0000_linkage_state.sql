CREATE TABLE "linkage_manifest_state" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"highest_version" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "linkage_manifest_state_singleton" CHECK ("linkage_manifest_state"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "linkage_rate_buckets" (
	"member" text PRIMARY KEY NOT NULL,
	"tokens" double precision NOT NULL,
	"refilled_at" timestamp with time zone NOT NULL,
	"last_granted" boolean NOT NULL
);
--> statement-breakpoint
CREATE TABLE "linkage_token_jtis" (
	"member" text NOT NULL,
	"jti" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "linkage_token_jtis_member_jti_pk" PRIMARY KEY("member","jti")
);
--> statement-breakpoint
CREATE INDEX "linkage_token_jtis_expires_idx" ON "linkage_token_jtis" USING btree ("expires_at");