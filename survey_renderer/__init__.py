"""The static survey response page, gated by the merged flag config (build/flags.json)."""
