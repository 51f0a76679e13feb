"""flagops as an in-process OpenFeature provider for Python: `pip install 'flagops[openfeature]'`.

    from openfeature import api
    from validator.openfeature_provider import FlagopsProvider
    api.set_provider(FlagopsProvider("build/flags.json", bucketing="flipper"))
    api.get_client().get_boolean_value("calendly_invite_link", False,
                                       EvaluationContext("User:42"))

It reads the merged config `flagops build` writes and answers with flagops's own evaluator
(survey_renderer/gate.py), so it agrees with `flagops eval` and the survey page. A rebuilt config
is picked up at the next evaluation: the file's identity (inode, size, mtime) is checked on every
call and the file re-read when it changed; `flagops build` replaces the file atomically, so a
reader never sees half of one. Only boolean flags exist; other types are a TYPE_MISMATCH.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import FlagNotFoundError, TypeMismatchError
from openfeature.flag_evaluation import FlagResolutionDetails, Reason
from openfeature.provider import AbstractProvider, Metadata

from survey_renderer.gate import Reason as GateReason
from survey_renderer.gate import evaluate
from validator.build import FlagState, MergedConfig
from validator.config_file import read_config
from validator.engines import Bucketing

ON, OFF = "on", "off"
FlagValue = bool | str | int | float | Sequence["FlagValue"] | Mapping[str, "FlagValue"]


def resolve(name: str, state: FlagState, actor: str | None, default: bool,
            bucketing: Bucketing = "flipper") -> FlagResolutionDetails[bool]:
    """OpenFeature's answer for one flag and one actor (None: no targeting key). Pure."""
    metadata: dict[str, bool | str | int | float] = {
        "stage": state.stage.value, "default_enabled": state.default_enabled}
    decision = evaluate(name, state.gates, actor, bucketing=bucketing)
    reason = _reason(decision.reason, state, actor)
    return FlagResolutionDetails(decision.enabled, reason=reason, flag_metadata=metadata,
                                 variant=ON if decision.enabled else OFF)


def _reason(why: GateReason, state: FlagState, actor: str | None) -> Reason:
    gates = state.gates
    if why is GateReason.FULLY_ON or not (gates.actors or gates.percentage_of_actors):
        return Reason.STATIC  # the same answer for everyone
    if why is GateReason.LISTED:
        return Reason.TARGETING_MATCH
    if gates.percentage_of_actors is not None and actor is not None:
        return Reason.SPLIT  # inside or outside the percentage bucket
    return Reason.DEFAULT


class FlagopsProvider(AbstractProvider):
    """Evaluates flags from a merged config file, re-read whenever the file changes."""

    def __init__(self, config_path: str | os.PathLike[str], *,
                 bucketing: Bucketing = "flipper") -> None:
        super().__init__()
        self._path = Path(config_path)
        self._bucketing: Bucketing = bucketing
        self._lock = threading.Lock()
        self._identity: tuple[int, ...] | None = None
        self._config: MergedConfig | None = None

    def get_metadata(self) -> Metadata:
        return Metadata(name="flagops")

    def initialize(self, evaluation_context: EvaluationContext) -> None:
        self._current()  # a missing or malformed config fails here, at set_provider

    def config(self) -> MergedConfig:
        return self._current()

    def _current(self) -> MergedConfig:
        try:
            status = os.stat(self._path)
        except OSError:  # read_config says what is wrong, in one line
            return read_config(self._path, str(self._path))
        # ctime too: a write in place keeps the inode, and `cp -p` or `rsync -t` sets the size
        # and the mtime back to the old ones (two builds of the same size, one fixed mtime)
        identity = (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns,
                    status.st_ctime_ns)
        with self._lock:
            if self._config is None or identity != self._identity:
                self._config = read_config(self._path, str(self._path))
                self._identity = identity
            return self._config

    def resolve_boolean_details(self, flag_key: str, default_value: bool,
                                evaluation_context: EvaluationContext | None = None,
                                ) -> FlagResolutionDetails[bool]:
        state = self._current().flags.get(flag_key)
        if state is None:
            raise FlagNotFoundError(f"no flag {flag_key!r} in {self._path}")
        key: object = evaluation_context.targeting_key if evaluation_context else None
        # The SDK takes any key (a caller's user id as a number): one that is not text is no
        # actor, as flagd reads it (false outside a full rollout), where bucketing it was an
        # error, and an error answers the caller's default.
        actor = key if isinstance(key, str) and key else None
        return resolve(flag_key, state, actor, default_value, self._bucketing)

    def resolve_string_details(self, flag_key: str, default_value: str,
                               evaluation_context: EvaluationContext | None = None,
                               ) -> FlagResolutionDetails[str]:
        raise self._not_boolean(flag_key)

    def resolve_integer_details(self, flag_key: str, default_value: int,
                                evaluation_context: EvaluationContext | None = None,
                                ) -> FlagResolutionDetails[int]:
        raise self._not_boolean(flag_key)

    def resolve_float_details(self, flag_key: str, default_value: float,
                              evaluation_context: EvaluationContext | None = None,
                              ) -> FlagResolutionDetails[float]:
        raise self._not_boolean(flag_key)

    def resolve_object_details(
            self, flag_key: str, default_value: Sequence[FlagValue] | Mapping[str, FlagValue],
            evaluation_context: EvaluationContext | None = None,
    ) -> FlagResolutionDetails[Sequence[FlagValue] | Mapping[str, FlagValue]]:
        raise self._not_boolean(flag_key)

    def _not_boolean(self, flag_key: str) -> TypeMismatchError:
        return TypeMismatchError(f"flagops flags are boolean; {flag_key!r} is read as one")
