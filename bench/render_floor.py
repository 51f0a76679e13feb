"""The floor under the catalog's render (issue 14): the least that any renderer of the `pages`
job's merged config does with flagops's libraries, timed in the same rounds as the render.

`python bench/render_floor.py CONFIG SIZES OUT`, run in the repository: the interpreter, the
merged config's models imported and the config read and validated the way `flagops render`
reads it, then a new folder OUT with every file a render wrote, each as many bytes as it was
(SIZES: a JSON object of relative path → size, taken from a render's folder). It draws
nothing: the gap between the render and this is what drawing the catalog costs.

Validated the way render does it: where render cuts the config for its workers
(`page_pool.cut_for_workers`), one forked worker per core validates each part
(`page_pool.part_flags`) and writes that part's pages, as render's workers do, and this process
validates the rest and writes the other files; elsewhere the config is validated whole
(`validator.config_file.config_from_bytes`) and every file written here, one after the other.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from survey_renderer.catalog.parts import Parts

_JOB: list[tuple[bytes, Parts, dict[str, int], Path]] = []
"""The config's bytes, its parts, the sizes and the folder: set before the fork."""


def main(config: Path, sizes: Path, out: Path, *, parallel_from: int | None = None) -> int:
    """As cheaply as render could: no cyclic garbage collection (the config is millions of
    objects, and they form no cycles), and no teardown that frees them one by one."""
    from survey_renderer.catalog.page_pool import cut_for_workers
    from validator.config_file import MAX_CONFIG_BYTES, read_regular_file
    from validator.errors import UserError

    gc.disable()
    raw = read_regular_file(config, str(config), MAX_CONFIG_BYTES)
    files: dict[str, int] = json.loads(sizes.read_bytes())
    parts = cut_for_workers(raw, parallel_from=parallel_from)
    try:
        pages = _validated(raw, parts, str(config), files, out)
    except UserError as error:  # as render refuses it: no site
        print(f"render_floor: {error}", file=sys.stderr)
        return 1
    for path, size in files.items():
        if path not in pages:
            _write(out / path, size)
    return 0


def _validated(raw: bytes, parts: Parts | None, shown: str, files: dict[str, int],
               out: Path) -> set[str]:
    """The config validated (a refusal raised, and nothing left written); the pages the
    workers wrote meanwhile."""
    from survey_renderer.catalog.page_pool import ready_to_fork
    from validator.build import parse_config
    from validator.config_file import config_from_bytes
    from validator.fork_pool import cores, fork_pool

    if parts is None:
        config_from_bytes(raw, shown)
        _folders(files, out)
        return set()
    parse_config(parts.rest, shown)
    ready_to_fork()
    _folders(files, out)
    _JOB[:] = [(raw, parts, files, out)]
    with fork_pool(cores()) as pool:
        written = [task.result() for task in
                   [pool.submit(_part, index) for index in range(len(parts.spans))]]
    if any(part is None for part in written):  # as render: the whole config read instead
        shutil.rmtree(out)
        config_from_bytes(raw, shown)  # its refusal; or, valid, every file written here
        _folders(files, out)
        return set()
    return {path for part in written if part is not None for path in part}


def _part(index: int) -> list[str] | None:
    """One part validated in a worker, and its pages written at their sizes."""
    from survey_renderer.catalog.page_pool import part_flags
    from survey_renderer.catalog.pages import page_path

    raw, parts, files, out = _JOB[0]
    flags = part_flags(raw, parts, index)
    if flags is None:
        return None
    pages = [page_path(name) for name in flags]
    for page in pages:
        _write(out / page, files[page])
    return pages


def _folders(files: dict[str, int], out: Path) -> None:
    for relative in sorted({os.path.dirname(path) for path in files}):
        os.makedirs(out / relative, exist_ok=True)


def _write(path: Path, size: int) -> None:
    with open(path, "xb") as stream:
        stream.write(b"x" * size)


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
