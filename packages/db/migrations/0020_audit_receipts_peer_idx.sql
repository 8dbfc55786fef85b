-- The receipts one member gave this node, in the order they were stored (GET /audit/receipts?from=<member>):
-- read along this index instead of scanning every receipt held, which grows by one per member asked, every read.
CREATE INDEX "audit_receipts_peer_id_idx" ON "audit_receipts" USING btree ("peer","id");
