"""Independent checker for `high-socialization` (SIMULATORS.md §5.3), reading only the tables.

`measure(batch)` returns one `Measured` per §5.3 row it can measure, keyed by metric:

- the `socialization.*` rows from `simulators.checker.socialization` (TF-IDF diagnostics over
  time bins scaled to the run); rows whose tolerance is `order` get value 1 when the stated
  sign holds within the 95% interval, else 0, with the raw estimate in the note;
- `sim.stance_variance_ratio`, `sim.fj_equilibrium_linf` and `sim.largest_culture_domain_share`
  from `sim_states`, `sim_labels`, `comments` and the stored config;
- `influence.dyad_reciprocity`, `threads.mean_max_depth` and `moltnet.author_return_rate`
  measured directly, with the definitions the `moltbook-like` checker uses.

`sim.contrast_with_moltbook_like` needs a second society and is scored by the tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulators.checker import socialization
from simulators.checker.common import Measured, as_order, labels, states_at
from simulators.checker.moltbook_like import reciprocity, stance_variance_ratio, thread_shape
from simulators.kernels.culture import largest_domain_share
from simulators.kernels.social_influence import NO_PARTNER, fj_equilibrium, partner_matrix
from warehouse.batch import CanonicalBatch

CULTURE_DIMS = tuple(f"culture_{f}" for f in range(5))


def _item_index(ids: pd.Series) -> np.ndarray:
    """The creation index n of simulated ids `<society>:<kind>:<n>`."""
    return ids.str.rsplit(":", n=1).str[1].astype(np.int64).to_numpy()


def partner_rings(tables: dict[str, pd.DataFrame], config: dict, before_step: int
                  ) -> tuple[pd.Index, np.ndarray]:
    """Each agent's last `partner_memory` interaction partners among comments made before
    `before_step`, rebuilt from the comments table: a comment is an interaction between its
    author and the author it answers (the parent comment's, or the post's for top level);
    self-answers are not interactions; both sides remember the other, in creation order.
    Returns the agent ids and the rings as indices into them (NO_PARTNER for empty slots)."""
    comments, posts = tables["comments"], tables["posts"]
    agents = pd.Index(tables["agents"]["agent_id"])
    start = pd.Timestamp(config["clock_start"])
    step = ((comments["created_at"] - start).dt.total_seconds()
            // config["step_seconds"]).to_numpy()
    post_author = comments["post_id"].map(posts.set_index("post_id")["author_id"])
    parent_author = comments["parent_id"].map(comments.set_index("comment_id")["author_id"])
    answered = parent_author.fillna(post_author)
    keep = (step < before_step) & (answered != comments["author_id"]).to_numpy()
    order = np.argsort(_item_index(comments["comment_id"][keep]), kind="stable")
    me = agents.get_indexer(comments["author_id"][keep])[order]
    other = agents.get_indexer(answered[keep])[order]
    # Both directions, in creation order: (me, other) then (other, me) for each comment.
    holder = np.column_stack([me, other]).ravel()
    partner = np.column_stack([other, me]).ravel()
    by_holder = np.argsort(holder, kind="stable")
    holder, partner = holder[by_holder], partner[by_holder]
    memory = int(config["partner_memory"])
    from_end = np.searchsorted(holder, holder, side="right") - 1 - np.arange(len(holder))
    recent = from_end < memory
    rings = np.full((len(agents), memory), NO_PARTNER, dtype=np.int64)
    rings[holder[recent], from_end[recent]] = partner[recent]
    return agents, rings


def fj_equilibrium_linf(batch: CanonicalBatch) -> Measured:
    """Max over agents of |final stance − (I − ΛW)⁻¹(I − Λ)s⁰|, in the kernel's units
    u = (s + 1)/2, with W rebuilt from the comments made before the freeze step, s⁰ and Λ from
    the agents' labels and the final stance from `sim_states`."""
    tables, config = batch.tables, batch.society["config_json"]
    agents, rings = partner_rings(tables, config, int(config["fj_freeze_step"]))
    innate = labels(tables, "agent", "stance").reindex(agents).astype(float).to_numpy()
    stubborn = labels(tables, "agent", "stubbornness").reindex(agents).astype(float).to_numpy()
    final = states_at(tables, "stance").reindex(agents).to_numpy()
    susceptibility = 1.0 - stubborn
    if np.all(susceptibility == 0.0):
        target = innate
    else:
        target = fj_equilibrium(innate, susceptibility, partner_matrix(rings))
    gap = np.abs(final - target) / 2.0
    return Measured(float(gap.max()), note=f"mean {gap.mean():.2e}; agents={len(gap)}")


def largest_culture_domain_share(tables: dict[str, pd.DataFrame]) -> Measured:
    """Share of agents holding the most common culture vector at the last recorded step."""
    final = pd.concat([states_at(tables, dim).rename(dim) for dim in CULTURE_DIMS], axis=1)
    return Measured(largest_domain_share(final.to_numpy()), note=f"agents={len(final)}")


def measure(batch: CanonicalBatch) -> dict[str, Measured]:
    """Every §5.3 row this module measures, keyed by metric."""
    t = batch.tables
    out = socialization.measure(batch)
    truth = t["ground_truth"].set_index("metric")
    for metric, m in list(out.items()):
        if metric in truth.index and truth.loc[metric, "tolerance"] == "order":
            out[metric] = as_order(m, str(truth.loc[metric, "expected"]))
    shape = thread_shape(t["posts"], t["comments"])
    out["threads.mean_max_depth"] = shape["threads.mean_max_depth"]
    out["moltnet.author_return_rate"] = shape["moltnet.author_return_rate"]
    out.update(reciprocity(t["posts"], t["comments"]))
    out["sim.stance_variance_ratio"] = stance_variance_ratio(t)
    out["sim.fj_equilibrium_linf"] = fj_equilibrium_linf(batch)
    out["sim.largest_culture_domain_share"] = largest_culture_domain_share(t)
    return out
