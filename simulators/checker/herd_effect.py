"""Checker for `herd-effect` (SIMULATORS.md §5.4), measured from the emitted tables only.

Every effect compares seeded posts by their seed score (+1 "up", 0 "control", −1 "down"): the
outcome of a post is its final net score minus the seed, i.e. what the readers added. Arm means
are compared by a difference of means with its standard error; the reported interval is ± 2 SE.
The blind estimate ignores labels and votes: it takes the posts of the first snapshot round, their
score there as the treatment, and the score gained by their last snapshot as the outcome.

`calibrate()` re-runs the 20-seed calibration that produced the constants frozen in
`simulators.presets.herd_effect`; run it (`python -m simulators.checker.herd_effect`) whenever an
engine change may move them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulators.checker.common import Measured, gini, labels
from warehouse.batch import CanonicalBatch

ARMS: dict[str, int] = {"up": 1, "control": 0, "down": -1}
CALIBRATION_SEEDS: tuple[int, ...] = tuple(range(1001, 1021))
KARMA_EARLY_STEP = 5


def arm_difference(outcome: pd.Series, treatment: pd.Series, arm: int) -> Measured:
    """Mean outcome of `arm` minus that of the control (0), with its SE and a ± 2 SE interval."""
    treated, control = outcome[treatment == arm], outcome[treatment == 0]
    if len(treated) < 2 or len(control) < 2:
        return Measured(float("nan"))
    diff = float(treated.mean() - control.mean())
    se = float(np.sqrt(treated.var(ddof=1) / len(treated) + control.var(ddof=1) / len(control)))
    return Measured(diff, diff - 2 * se, diff + 2 * se, se)


def seeded_outcomes(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per seeded post: its seed score and its final net score excluding the seed."""
    seed = labels(tables, "post", "seed_score").astype(int)
    score = tables["posts"].set_index("post_id")["score"]
    return pd.DataFrame({"seed": seed, "net": score.reindex(seed.index) - seed})


def blind_outcomes(snapshots: pd.DataFrame) -> pd.DataFrame:
    """Posts of the first snapshot round: the sign of their score there (treatment) and the
    score they gained by their last snapshot (outcome). No label or vote is read."""
    first_round = snapshots[snapshots["observed_at"] == snapshots["observed_at"].min()]
    first = first_round.set_index("post_id")["score"]
    ordered = snapshots.sort_values("observed_at", kind="stable")
    last = ordered.drop_duplicates("post_id", keep="last").set_index("post_id")["score"]
    return pd.DataFrame({"seed": np.sign(first), "net": last.reindex(first.index) - first})


