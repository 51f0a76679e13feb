"""The floor under the pre-commit rows (issue 15): the least that any hook built on flagops's
libraries does, timed like the rows it stands under. `python bench/floor.py staged|none`, run
in a repository; exit 0, or 1 when a staged flag file is not a valid flag.

- `none`: the interpreter, and the three questions the hook's first step asks git (what is
  staged, which .gitattributes there are, where the top of the work tree is). That is all a
  commit that stages no flag file needs.
- `staged`: that, then the staged flag files' bytes at HEAD and in the index (one
  `git cat-file --batch`), each index version loaded (libyaml's C parser, through flagops's
  loader) and validated by flagops's `Flag` model, with the policy's models imported.
  Every judge of one staged flag file has to import and read this much, and this judges
  nothing: no step, no soak, no history, no positions for its messages.

The gap between a `--staged` row and its floor is what flagops itself costs; the README's
verdicts quote both. The floor's own parts are pydantic's and ruamel.yaml's import and the
models' build, which only leaving the chosen libraries would remove.
"""

from __future__ import annotations

import subprocess
import sys

FLAGS = "flags/"
QUESTIONS = (  # validator/staged.py's, word for word
    ("diff", "--cached", "--name-only", "-z", "--no-renames", "--no-ext-diff",
     "--ignore-submodules=none", "HEAD", "--"),
    ("ls-files", "-z", "--", ".gitattributes", ":(glob)flags/**/.gitattributes"),
    ("rev-parse", "--show-prefix"),
)


def main(mode: str) -> int:
    """Asks git the hook's three questions at once, as the hook does; then reads if asked."""
    running = [subprocess.Popen(["git", *question], stdout=subprocess.PIPE)
               for question in QUESTIONS]
    staged = running[0].communicate()[0]
    for process in running[1:]:
        process.communicate()
    if mode == "none":
        return 0
    paths = [p.decode() for p in staged.split(b"\0") if p.startswith(FLAGS.encode())]
    return 0 if all(_valid(index) for _, index in _versions(paths)) else 1


def _versions(paths: list[str]) -> list[tuple[bytes | None, bytes | None]]:
    """Each path's bytes at HEAD and in the index (None where it is missing)."""
    asked = "".join(f"HEAD:{path}\n:{path}\n" for path in paths).encode()
    answer = subprocess.run(["git", "cat-file", "--batch"], input=asked, capture_output=True,
                            check=True).stdout
    blobs: list[bytes | None] = []
    while answer:
        header, _, answer = answer.partition(b"\n")
        if header.endswith(b" missing"):
            blobs.append(None)
            continue
        size = int(header.rsplit(b" ", 1)[1])
        blobs.append(answer[:size])
        answer = answer[size + 1:]
    return list(zip(blobs[::2], blobs[1::2], strict=True))


def _valid(raw: bytes | None) -> bool:
    """The bytes are a flag, as the model reads it (None: the file was deleted). Loaded by
    flagops's own loader (libyaml's C parser driven directly): ruamel.yaml's `YAML()` loader
    costs more to set up than the whole of flagops's judgement, and a floor takes the
    cheapest way there is."""
    from pydantic import ValidationError  # imported here: `none` must not pay for them

    import validator.policy  # noqa: F401  (the policy's models, built on import)
    from validator.document import Document
    from validator.loader import load_or_finding
    from validator.model import Flag

    if raw is None:
        return True
    document = load_or_finding(raw, "flag.yml")
    if not isinstance(document, Document):
        return False
    try:
        Flag.model_validate(document.data)
    except ValidationError:
        return False
    return True


if __name__ == "__main__":
    if sys.argv[1:] not in (["staged"], ["none"]):
        raise SystemExit("usage: python bench/floor.py staged|none")
    sys.exit(main(sys.argv[1]))
