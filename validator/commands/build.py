"""`flagops build`: validate the tree as `flagops validate` does, then write the merged config."""

from __future__ import annotations

import argparse
import errno
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from validator.cache import Cache, Settings
from validator.check import Checked, TreeVerdict
from validator.config_file import MAX_CONFIG_BYTES as MAX_CONFIG_BYTES
from validator.config_file import SCHEMA_PATH
from validator.config_file import read_config as read_config
from validator.config_file import read_regular_file as read_regular_file
from validator.digits import whole_number
from validator.errors import UserError
from validator.output import atomic_write, emit
from validator.reports.escape import escape
from validator.shipping import require_committed
from validator.tree import check_tree, judge_tree, policy_now, report_of, tree_policy

if TYPE_CHECKING:  # the model loads only when a flag is validated: not when all is cached
    from validator.flag_summary import CatalogNote, FlagSummary
    from validator.lifecycle.state_cache import StateStore
    from validator.model import Flag
    from validator.policy import Policy


def run(args: argparse.Namespace, out: TextIO) -> int:
    root = Path(args.root)
    if args.write_schema:
        from validator.build import config_schema_text

        atomic_write(root / SCHEMA_PATH, config_schema_text(), root=root)
        out.write(f"wrote {SCHEMA_PATH}\n")
        return 0
    cache = Cache.open(Settings.from_args(args), root, with_data=True)
    policy = tree_policy(root, cache)
    # the catalog's part (--history): git and the clock decide it, so it is not cached
    checked = check_tree(root, policy, [], cache=cache, with_data=True) if args.history \
        else judge_tree(root, policy, cache=cache, with_data=True)
    report = report_of(checked, root)
    if report.findings:  # warnings are shown too; errors stop the build
        emit(report, [("text", None)], sys.stderr if not report.errors else out)
    if report.errors:
        return 1
    require_committed(root, "build", allow_dirty=args.allow_dirty,
                      also=_version_file(policy_now(policy)) if args.history else ())
    target = root / args.output
    environment: str = args.environment
    if isinstance(checked, Checked) and args.history:
        text, warnings, count = _with_history(root, checked, policy_now(policy), environment,
                                              schema_ref(root, target), args)
    else:
        text, warnings, count = _config(root, checked, cache, policy, environment,
                                        schema_ref(root, target))
    for warning in warnings:
        print(f"flagops: warning: {escape(warning)}", file=sys.stderr)
    atomic_write(target, text, root=root)
    out.write(f"wrote {escape(args.output)}: {count} flag(s) for {environment}\n")
    return 0


def _version_file(policy: Policy) -> tuple[str, ...]:
    """The file the catalog's lifespans count milestones from, where the policy reads one."""
    if policy.current_milestone is not None or not policy.version_file:
        return ()
    return (policy.version_file,)


def build_clock() -> int:
    """The build's `now`, read here at the edge: SOURCE_DATE_EPOCH when set (reproducible
    builds set it), else the system clock. Ages and legal steps in the config are as of it."""
    fixed = whole_number(os.environ.get("SOURCE_DATE_EPOCH", "").strip())
    return fixed if fixed is not None else int(time.time())


def _with_history(root: Path, checked: Checked, policy: Policy, environment: str,
                  ref: str, args: argparse.Namespace) -> tuple[str, list[str], int]:
    """The merged config with each flag's summary (history, lifespan, next step) as of the
    build's clock: what the catalog draws. The blobs' states are kept between runs where
    the cache is (`lifecycle.state_cache`)."""
    from validator.build import build_config, config_text
    from validator.lifecycle.state_cache import StateStore
    from validator.model import Environment

    flags = {flag.name: flag for flag in checked.flag_values()}
    store = StateStore.open(Settings.from_args(args), root)
    summaries, catalog = _summaries(root, flags, policy, build_clock(), store)
    config, warnings = build_config(flags.values(), Environment(environment), schema_ref=ref,
                                    summaries=summaries, catalog=catalog)
    return config_text(config), warnings, len(config.flags)


def _summaries(root: Path, flags: dict[str, Flag], policy: Policy, now: int,
               store: StateStore | None) -> tuple[dict[str, FlagSummary], CatalogNote]:
    from validator.lifecycle.histories import summaries
    from validator.lifecycle.lifespan import current_milestone
    from validator.lifecycle.reads import version_text

    current = current_milestone(policy, version_text(root, policy))
    return summaries(root, flags, policy, current, now, store)


def _config(root: Path, checked: Checked | TreeVerdict, cache: Cache | None,
            policy: Policy | Callable[[], Policy], environment: str,
            ref: str) -> tuple[str, list[str], int]:
    """The merged config's text, its warnings and its size: from the cache when no flag file,
    option or context changed since it was made (then no flag is validated again, and the
    model is not even imported). A verdict from the cache holds no flags: on a miss the
    flags are read (from the cache's data, mostly) to be built."""
    from_cache = _cached_config(cache, environment, ref)
    if from_cache is not None:
        return from_cache
    if isinstance(checked, TreeVerdict):
        checked = check_tree(root, policy, [], cache=cache, with_data=True)
    from validator.build import build_config, config_text
    from validator.model import Environment

    config, warnings = build_config(checked.flag_values(), Environment(environment),
                                    schema_ref=ref)
    made = config_text(config), warnings, len(config.flags)
    if cache is not None:
        cache.keep_derived("build", cache.derived_key("build", environment, ref), list(made))
    return made


def _cached_config(cache: Cache | None, environment: str,
                   ref: str) -> tuple[str, list[str], int] | None:
    """The config kept under the keys of every flag file, the environment and the schema
    reference, if one is and it is of exactly the shape written."""
    if cache is None:
        return None
    key = cache.derived_key("build", environment, ref)
    stored = cache.derived("build", key)
    if isinstance(stored, list) and len(stored) == 3 and isinstance(stored[0], str) and \
            isinstance(stored[1], list) and all(isinstance(w, str) for w in stored[1]) and \
            type(stored[2]) is int:
        return stored[0], stored[1], stored[2]
    return None


def schema_ref(root: Path, target: Path) -> str:
    """The schema's path relative to the output file, as editors resolve `$schema`. A link
    loop on the way is the one line any unwritable output gets (Path.resolve raised a
    RuntimeError, an internal error of every build where one was committed)."""
    schema = os.path.realpath(root / SCHEMA_PATH)
    place = os.path.dirname(os.path.realpath(target))
    for path in (schema, place):
        if _loops(path):
            raise UserError(f"cannot write {escape(str(target))}: {escape(path)}: Too many "
                            "levels of symbolic links")
    return Path(os.path.relpath(schema, place)).as_posix()


def _loops(path: str) -> bool:
    """realpath leaves a loop's link in the path unresolved; lstat then finds a link."""
    try:
        os.stat(path)
    except OSError as error:
        return error.errno == errno.ELOOP
    return False
