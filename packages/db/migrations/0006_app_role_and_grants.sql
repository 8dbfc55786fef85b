-- The application's role, mcx_app: it owns nothing, writes records, and may only read and
-- append the audit tables (no UPDATE, DELETE or TRUNCATE). The node sets this role on every
-- connection of its pool; in production its login role should be a member of mcx_app only.
-- Roles are cluster-wide and several databases may migrate at once: tolerate a race.
DO $$
BEGIN
  CREATE ROLE mcx_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO mcx_app;
--> statement-breakpoint
GRANT USAGE ON SCHEMA drizzle TO mcx_app;
--> statement-breakpoint
GRANT SELECT ON drizzle.__drizzle_migrations TO mcx_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON records, record_versions, manifest_state TO mcx_app;
--> statement-breakpoint
GRANT SELECT ON ref_organisations TO mcx_app;
--> statement-breakpoint
GRANT SELECT, INSERT ON audit_entries, audit_checkpoints, audit_receipts, security_events TO mcx_app;
--> statement-breakpoint
REVOKE UPDATE, DELETE, TRUNCATE ON audit_entries, audit_checkpoints, audit_receipts FROM mcx_app;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO mcx_app;
