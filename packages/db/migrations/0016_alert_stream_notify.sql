-- The live alert stream: every replica of a node learns of new inbox rows at once. A statement
-- that inserts into alert_inbox notifies the channel mcx_alert_inbox when it commits; the payload
-- is empty on purpose: a listener reads the inbox table itself (by event number), never the
-- notification, and a stream also reads on a timer, so a missed notification loses nothing.
CREATE FUNCTION "alert_inbox_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mcx_alert_inbox', '');
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "alert_inbox_notify" AFTER INSERT ON "alert_inbox" FOR EACH STATEMENT EXECUTE FUNCTION "alert_inbox_notify"();
