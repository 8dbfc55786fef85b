ALTER TABLE "records" ADD COLUMN "associate_refs" text[];--> statement-breakpoint
CREATE INDEX "records_associate_refs_idx" ON "records" USING gin ("associate_refs");--> statement-breakpoint
-- Episodes stored before this column: their associates, from the stored bytes.
UPDATE "records" r SET "associate_refs" = coalesce((
  SELECT array_agg((a->>'owner') || '/' || (a->>'associateId'))
  FROM "record_versions" v, jsonb_array_elements((v."bytes"::jsonb)->'facts'->'associates') a
  WHERE v."owner" = r."owner" AND v."id" = r."id" AND v."version" = r."version"
), '{}') WHERE r."kind" = 'episode' AND r."state" <> 'RETRACTED';
