-- Alerts, after an outside review: a watch, a WATCH alert and an acknowledgement belonged to the
-- token's subject alone, yet a subject is unique only together with its issuer, so a token of
-- another configured issuer with the same subject took them over. From now on they are stored as
-- `issuer subject` (the node's ownerOf; a configured issuer holds no whitespace). The issuer of an
-- older row is not in the database (nor in the audit trail), so it cannot be filled in: each older
-- owner becomes ` subject`, an empty issuer that no verified token has, so its watches and WATCH
-- alerts are nobody's (an auditor still sees them) and set again by their watcher if still needed.
UPDATE "alert_watches" SET "created_by" = ' ' || "created_by";
--> statement-breakpoint
UPDATE "alert_inbox" SET "for_user" = ' ' || "for_user" WHERE "for_user" IS NOT NULL;
--> statement-breakpoint
UPDATE "alert_inbox" SET "acknowledged_by" = ' ' || "acknowledged_by" WHERE "acknowledged_by" IS NOT NULL;
--> statement-breakpoint
UPDATE "alert_acknowledgements" SET "acknowledged_by" = ' ' || "acknowledged_by";
