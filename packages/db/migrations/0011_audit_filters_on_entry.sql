DROP INDEX "audit_entries_at_idx";--> statement-breakpoint
DROP INDEX "audit_entries_actor_idx";--> statement-breakpoint
DROP INDEX "audit_entries_case_idx";--> statement-breakpoint
DROP INDEX "audit_entries_records_idx";--> statement-breakpoint
CREATE INDEX "audit_entries_entry_at_idx" ON "audit_entries" USING btree (("entry"->>'at') collate "C");--> statement-breakpoint
CREATE INDEX "audit_entries_entry_actor_idx" ON "audit_entries" USING btree (("entry"->'actor'->>'subject'),("entry"->>'at') collate "C");--> statement-breakpoint
CREATE INDEX "audit_entries_entry_case_idx" ON "audit_entries" USING btree (("entry"->>'caseRef'));--> statement-breakpoint
CREATE INDEX "audit_entries_entry_records_idx" ON "audit_entries" USING gin (("entry"->'recordIds') jsonb_path_ops);