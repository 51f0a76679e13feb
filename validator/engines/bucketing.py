"""Bucketing: which actors a percentage of actors lets in, as the engine the team runs decides.

`flipper` is Flipper's rule (GitLab's runtime): crc32(flag name + actor id) % 100000 < pct * 1000.
`flagd` is the rule of flagd's `fractional` operator as openfeature-provider-flagd 0.6
(openfeature-flagd-core 2) runs it: murmur3 (x86, 32 bit, seed 0) of the canonical CBOR of the
array [flag key, targeting key], scaled to 100000 buckets as `(hash * 100000) >> 32`. The two
rules let different actors in at the same percentage; the policy key `bucketing` picks one, so
that `flagops eval`, the provider and the survey page agree with the engine actor for actor.
"""

from __future__ import annotations

from validator.digits import whole_number
from validator.engines import Bucketing
from validator.engines.murmur import flagd_bucket
from validator.gates import BUCKETS, SCALE, bucket


def actor_bucket(flag_name: str, actor: str, bucketing: Bucketing = "flipper") -> int:
    """The actor's bucket in 0..99999 for this flag, under the chosen rule."""
    if bucketing == "flagd":
        return flagd_bucket(flag_name, actor, BUCKETS)
    return bucket(flag_name, actor)


def share_weight(percentage: float) -> int:
    """A percentage as whole buckets of 100000: Flipper keeps three decimals, flagd's
    fractional weights are integers; both engines then see the same threshold."""
    return round(percentage * SCALE)


def bucketed_as_written(actor: str, bucketing: Bucketing) -> bool:
    """Does the engine bucket this actor by the text written in the flag file? flagd buckets
    the targeting key it is given, which is that text (the export and the provider pass it).
    GitLab's Flipper buckets an actor's Flipper id, `Kind:<numeric id>` (Project:278964): an
    actor written as a path (Project:gitlab-org/gitlab) lands in a bucket unknown here, and so
    does `User:042`: the Flipper id is `User:42`, whose text buckets elsewhere. No GitLab id
    has more than 18 digits (`whole_number`): `User:` and 5,000 nines is no Flipper id, and
    int() refuses text that long (an internal error in validate, promote and rollback). Only
    the kinds GitLab gives Flipper ids of that shape count (`FeatureGate`: the class name and
    the id): a namespace's id is `Group:<id>` or `Namespaces::UserNamespace:<id>`, never
    `Namespace:<id>`, so `Namespace:2` is bucketed as no one knows here."""
    if bucketing == "flagd":
        return True
    kind, _, number = actor.partition(":")
    value = whole_number(number)
    return kind in FLIPPER_ID_KINDS and value is not None and str(value) == number


FLIPPER_ID_KINDS = frozenset({"User", "Project", "Group"})
"""The actor kinds whose GitLab Flipper id is `Kind:<numeric id>`, as a flag file writes it."""


def in_share(flag_name: str, actor: str, percentage: float,
             bucketing: Bucketing = "flipper") -> bool:
    """Is the actor inside `percentage` of actors? An actor in at p stays in at every higher p.
    An actor that is not text (a lone surrogate: bytes that were not UTF-8, decoded with
    surrogateescape) has no bytes to hash: it is in no share, as flagd answers it (its
    default variant, off); hashing it was an internal error, and the provider then returned
    the caller's default, on where the caller's was."""
    if not is_text(actor):
        return False
    if bucketing == "flagd":
        return actor_bucket(flag_name, actor, "flagd") < share_weight(percentage)
    return bucket(flag_name, actor) < percentage * SCALE


def is_text(text: str) -> bool:
    """Does the string encode as UTF-8 (no lone surrogate)?"""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
