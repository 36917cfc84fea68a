"""Turn an engine `Trace` into the canonical tables (DESIGN.md §4) of one CanonicalBatch.

This is where integer indices become `<society_id>:<kind>:<n>` ids, step offsets become UTC
timestamps (millisecond precision), and text is rendered. Final aggregates on posts and comments
are the engine's running counts, which by construction equal the counts in `votes` and
`comments`; the tests check that on the emitted tables.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from simulators import text as text_mod
from simulators.core import ACTION_TYPES, COMMENT, FEEDS, ITEM_KINDS, REPLY, SOURCES, TONES, Trace
from simulators.text import TOPICS
from warehouse.batch import CanonicalBatch


def society_id_for(preset: str, seed: int, twin: str | None = None) -> str:
    """`sim-<preset with hyphens as underscores>-<seed>[-<twin>]`: splits cleanly on '-'."""
    base = f"sim-{preset.replace('-', '_')}-{seed}"
    return f"{base}-{twin}" if twin else base


def _ids(society_id: str, kind: str, n: int) -> np.ndarray:
    return np.array([f"{society_id}:{kind}:{i}" for i in range(n)], dtype=object)


def _times(start: pd.Timestamp, ms: np.ndarray) -> pd.Series:
    """UTC timestamps at millisecond resolution, `ms` after `start`."""
    base = np.datetime64(start.tz_convert("UTC").tz_localize(None).to_datetime64(), "ms")
    values = base + np.asarray(ms, dtype=np.int64).astype("timedelta64[ms]")
    return pd.Series(values).dt.tz_localize("UTC")


def _labels(
    item_type: str, ids: np.ndarray, columns: dict[str, list[Any] | np.ndarray]
) -> pd.DataFrame:
    """Long (item_type, item_id, key, value) rows; None values are left out."""
    frames = []
    for key, values in columns.items():
        values = np.asarray(values, dtype=object)
        keep = np.array([v is not None for v in values], dtype=bool)
        frames.append(
            pd.DataFrame(
                {"item_type": item_type, "item_id": ids[keep], "key": key, "value": values[keep]}
            )
        )
    return pd.concat(frames, ignore_index=True)


def _action_info(
    info: list[dict[str, Any] | None], actions: dict[str, np.ndarray], comment_ids: np.ndarray
) -> list[str | None]:
    """info_json per action; comment actions name the comment they created."""
    out: list[str | None] = []
    is_comment = np.isin(actions["type"], (COMMENT, REPLY))
    for extra, created, commented in zip(info, actions["created"].tolist(), is_comment.tolist()):
        if commented:
            extra = {**(extra or {}), "created_id": comment_ids[created]}
        out.append(json.dumps(extra, sort_keys=True) if extra else None)
    return out


def _stance_labels(stance: np.ndarray) -> list[str | None]:
    return [None if np.isnan(x) else f"{x:.4f}" for x in stance]


def build_batch(
    trace: Trace, *, preset: str, twin: str | None = None, ground_truth: pd.DataFrame,
    extra_config: dict[str, Any],
) -> CanonicalBatch:
    """All canonical tables for one simulated society."""
    cfg = trace.config
    sid = society_id_for(preset, trace.seed, twin)
    start = pd.Timestamp(cfg.clock_start)
    step_ms = cfg.step_seconds * 1000
    n_agents = cfg.n_agents
    P, C, V, F, E, A = (trace.posts, trace.comments, trace.votes, trace.follows, trace.exposures,
                        trace.actions)
    n_posts = len(P["author"])
    n_comments = len(C["post"])

    agent_ids = _ids(sid, "agent", n_agents)
    post_ids = _ids(sid, "post", n_posts)
    comment_ids = _ids(sid, "comment", n_comments)
    community_ids = _ids(sid, "community", len(trace.community_topic))
    vote_ids = _ids(sid, "vote", len(V["voter"]))
    item_ids = np.concatenate([post_ids, comment_ids, agent_ids, np.array([None], dtype=object)])
    item_offset = np.array([0, n_posts, n_posts + n_comments])

    posts_txt, comments_txt = text_mod.generate(
        seed=trace.seed,
        posts=text_mod.ItemSpecs(
            author_interest=trace.interest[P["author"]], topic=P["topic"], stance=P["stance"],
            tone=P["tone"], shared=P["shared"], style=trace.item_style.get("post"),
        ),
        comments=text_mod.ItemSpecs(
            author_interest=trace.interest[C["author"]], topic=C["topic"], stance=C["stance"],
            tone=C["tone"], post=C["post"], style=trace.item_style.get("comment"),
        ),
        knobs=text_mod.TextKnobs.from_config(cfg),
    )
    for idx, (title, content) in trace.llm_text.get("post", {}).items():
        posts_txt.title[idx], posts_txt.content[idx] = title or "", content
        posts_txt.template[idx] = "llm"
    for idx, (_, content) in trace.llm_text.get("comment", {}).items():
        comments_txt.content[idx] = content
        comments_txt.template[idx] = "llm"
    for idx, (title, content, template) in trace.scripted_text.get("post", {}).items():
        posts_txt.title[idx] = (title or "").replace("{society}", sid)
        posts_txt.content[idx] = content.replace("{society}", sid)
        posts_txt.template[idx] = template
    for idx, (_, content, template) in trace.scripted_text.get("comment", {}).items():
        comments_txt.content[idx] = content.replace("{society}", sid)
        comments_txt.template[idx] = template
    names, bios = text_mod.agent_profiles(trace.seed, trace.interest)
    c_names, c_displays, c_descriptions = text_mod.community_profiles(
        trace.seed, trace.community_topic
    )
    action_time = _times(start, trace.action_ms)
    clock_start = start.tz_convert("UTC")

    society = {
        "society_id": sid,
        "kind": "sim",
        "platform": "simulator",
        "preset": preset,
        "seed": int(trace.seed),
        "config_json": {**cfg.to_json(), **extra_config, "default_community_id": community_ids[0]},
        "created_at": clock_start,
    }

    agents = pd.DataFrame(
        {
            "agent_id": agent_ids,
            "name": names,
            "description": bios,
            "karma": trace.karma,
            "follower_count": trace.followers,
            "following_count": trace.following,
            "is_claimed": True,
            "created_at": clock_start,
            "owner_json": [
                json.dumps({"synthetic": True, "handle": f"synthetic-owner-{i}"})
                for i in range(n_agents)
            ],
        }
    )

    posts = pd.DataFrame(
        {
            "post_id": post_ids,
            "community_id": community_ids[P["community"]],
            "author_id": agent_ids[P["author"]],
            "title": posts_txt.title,
            "content": posts_txt.content,
            "upvotes": P["up"],
            "downvotes": P["down"],
            "score": P["up"] - P["down"],
            "comment_count": P["comments"],
            "created_at": action_time.iloc[P["seq"]].reset_index(drop=True),
            "is_deleted": False,
        }
    )
    subscribers = (
        pd.DataFrame({"c": P["community"], "a": P["author"]})
        .drop_duplicates()
        .groupby("c")
        .size()
        .reindex(range(len(community_ids)), fill_value=0)
        .to_numpy()
    )
    communities = pd.DataFrame(
        {
            "community_id": community_ids,
            "name": c_names,
            "display_name": c_displays,
            "description": c_descriptions,
            "subscriber_count": subscribers,
            "created_at": clock_start,
        }
    )

    parent = C["parent"]
    parent_ids = np.full(n_comments, None, dtype=object)
    parent_ids[parent >= 0] = comment_ids[parent[parent >= 0]]
    comments = pd.DataFrame(
        {
            "comment_id": comment_ids,
            "post_id": post_ids[C["post"]],
            "parent_id": parent_ids,
            "root_id": comment_ids[C["root"]],
            "depth": C["depth"].astype(np.int32),
            "author_id": agent_ids[C["author"]],
            "content": comments_txt.content,
            "upvotes": C["up"],
            "downvotes": C["down"],
            "score": C["up"] - C["down"],
            "created_at": action_time.iloc[C["seq"]].reset_index(drop=True),
        }
    )

    PS, AS = trace.post_snapshots, trace.agent_snapshots
    post_snapshots = pd.DataFrame(
        {
            "post_id": post_ids[PS["post"]],
            "observed_at": _times(start, (PS["step"] + 1) * step_ms),
            "upvotes": PS["up"],
            "downvotes": PS["down"],
            "score": PS["up"] - PS["down"],
            "comment_count": PS["comments"],
        }
    )
    agent_snapshots = pd.DataFrame(
        {
            "agent_id": agent_ids[AS["agent"]],
            "observed_at": _times(start, (AS["step"] + 1) * step_ms),
            "karma": AS["karma"],
            "follower_count": AS["followers"],
            "following_count": AS["following"],
        }
    )

    kinds = np.array(ITEM_KINDS, dtype=object)
    votes = pd.DataFrame(
        {
            "vote_id": vote_ids,
            "voter_id": agent_ids[V["voter"]],
            "target_type": kinds[V["kind"]],
            "target_id": item_ids[item_offset[V["kind"]] + V["target"]],
            "value": V["value"].astype(np.int32),
            "created_at": action_time.iloc[V["seq"]].reset_index(drop=True),
        }
    )
    follows = pd.DataFrame(
        {
            "follower_id": agent_ids[F["follower"]],
            "followee_id": agent_ids[F["followee"]],
            "created_at": action_time.iloc[F["seq"]].reset_index(drop=True),
            "action": np.where(F["unfollow"] == 1, "unfollow", "follow").astype(object),
        }
    )
    exposures = pd.DataFrame(
        {
            "agent_id": agent_ids[E["agent"]],
            "step": E["step"].astype(np.int32),
            "item_id": item_ids[item_offset[E["kind"]] + E["item"]],
            "feed": np.array(FEEDS, dtype=object)[E["feed"]],
            "rank": E["rank"].astype(np.int32),
        }
    )
    target_index = np.where(
        A["target_kind"] >= 0,
        item_offset[np.maximum(A["target_kind"], 0)] + A["target"],
        len(item_ids) - 1,
    )
    actions = pd.DataFrame(
        {
            "seq": np.arange(len(A["agent"]), dtype=np.int64),
            "agent_id": agent_ids[A["agent"]],
            "step": A["step"].astype(np.int32),
            "created_at": action_time,
            "action_type": np.array(ACTION_TYPES, dtype=object)[A["type"]],
            "target_id": item_ids[target_index],
            "info_json": _action_info(trace.action_info, A, comment_ids),
            "source": np.array(SOURCES, dtype=object)[A["source"]],
        }
    )

    topics = np.array(TOPICS + ("",), dtype=object)  # index -1 reads as ""
    tones = np.array(TONES, dtype=object)
    label_frames = [
        _labels("agent", agent_ids, trace.agent_labels),
        _labels("community", community_ids,
                {"topic": [None if t < 0 else TOPICS[t] for t in trace.community_topic]}),
        _labels("post", post_ids, {
            "topic": topics[posts_txt.topic], "template": posts_txt.template,
            "stance": _stance_labels(P["stance"]), "tone": tones[P["tone"]],
            "reshare_of": [post_ids[s] if s >= 0 else None for s in P["shared"]],
        }),
        _labels("comment", comment_ids, {
            "topic": topics[comments_txt.topic], "template": comments_txt.template,
            "stance": _stance_labels(C["stance"]), "tone": tones[C["tone"]],
        }),
    ]
    item_ids_by_type = {"agent": agent_ids, "post": post_ids, "comment": comment_ids,
                        "community": community_ids}
    for item_type, columns in trace.item_labels.items():
        label_frames.append(_labels(item_type, item_ids_by_type[item_type], columns))
    sim_labels = pd.concat(label_frames, ignore_index=True)
    S = trace.states
    sim_states = pd.DataFrame(
        {
            "agent_id": agent_ids[S["agent"]],
            "step": S["step"].astype(np.int32),
            "dimension": np.array(trace.state_dims, dtype=object)[S["dim"]],
            "value": S["value"],
        }
    )

    tables = {
        "agents": agents,
        "communities": communities,
        "posts": posts,
        "comments": comments,
        "post_snapshots": post_snapshots,
        "agent_snapshots": agent_snapshots,
        "votes": votes,
        "follows": follows,
        "exposures": exposures,
        "actions": actions,
        "ground_truth": ground_truth,
        "sim_labels": sim_labels,
        "sim_states": sim_states,
    }
    tables = {name: frame.assign(society_id=sid) for name, frame in tables.items()}
    return CanonicalBatch(society=society, tables=tables)
