"""A change of the policy's `bucketing` judged by what each actor gets.

The bucketing is the rule that puts an actor in or out of a percentage: under another rule the
same "10% of actors" is another 10%, so about as many actors gain the flag as lose it, without
a line of the flag's file changing. That is a mixed step (`FO211`) of every flag at a
percentage of actors strictly between 0 and 100 at the head, in either environment: such a
change must wait until each of them is at a list of actors, or at 100%. A percentage of time
is random on each check and reads no bucket; 0% and 100% of actors give the same actors under
any rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from validator.check import LoadedFlag
from validator.digits import decimal_text
from validator.engines import Bucketing
from validator.findings import RULES, START, Finding
from validator.stages import Environment
from validator.transitions import RolloutState


def rebucketed_findings(flags: Mapping[str, LoadedFlag], unread: Sequence[str],
                        before: Bucketing, after: Bucketing) -> list[Finding]:
    """`FO211` for each flag that a change of the bucketing from `before` to `after` gives
    to other actors, and for each flag file at the head that gives no flag (`unread`): who
    it goes to under the new rule cannot be told. None where the rule stays."""
    if before == after:
        return []
    return [*(_rebucketed(name, loaded, before, after, share)
              for name, loaded in sorted(flags.items())
              if (share := _partial_share(loaded)) is not None),
            *(RULES["FO211"].at(path, START, f"[tool.flagops] bucketing changes from {before} "
                                f"to {after}, and {path} gives no flag at the head: who the "
                                "new rule gives it to cannot be told; fix the file first")
              for path in unread)]


def _partial_share(loaded: LoadedFlag) -> float | None:
    """The largest percentage of actors the flag opens in an environment, strictly between 0
    and 100, where the flag is not on for everyone there; None where it opens no such one."""
    state = RolloutState.of(loaded.flag)
    shares = [gates.percentage_of_actors for gates in map(state.gates, Environment)
              if not gates.everyone and gates.percentage_of_actors is not None
              and 0 < gates.percentage_of_actors < 100]
    return max(shares, default=None)


def _rebucketed(name: str, loaded: LoadedFlag, before: Bucketing, after: Bucketing,
                share: float) -> Finding:
    percent = decimal_text(share)
    message = (f"{name}: [tool.flagops] bucketing changes from {before} to {after} while the "
               f"flag gives {percent}% of actors the flag, so another {percent}% would have it "
               "(some actors gain it, others lose it); roll the flag back to a list of actors "
               "(beta) or take it to 100% first, then change the bucketing")
    position = loaded.document.value_position(("percentage",))
    return RULES["FO211"].at(loaded.document.path, position, message, flag=name)
