CREATE TABLE "linkage_keys" (
	"owner" text NOT NULL,
	"holder_kind" text NOT NULL,
	"holder" text NOT NULL,
	"key_kind" text NOT NULL,
	"strength" text NOT NULL,
	"key_version" text NOT NULL,
	"normalisation_version" text NOT NULL,
	"key" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	CONSTRAINT "linkage_keys_owner_holder_kind_holder_key_version_key_kind_key_pk" PRIMARY KEY("owner","holder_kind","holder","key_version","key_kind","key")
);
--> statement-breakpoint
CREATE TABLE "subjects" (
	"owner" text NOT NULL,
	"subject_ref" text NOT NULL,
	"review_at" date NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "subjects_owner_subject_ref_pk" PRIMARY KEY("owner","subject_ref")
);
--> statement-breakpoint
CREATE INDEX "linkage_keys_key_idx" ON "linkage_keys" USING btree ("key_version","key");