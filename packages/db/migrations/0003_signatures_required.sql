ALTER TABLE "record_versions" ALTER COLUMN "signature" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "record_versions" ALTER COLUMN "signing_kid" SET NOT NULL;