-- The node (mcx_app) manages linkage keys: re-keying replaces them, erasure deletes them.
GRANT SELECT, INSERT, UPDATE, DELETE ON subjects, linkage_keys TO mcx_app;