def vote_steps(batch: CanonicalBatch) -> pd.Series:
    """The step of every vote, from its timestamp and the run's clock."""
    config = batch.society["config_json"]
    start = pd.Timestamp(config["clock_start"])
    elapsed = batch.tables["votes"]["created_at"] - start
    return (elapsed.dt.total_seconds() // config["step_seconds"]).astype(int)


def karma_at(batch: CanonicalBatch, last_step: int | None) -> pd.Series:
    """Each agent's karma after `last_step` (None: the end), rebuilt from the vote events: the
    standing vote of each (voter, item) pair (0 once retracted), summed by the item's author,
    self-votes excluded."""
    t = batch.tables
    votes = t["votes"]
    if last_step is not None:
        votes = votes[vote_steps(batch) <= last_step]
    standing = votes.sort_values("created_at", kind="stable").drop_duplicates(
        ["voter_id", "target_id"], keep="last")
    authors = pd.concat([t["posts"].set_index("post_id")["author_id"],
                         t["comments"].set_index("comment_id")["author_id"]])
    author = authors.reindex(standing["target_id"]).to_numpy()
    received = standing.assign(author=author)
    received = received[received["author"] != received["voter_id"]]
    karma = received.groupby("author")["value"].sum()
    return karma.reindex(t["agents"]["agent_id"], fill_value=0)


def karma_gini_gain(batch: CanonicalBatch) -> float:
    """Gini of karma (negative balances counted as 0) at the end minus after step 5."""
    early = karma_at(batch, KARMA_EARLY_STEP).clip(lower=0)
    final = karma_at(batch, None).clip(lower=0)
    return gini(final.to_numpy()) - gini(early.to_numpy())


def measure(batch: CanonicalBatch) -> dict[str, Measured]:
    """Every §5.4 quantity, keyed by its ground-truth metric."""
    t = batch.tables
    seeded = seeded_outcomes(t)
    means = seeded.groupby("seed")["net"].mean()
    up, control, down = (float(means.get(v, np.nan)) for v in ARMS.values())
    effect_up = arm_difference(seeded["net"], seeded["seed"], 1)
    effect_down = arm_difference(seeded["net"], seeded["seed"], -1)
    shares = seeded["seed"].value_counts(normalize=True).reindex(list(ARMS.values()),
                                                                 fill_value=0.0)
    farthest = float(shares.iloc[int(np.argmax(np.abs(shares.to_numpy() - 1 / 3)))])
    blind = blind_outcomes(t["post_snapshots"])
    return {
        "sim.herd_net_score_by_arm": Measured(
            float(up > control > down),
            note=f"up {up:.3f}, control {control:.3f}, down {down:.3f}"),
        "sim.herd_effect_up": effect_up,
        "sim.herd_effect_down": Measured(
            float(abs(effect_down.value) > effect_up.value),
            note=f"down − control {effect_down.value:.3f} (SE {effect_down.se:.3f}), "
                 f"up − control {effect_up.value:.3f}"),
        "sim.herd_effect_recovered": arm_difference(blind["net"], blind["seed"], 1),
        "sim.karma_gini_gain": Measured(karma_gini_gain(batch)),
        "sim.arm_share": Measured(farthest, note=" / ".join(f"{s:.4f}" for s in shares)),
    }


@dataclass(frozen=True)
class Calibration:
    """Per-seed `sim.herd_effect_up` in the treatment and the `hidden` twin, and summaries."""

    seeds: tuple[int, ...]
    effect_up: tuple[float, ...]
    hidden_effect_up: tuple[float, ...]
    hidden_se: tuple[float, ...]  # each hidden run's own SE
    ordering_holds: int  # seeds where up > control > down
    asymmetry_holds: int  # seeds where |down − control| > up − control

    @property
    def mean(self) -> float:
        return float(np.mean(self.effect_up))

    @property
    def se(self) -> float:
        """Standard error of one run's estimate: the spread of the per-seed effects."""
        return float(np.std(self.effect_up, ddof=1))

    @property
    def hidden_mean(self) -> float:
        return float(np.mean(self.hidden_effect_up))

    @property
    def hidden_sd(self) -> float:
        return float(np.std(self.hidden_effect_up, ddof=1))


def calibrate(seeds: tuple[int, ...] = CALIBRATION_SEEDS, **overrides: object) -> Calibration:
    """Run the treatment and its `hidden` twin for each seed (default config unless overridden)
    and collect the measured effects; `CALIBRATED_EFFECT_UP` is `.mean`, its SE `.se`."""
    from simulators.presets import simulate  # the calibration runs the engine; measures do not

    up, hidden, hidden_se, ordered, asymmetric = [], [], [], 0, 0
    for seed in seeds:
        treated = measure(simulate("herd-effect", seed=seed, **overrides))
        twin = measure(simulate("herd-effect", seed=seed, twin="hidden", **overrides))
        up.append(treated["sim.herd_effect_up"].value)
        ordered += int(treated["sim.herd_net_score_by_arm"].value)
        asymmetric += int(treated["sim.herd_effect_down"].value)
        hidden.append(twin["sim.herd_effect_up"].value)
        hidden_se.append(float(twin["sim.herd_effect_up"].se or 0.0))
    return Calibration(tuple(seeds), tuple(up), tuple(hidden), tuple(hidden_se), ordered,
                       asymmetric)


if __name__ == "__main__":
    result = calibrate()
    print(f"CALIBRATED_EFFECT_UP = {result.mean:.4f}")
    print(f"CALIBRATED_EFFECT_UP_SE = {result.se:.4f}")
    print(f"hidden twin: mean {result.hidden_mean:.4f}, sd {result.hidden_sd:.4f}, "
          f"mean own SE {np.mean(result.hidden_se):.4f}")
    print(f"ordering up > control > down: {result.ordering_holds}/{len(result.seeds)} seeds; "
          f"negative asymmetry: {result.asymmetry_holds}/{len(result.seeds)} seeds")
