"""flagops validator: judges flag files and the rollout steps between two git states."""
