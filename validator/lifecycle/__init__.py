"""A flag's life after review: its rollout timeline, its status, its age, its code references."""
