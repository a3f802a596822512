"""Read-only views of a scheduler instance's shared state (status, snapshots)."""
