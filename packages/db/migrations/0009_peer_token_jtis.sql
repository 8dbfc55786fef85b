CREATE TABLE "peer_token_jtis" (
	"issuer" text NOT NULL,
	"jti" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "peer_token_jtis_issuer_jti_pk" PRIMARY KEY("issuer","jti")
);
--> statement-breakpoint
ALTER TABLE "audit_receipts" RENAME COLUMN "checkpoint_jws" TO "receipt_jws";--> statement-breakpoint
CREATE INDEX "peer_token_jtis_expires_idx" ON "peer_token_jtis" USING btree ("expires_at");--> statement-breakpoint
-- The node records each peer token it accepts and deletes the expired ones; nothing else.
GRANT SELECT, INSERT, DELETE ON peer_token_jtis TO mcx_app;
