"""The flag catalog: an index of every flag and one page per flag, from the merged config."""
