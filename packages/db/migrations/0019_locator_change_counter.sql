-- The record locator, after an outside review: an owner decided whether to rebuild its membership
-- filter from counts and the newest created_at/updated_at of its keys and episodes. Those times are
-- taken when a request starts, not when it commits, so a rekey that kept the number of keys and
-- committed after a later write was never seen, and the owner went on signing that its old filter
-- was current. Now every statement that writes linkage keys or records bumps one counter row in
-- the same transaction; the owner reads the counter and its keys in one snapshot and rebuilds
-- whenever the counter has moved. The row stays locked until the writing transaction ends, so a
-- check that reads the counter before such a write commits sees it move afterwards.
-- That lock makes writers of one node commit one after another, so the counter counts only once a
-- node serving a filter has set `enabled` (MCX_LOCATOR serve or on); with the locator off, the
-- trigger updates no row and takes no lock.
CREATE TABLE "locator_change_counter" (
	"id" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"changes" bigint NOT NULL,
	CONSTRAINT "locator_change_counter_one_row" CHECK ("id")
);
--> statement-breakpoint
INSERT INTO "locator_change_counter" ("id", "changes") VALUES (true, 0);
--> statement-breakpoint
-- SECURITY DEFINER: a write by any role that may write keys or records counts, whatever it was granted on the counter.
CREATE FUNCTION "locator_changed"() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  UPDATE "locator_change_counter" SET "changes" = "changes" + 1 WHERE "id" AND "enabled";
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "locator_keys_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "linkage_keys" FOR EACH STATEMENT EXECUTE FUNCTION "locator_changed"();
--> statement-breakpoint
CREATE TRIGGER "locator_records_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "records" FOR EACH STATEMENT EXECUTE FUNCTION "locator_changed"();
--> statement-breakpoint
GRANT SELECT, UPDATE ON "locator_change_counter" TO mcx_app;
