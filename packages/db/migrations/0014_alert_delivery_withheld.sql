-- A delivery whose episode became unreadable (restricted, retracted or past its review date)
-- before it left: the sender keeps it as withheld, neither pending nor a dead letter.
ALTER TABLE "alert_deliveries" DROP CONSTRAINT "alert_deliveries_state_check";
--> statement-breakpoint
ALTER TABLE "alert_deliveries" ADD CONSTRAINT "alert_deliveries_state_check" CHECK ("state" IN ('pending', 'delivered', 'dead', 'withheld'));
