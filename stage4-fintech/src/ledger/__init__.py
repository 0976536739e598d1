"""Stage 4: fintech. The ledger: double-entry accounts and transfers over gRPC."""
