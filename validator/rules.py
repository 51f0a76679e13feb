"""The rules one flag file must pass once it parses: `(flag, document, policy) -> findings`."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from validator.document import Document
from validator.files import stem
from validator.findings import RULES, Finding
from validator.model import Flag, Stage
from validator.policy import Policy

FileRule = Callable[[Flag, Document, Policy], Iterator[Finding]]


def check_flag(flag: Flag, document: Document, policy: Policy) -> list[Finding]:
    return [finding for rule in FILE_RULES for finding in rule(flag, document, policy)]


def _at(rule: str, flag: Flag, document: Document, key: str, message: str) -> Finding:
    position = document.value_position((key,))
    return RULES[rule].at(document.path, position, f"{flag.name}: {message}", flag=flag.name)


def name_matches_file(flag: Flag, document: Document, policy: Policy) -> Iterator[Finding]:
    file_stem = stem(document.path)
    if flag.name != file_stem:
        yield _at("FO110", flag, document, "name",
                  f"name differs from the file name '{file_stem}'; rename the file to "
                  f"{flag.name}.yml")


def default_enabled_rules(flag: Flag, document: Document, policy: Policy) -> Iterator[Finding]:
    if not flag.default_enabled:
        return
    if not flag.rules.may_default_enable:
        yield _at("FO120", flag, document, "default_enabled",
                  f"type {flag.type} may not be default_enabled (only beta, ops, development)")
    if flag.stage is not Stage.ENABLED:
        yield _at("FO121", flag, document, "default_enabled",
                  f"default_enabled: true needs stage enabled, not {flag.stage}")
    if flag.cleanup_issue_url is None:
        yield _at("FO122", flag, document, "default_enabled",
                  "default_enabled: true needs a cleanup_issue_url")


def stage_needs(flag: Flag, document: Document, policy: Policy) -> Iterator[Finding]:
    if flag.stage is Stage.BETA and not flag.actor_list:
        yield _at("FO130", flag, document, "stage", "stage beta needs at least one actor")
    if flag.stage is Stage.PERCENTAGE and flag.percentage is None:
        yield _at("FO131", flag, document, "stage",
                  "stage percentage needs a percentage, e.g. {of: actors, value: 10}")
    if flag.stage is not Stage.PERCENTAGE and flag.percentage is not None:
        yield _at("FO132", flag, document, "percentage",
                  f"a percentage has no meaning at stage {flag.stage}; remove it")
    if flag.stage.rank > flag.rules.max_stage.rank:
        yield _at("FO142", flag, document, "stage",
                  f"{flag.type} flags go no further than {flag.rules.max_stage}")


def unique_actors(flag: Flag, document: Document, policy: Policy) -> Iterator[Finding]:
    seen: set[str] = set()
    for index, actor in enumerate(flag.actor_list):
        if actor in seen:
            position = document.value_position(("actors", index))
            yield RULES["FO133"].at(document.path, position,
                                    f"{flag.name}: actor {actor} is listed twice", flag=flag.name)
        seen.add(actor)


def production_readiness(flag: Flag, document: Document, policy: Policy) -> Iterator[Finding]:
    if flag.stage.rank < Stage.BETA.rank:
        return
    if flag.rules.needs_rollout_issue and flag.rollout_issue_url is None:
        yield _at("FO140", flag, document, "stage",
                  f"{flag.type} flags need a rollout_issue_url from stage beta on")
    if flag.expectations is None:
        yield _at("FO141", flag, document, "stage",
                  "stage beta and later reach production: add expectations "
                  "(expected, risks, monitoring)")


def advisories(flag: Flag, document: Document, policy: Policy) -> Iterator[Finding]:
    if flag.percentage is not None and flag.percentage.of == "time":
        yield RULES["FO150"].at(document.path, document.value_position(("percentage", "of")),
                                f"{flag.name}: percentage of time makes checks within one "
                                "request disagree; use of: actors", flag=flag.name)
    if flag.rules.deprecated:
        yield _at("FO151", flag, document, "type",
                  f"type {flag.type} is deprecated; use gitlab_com_derisk, wip or beta")


FILE_RULES: tuple[FileRule, ...] = (
    name_matches_file,
    default_enabled_rules,
    stage_needs,
    unique_actors,
    production_readiness,
    advisories,
)
