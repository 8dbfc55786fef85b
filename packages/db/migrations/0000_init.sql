CREATE TABLE "record_versions" (
	"owner" text NOT NULL,
	"id" text NOT NULL,
	"version" integer NOT NULL,
	"kind" text NOT NULL,
	"content_hash" text NOT NULL,
	"bytes" text NOT NULL,
	"signature" text,
	"published_at" timestamp with time zone NOT NULL,
	"stored_at" timestamp with time zone DEFAULT now() NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "record_versions_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	CONSTRAINT "record_versions_owner_id_version_pk" PRIMARY KEY("owner","id","version")
);
--> statement-breakpoint
CREATE TABLE "records" (
	"owner" text NOT NULL,
	"id" text NOT NULL,
	"kind" text NOT NULL,
	"version" integer NOT NULL,
	"state" text NOT NULL,
	"owner_reference" text NOT NULL,
	"subject_ref" text,
	"episode_status" text,
	"reported_at" timestamp with time zone,
	"lat" double precision,
	"lon" double precision,
	"postcode" text,
	"uprn" text,
	"review_at" date,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "records_owner_id_pk" PRIMARY KEY("owner","id")
);
--> statement-breakpoint
CREATE TABLE "ref_organisations" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"police_area" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "records_kind_subject_idx" ON "records" USING btree ("kind","owner","subject_ref");--> statement-breakpoint
CREATE INDEX "records_reported_idx" ON "records" USING btree ("kind","reported_at");--> statement-breakpoint
CREATE INDEX "records_geo_idx" ON "records" USING btree ("lat","lon") WHERE "records"."lat" is not null;