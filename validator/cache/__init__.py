"""A content-addressed store of per-file results, so that a file not changed since the last run
is not parsed again, and, when no file changed at all, the last run's verdict.

An entry is keyed by a digest of everything that decides the file's verdict: the file's bytes,
its path, and the context: the bytes of pyproject.toml (the policy), the merged config's
schema, the validator's own source files, the parser and model libraries' versions, Python's
version and this format (keys.py). Whatever changes any of these is a miss.
Every such fact is taken from the bytes that were judged: pyproject.toml is read once per run,
and the context and the policy are both made from that read (validator/pyproject_file.py), so a
file swapped between two reads cannot file one policy's results under another's context.

The bytes are not read again when the file's status proves they cannot have changed: the same
device, inode, size, mtime, ctime and mode as when they were read, and a ctime older than that
run's start by a margin (stat_keys.py, git's rule for its index). A size and an mtime can be
put back after an edit; a ctime cannot, since every write and every `touch -d` sets it to the
current time, and the margin covers the clock's grain (an edit in the same tick as the read).
A file changed within the margin, or whose status is not the one kept, is read and hashed.

The store keeps packs per repository and context, outside the tree (packs.py): the summaries
(what `validate` needs), the documents' data (what `build` needs), the statuses, and derived
outputs (the verdict, the merged config), each written to a temporary file and renamed, so a
reader sees a whole pack or none and concurrent runs cannot tear one. Every entry carries its
key and path; an entry that does not match what is asked for, or does not decode to exactly
the types a fresh run gives, is a miss, never an error: a corrupt, truncated or foreign cache
is rebuilt, not trusted.

What the cache cannot defend against is someone who can write the cache folder and compute
keys; that is why the gate (`--base`, `--staged`) never reads it, neither the packs nor the
statuses (it reads blobs by object id), and why CI uses it only when asked (README, "The
cache").
"""

from validator.cache.keys import FORMAT as FORMAT
from validator.cache.keys import context_digest as context_digest
from validator.cache.keys import file_key as file_key
from validator.cache.packs import MAX_PACK_BYTES as MAX_PACK_BYTES
from validator.cache.settings import Settings as Settings
from validator.cache.stat_keys import RACY_MARGIN_NS as RACY_MARGIN_NS
from validator.cache.store import Cache as Cache
