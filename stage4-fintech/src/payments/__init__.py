"""The payments service: customers, their wallets, and the money they move. It owns who
may move what; the ledger (over gRPC) owns whether the money is there."""
