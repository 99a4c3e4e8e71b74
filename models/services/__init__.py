"""The register's operations: filing, look-up, status, follow-up, outbox, recovery, export."""
