"""The floor under the catalog's render (issue 14): the least that any renderer of the `pages`
job's merged config does with flagops's libraries, timed in the same rounds as the render.

`python bench/render_floor.py CONFIG SIZES OUT`, run in the repository: the interpreter, the
merged config's models imported and the config read and validated the way `flagops render`
reads it (`validator.config_file.config_from_bytes`), then a new folder OUT with every file a
render wrote, each as many bytes as it was (SIZES: a JSON object of relative path → size, taken
from a render's folder). It draws nothing: the gap between the render and this is what drawing
the catalog costs. The files are written by this one process, one after the other: two
processes creating files in one folder wait for each other's lock on it.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path


def main(config: Path, sizes: Path, out: Path) -> int:
    """As cheaply as render could: no cyclic garbage collection (the config is millions of
    objects, and they form no cycles), and no teardown that frees them one by one."""
    from validator.config_file import MAX_CONFIG_BYTES, config_from_bytes, read_regular_file
    from validator.errors import UserError

    gc.disable()
    try:
        config_from_bytes(read_regular_file(config, str(config), MAX_CONFIG_BYTES), str(config))
    except UserError as error:  # as render refuses it: no site
        print(f"render_floor: {error}", file=sys.stderr)
        return 1
    files: dict[str, int] = json.loads(sizes.read_bytes())
    for relative in sorted({os.path.dirname(path) for path in files}):
        os.makedirs(out / relative, exist_ok=True)
    for path, size in files.items():
        with open(out / path, "xb") as stream:
            stream.write(b"x" * size)
    return 0


def site_sizes(site: Path) -> dict[str, int]:
    """Every file under a rendered site, relative path → size: what the floor writes."""
    return {path.relative_to(site).as_posix(): path.stat().st_size
            for path in sorted(site.rglob("*")) if path.is_file()}


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit("usage: python bench/render_floor.py CONFIG SIZES OUT")
    code = main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
    sys.stdout.flush()
    os._exit(code)
