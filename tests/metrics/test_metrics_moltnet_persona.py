"""MoltNet intent and incentives (ANALYTICS_SPEC.md §5.1, §5.3).

Vectors are tiny hand-made unit vectors, so every cosine below is computed by hand:
e1..e4 are the axes of R⁴, and `ang(θ)` is the unit vector at θ degrees in the e1–e2 plane.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from assets.metrics.moltnet_persona import (
    MOLTNET_PERSONA_METRIC_NAMES,
    REGISTRY,
    is_valid_persona,
    persona_incentive_metrics,
)
from assets.metrics.stats import wilson_interval

T0 = pd.Timestamp("2026-02-01T00:00:00Z")
E = np.eye(4)
BIO = "an agent that writes about things"  # six word tokens: a valid persona


def ang(deg: float) -> np.ndarray:
    return np.array([math.cos(math.radians(deg)), math.sin(math.radians(deg)), 0.0, 0.0])


def hours(h: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(hours=h)


class Society:
    """Builds the frames post by post; every post and persona gets the vector it is given."""

    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.agents: list[dict] = []
        self.vectors: dict[str, np.ndarray] = {}

    def agent(self, agent_id: str, vector: np.ndarray | None = None, karma: object = 0,
              description: str = BIO, name: str | None = None) -> None:
        self.agents.append({"agent_id": agent_id, "name": name or agent_id, "description": description,
                            "karma": karma})  # fmt: skip
        if vector is not None:
            self.vectors[f"agent:{agent_id}"] = vector

    def post(self, author: str | None, at: float, vector: np.ndarray | None = None, community: str = "c0",
             upvotes: object = 0, last_seen: float | None = None) -> str:
        post_id = f"p{len(self.posts)}"
        self.posts.append({"post_id": post_id, "author_id": author, "community_id": community,
                           "title": "t", "content": "c", "upvotes": upvotes, "created_at": hours(at),
                           "last_seen_at": hours(last_seen) if last_seen is not None else pd.NaT})  # fmt: skip
        if vector is not None:
            self.vectors[f"post:{post_id}"] = vector
        return post_id

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        embeddings = pd.DataFrame({"text_id": list(self.vectors), "vector": [list(v) for v in self.vectors.values()]})
        return pd.DataFrame(self.posts), pd.DataFrame(self.agents), embeddings


NO_COMMENTS = pd.DataFrame(columns=["comment_id", "post_id", "author_id", "created_at"])


def run(posts, agents, embeddings, comments=NO_COMMENTS, communities=None, content_category=None,
        default_community_id=None, seed=3):
    tables, rows = persona_incentive_metrics(
        posts, comments, agents, communities, content_category, embeddings,
        society_seed=seed, default_community_id=default_community_id, B=200,
    )  # fmt: skip
    return tables, {r.metric: r for r in rows}


def test_valid_persona_needs_five_words_and_not_the_name():
    assert is_valid_persona("bob", "I review pull requests every day")
    assert not is_valid_persona("bob", "I review pull requests")  # four tokens
    assert not is_valid_persona("Helpful Agent Number One Here", "helpful agent number one here ")
    assert not is_valid_persona("bob", None)
    assert is_valid_persona("bob", "broken \ud800 surrogate but five words")


# --------------------------------------------------------------------------- §5.1 persona alignment


@pytest.fixture()
def persona_society() -> Society:
    """a1..a3 post along their own persona; a4 (persona e4) posts along e1; a5 drifts from e1 to e2.
    `nobio` has no valid persona and `few` only 4 posts: neither is scored."""
    s = Society()
    for i, agent in enumerate(["a1", "a2", "a3", "a4", "a5"]):
        s.agent(agent, E[i % 4] if agent != "a5" else E[0])
    s.agent("nobio", E[1], description="too short")
    s.agent("few", E[2])
    for agent, axis in [("a1", 0), ("a2", 1), ("a3", 2), ("a4", 0), ("nobio", 1)]:
        for k in range(5):
            s.post(agent, k, E[axis])
    for k in range(4):
        s.post("few", k, E[2])
    for k in range(6):
        s.post("a5", k, E[0] if k < 3 else E[1])
    return s


def test_alignment_null_and_percentile_by_hand(persona_society):
    tables, m = run(*persona_society.frames())
    t = tables["moltnet_persona"].set_index("agent_id")
    assert sorted(t.index) == ["a1", "a2", "a3", "a4", "a5"]
    # Personas with a vector: a1 e1, a2 e2, a3 e3, a4 e4, a5 e1, few e3 (nobio's is not valid): 6.
    assert t.loc["a1", "alignment"] == pytest.approx(1.0)
    # a1's other personas: e2, e3, e4, e1 (a5), e3 → cos 0, 0, 0, 1, 0; all 5 are drawn for the null.
    assert t.loc["a1", "alignment_null"] == pytest.approx(1 / 5)
    assert t.loc["a1", "alignment_gap"] == pytest.approx(4 / 5)
    assert t.loc["a1", "alignment_pct"] == pytest.approx(4 / 5)  # a5's identical persona is not below
    assert t.loc["a2", "alignment_pct"] == pytest.approx(1.0)
    # a4 posts along e1 under persona e4: alignment 0, others e1, e2, e3, e1, e3 → null 2/5.
    assert (t.loc["a4", "alignment"], t.loc["a4", "alignment_gap"]) == (pytest.approx(0.0), pytest.approx(-0.4))
    assert t.loc["a4", "alignment_pct"] == pytest.approx(0.0)
    # a5: centroid (e1 + e2)/√2.
    assert t.loc["a5", "alignment"] == pytest.approx(1 / math.sqrt(2))
    assert list(t["n_posts"]) == [5, 5, 5, 5, 6]

    # a3 shares its persona e3 with `few`, so like a1 it has pct 4/5 and gap 4/5; a5 has pct 3/5.
    gap = m["persona_alignment_gap_median"]
    assert (gap.value, gap.n) == (pytest.approx(4 / 5), 5)  # a2 1; a1, a3 0.8; a5 ≈ 0.57; a4 −0.4
    assert gap.ci_low <= gap.value <= gap.ci_high
    assert m["persona_alignment_pct_median"].value == pytest.approx(4 / 5)
    aligned = m["persona_aligned_share"]  # pct ≥ 0.9: a2 alone
    assert (aligned.value, aligned.n, (aligned.ci_low, aligned.ci_high)) == (0.2, 5, wilson_interval(1, 5))


def test_drift_over_time_splits_posts_in_halves(persona_society):
    tables, m = run(*persona_society.frames())
    t = tables["moltnet_persona"].set_index("agent_id")
    # a5: 6 posts → first 3 along e1 (early 1), last 3 along e2 (late 0); 5-post agents have halves of 2.
    assert (t.loc["a5", "alignment_early"], t.loc["a5", "alignment_late"]) == (pytest.approx(1.0), pytest.approx(0.0))
    assert t.loc["a5", "drift_time"] == pytest.approx(-1.0)
    assert t.drop(index="a5")["drift_time"].isna().all()
    # One agent with a drift is below the society minimum of 3 agents: NULL with n = 1, never dropped.
    assert (m["persona_drift_time_median"].value, m["persona_drift_time_median"].n) == (None, 1)
    assert (m["persona_drift_negative_share"].value, m["persona_drift_negative_share"].n) == (None, 1)


def test_drift_median_share_and_wilcoxon():
    s = Society()
    for i in range(4):
        s.agent(f"d{i}", E[0])
        for k in range(6):  # the late half leans away from the persona, more for later agents
            s.post(f"d{i}", k, E[0] if k < 3 else ang(10.0 * (i + 1)))
    tables, m = run(*s.frames())
    drifts = [math.cos(math.radians(10.0 * (i + 1))) - 1.0 for i in range(4)]
    assert m["persona_drift_time_median"].value == pytest.approx(float(np.median(drifts)))
    assert (m["persona_drift_negative_share"].value, m["persona_drift_negative_share"].n) == (1.0, 4)
    # Four negative differences: the exact two-sided signed-rank p is 2/16.
    assert m["persona_drift_time_wilcoxon_p"].value == pytest.approx(0.125)


def test_interaction_spearman_counts_written_and_received_comments(persona_society):
    posts, agents, embeddings = persona_society.frames()
    a1_post = posts.loc[posts["author_id"] == "a1", "post_id"].iloc[0]
    a4_post = posts.loc[posts["author_id"] == "a4", "post_id"].iloc[0]
    comments = pd.DataFrame({
        "comment_id": ["k1", "k2", "k3", "k4", "k5"],
        "post_id": [a4_post, a4_post, a4_post, a1_post, a1_post],
        # a4 receives 3 (one from itself is not received but is written); a5 writes 2; a1 receives 2
        "author_id": ["a5", "a5", "a4", "a3", "a1"],
        "created_at": [hours(9)] * 5,
    })  # fmt: skip
    tables, m = run(posts, agents, embeddings, comments=comments)
    t = tables["moltnet_persona"].set_index("agent_id")
    assert t["n_interactions"].to_dict() == {"a1": 2, "a2": 0, "a3": 1, "a4": 3, "a5": 2}
    # gaps: a1 0.8, a2 1, a3 1, a4 −0.4, a5 √2/2 − null; interactions 2, 0, 1, 3, 2
    gap_rank = pd.Series(t["alignment_gap"]).rank()
    log_rank = pd.Series(np.log1p(t["n_interactions"].astype(float))).rank()
    rho = m["persona_interaction_spearman"]
    assert rho.value == pytest.approx(float(np.corrcoef(gap_rank, log_rank)[0, 1]))
    assert rho.value < 0 and rho.n == 5


def test_without_embeddings_every_persona_metric_is_null():
    s = Society()
    s.agent("a", E[0])
    for k in range(6):
        s.post("a", k)
    posts, agents, _ = s.frames()
    tables, m = run(posts, agents, None)
    assert tables["moltnet_persona"].empty
    for name in ["persona_alignment_gap_median", "persona_alignment_pct_median", "persona_aligned_share",
                 "persona_drift_time_median", "persona_interaction_spearman", "bio_community_match_rate"]:
        assert (m[name].value, m[name].n) == (None, 0)


# --------------------------------------------------------------------------- §5.1 motivation


def test_motivation_shares_read_one_motivation_labeller():
    s = Society()
    ids = [s.post("a", k) for k in range(5)]
    posts, agents, embeddings = s.frames()
    labels = pd.DataFrame({
        "text_id": [f"post:{i}" for i in ids] + [f"post:{ids[0]}", f"post:{ids[1]}", "post:elsewhere"],
        "category": ["knowledge_sharing", " Knowledge_Sharing ", "self_expression", "promotional_economic",
                     "made_up", "other", "social_relational", "B"],
        "score": [0.9, 0.8, 0.7, 0.6, 0.5, 0.99, 0.9, 0.9],
        "method": ["judge:motivation"] * 6 + ["small:motivation", "judge:motivation"],
    })  # fmt: skip
    _, m = run(posts, agents, embeddings, content_category=labels)
    # judge:motivation labelled more posts than small:motivation, so only it is read. p0 keeps its
    # higher-scored label (other), p4's 'made_up' is dropped, and post:elsewhere is not in the society:
    # p0 other, p1 knowledge_sharing, p2 self_expression, p3 promotional_economic.
    for label, share in [("knowledge_sharing", 0.25), ("self_expression", 0.25), ("social_relational", 0.0),
                         ("promotional_economic", 0.25), ("other", 0.25)]:
        assert (m[f"motivation_share_{label}"].value, m[f"motivation_share_{label}"].n) == (share, 4)
    assert (m["motivation_share_other"].ci_low, m["motivation_share_other"].ci_high) == wilson_interval(1, 4)


def test_motivation_without_labels_is_not_available():
    s = Society()
    s.post("a", 0)
    posts, agents, embeddings = s.frames()
    other = pd.DataFrame({"text_id": ["post:p0"], "category": ["B"], "score": [1.0], "method": ["judge:nine_category"]})
    for labels in (None, other):
        _, m = run(posts, agents, embeddings, content_category=labels)
        for label in ["knowledge_sharing", "self_expression", "social_relational", "promotional_economic", "other"]:
            assert (m[f"motivation_share_{label}"].value, m[f"motivation_share_{label}"].n) == (None, 0)


# --------------------------------------------------------------------------- §5.1 bio-community match


@pytest.fixture()
def bio_society() -> tuple[Society, pd.DataFrame]:
    """Communities c1..c5 at 0°, 20°, 40°, 60°, 80°; c0 (general) at 0°; c6 at 0° has only 19 posts.

    x (persona 0°) posts only in general; y (0°) also once in c3; z (90°) posts in c1."""
    s = Society()
    s.agent("x", ang(0))
    s.agent("y", ang(0))
    s.agent("z", ang(90))
    s.agent("filler")  # no persona vector: never scored
    angles = {"c0": 0, "c1": 0, "c2": 20, "c3": 40, "c4": 60, "c5": 80, "c6": 0}
    for community, deg in angles.items():
        s.vectors[f"community:{community}"] = ang(deg)
    for author, communities in [("x", ["c0"] * 3), ("y", ["c0", "c0", "c3"]), ("z", ["c1"] * 3)]:
        for k, community in enumerate(communities):
            s.post(author, k, community=community)
    counts = pd.Series([p["community_id"] for p in s.posts]).value_counts()
    for community in angles:
        for k in range((19 if community == "c6" else 20) - int(counts.get(community, 0))):
            s.post("filler", k, community=community)
    communities = pd.DataFrame({"community_id": list(angles), "description": [f"about {c}" for c in angles]})
    return s, communities


def test_bio_match_leaves_the_default_community_out(bio_society):
    s, communities = bio_society
    tables, m = run(*s.frames(), communities=communities, default_community_id="c0")
    t = tables["moltnet_bio_community"].set_index("agent_id")
    # M_x = M_y = {c1, c2, c3} (c0 is general, c6 too small); M_z = {c5, c4, c3}.
    assert t["matched"].to_dict() == {"x": False, "y": True, "z": False}
    assert t["n_posts"].to_dict() == {"x": 3, "y": 3, "z": 3}
    assert t.loc["x", "best_match_cos"] == pytest.approx(1.0)
    assert t.loc["z", "best_match_cos"] == pytest.approx(math.cos(math.radians(10)))
    rate = m["bio_community_match_rate"]
    assert (rate.value, rate.n, (rate.ci_low, rate.ci_high)) == (pytest.approx(1 / 3), 3, wilson_interval(1, 3))
    # Null in closed form: 143 posts, 60 in {c1, c2, c3} and 60 in {c3, c4, c5}; 3 posts per agent.
    expected = 1 - (1 - 60 / 143) ** 3
    null = m["bio_community_match_rate_null"]
    assert null.n == 3 and null.ci_low <= expected <= null.ci_high
    assert null.value == pytest.approx(expected, abs=0.08)


def test_counting_general_as_a_match_would_match_nearly_everyone(bio_society):
    s, communities = bio_society
    tables, m = run(*s.frames(), communities=communities, default_community_id=None)
    # With general eligible, M_x = {c0, c1, c2}: x now matches by posting where everyone posts.
    assert tables["moltnet_bio_community"].set_index("agent_id")["matched"].to_dict() == {
        "x": True, "y": True, "z": False}  # fmt: skip
    assert m["bio_community_match_rate"].value == pytest.approx(2 / 3)


def test_bio_match_needs_three_eligible_communities(bio_society):
    s, communities = bio_society
    few = communities[communities["community_id"].isin(["c0", "c1", "c2", "c6"])]
    tables, m = run(*s.frames(), communities=few, default_community_id="c0")
    assert tables["moltnet_bio_community"].empty
    assert (m["bio_community_match_rate"].value, m["bio_community_match_rate_null"].value) == (None, None)


# --------------------------------------------------------------------------- §5.3 incentives


@pytest.fixture()
def incentive_society() -> Society:
    """A society over ≥ 8 UTC days, so one spec "day" of the post-rate window is 24 h.

    k1 (karma 10): posts at 0, 10, 20, 30, 60 h with upvotes 0, 5, 1, 0, 0 → peak at 10 h.
    k2 (karma "7", a string): two posts with equal upvotes → the earlier one is the peak.
    k3 (karma 3): 7 posts, 3 along its persona e1, the peak, then 3 along e2.
    k4 has karma 0 and k5 a single post: neither is scored."""
    s = Society()
    s.agent("k1", karma=10)
    s.agent("k2", karma="7")
    s.agent("k3", E[0], karma=3)
    s.agent("k4", karma=0)
    s.agent("k5", karma=50)
    for at, up in zip([0, 10, 20, 30, 60], [0, 5, 1, 0, 0]):
        s.post("k1", at, upvotes=up, last_seen=240)
    s.post("k2", 5, upvotes=2, last_seen=240)
    s.post("k2", 6, upvotes=2, last_seen=240)
    for k in range(7):
        s.post("k3", 100 + k, E[0] if k < 3 else E[1] if k > 3 else E[2], upvotes=9 if k == 3 else 0,
               last_seen=240)  # fmt: skip
    s.post("k4", 1, upvotes=3)
    s.post("k4", 2)
    s.post("k5", 1, upvotes=3)
    s.post(None, 9 * 24)  # an author-less post 9 days on makes the bins daily
    return s


def test_shift_ratio_peak_and_random_pivot_null(incentive_society):
    tables, m = run(*incentive_society.frames())
    t = tables["moltnet_incentive"].set_index("agent_id")
    assert sorted(t.index) == ["k1", "k2", "k3"]
    assert t.loc["k1", "peak_post_id"] == "p1" and t.loc["k2", "peak_post_id"] == "p5"
    assert t.loc["k1", ["shift_ratio", "shift_ratio_null", "shift_excess"]].tolist() == pytest.approx([0.6, 0.4, 0.2])
    assert t.loc["k2", ["shift_ratio", "shift_ratio_null", "shift_excess"]].tolist() == pytest.approx([0.5, 0.25, 0.25])
    assert t.loc["k3", "shift_ratio"] == pytest.approx(3 / 7)
    assert t.loc["k2", "karma"] == 7.0
    # ±24 h around k1's peak (10 h): one post before (0 h), two after (20 h, 30 h).
    assert (t.loc["k1", "rate_before"], t.loc["k1", "rate_after"], t.loc["k1", "bin_seconds"]) == (1, 2, 86_400.0)
    m_ratio = m["output_shift_ratio_mean"]
    assert (m_ratio.value, m_ratio.n) == (pytest.approx((0.6 + 0.5 + 3 / 7) / 3), 3)
    assert m["output_shift_excess_mean"].value == pytest.approx((0.2 + 0.25 + (3 / 7 - 3 / 7)) / 3)
    # Top karma decile: ceil(3/10) = 1 agent (k1), below the 3-agent minimum.
    assert (m["output_shift_excess_top_decile"].value, m["output_shift_excess_top_decile"].n) == (None, 1)
    assert m["output_shift_karma_spearman"].value == pytest.approx(0.5)  # excess 0.2, 0.25, 0 vs karma 10, 7, 3
    log_ratios = [math.log(2.5 / 1.5), math.log(1.5 / 0.5), math.log(3.5 / 3.5)]  # k2: 1 after; k3: 3 and 3
    assert m["post_rate_log_ratio_median"].value == pytest.approx(float(np.median(log_ratios)))


def test_reward_persona_drift_and_its_pivot_null(incentive_society):
    tables, m = run(*incentive_society.frames())
    k3 = tables["moltnet_incentive"].set_index("agent_id").loc["k3"]
    assert (k3["persona_before"], k3["persona_after"]) == (pytest.approx(1.0), pytest.approx(0.0))
    # Only the middle post leaves 3 embedded posts on each side, so every random pivot is the peak.
    assert k3["persona_drift_null"] == pytest.approx(-1.0)
    assert (m["reward_persona_drift_median"].value, m["reward_persona_drift_median"].n) == (None, 1)


def test_exposure_control_picks_the_peak_by_upvotes_per_hour():
    s = Society()
    for agent in ["r1", "r2", "r3"]:
        s.agent(agent, karma=5)
        # 10 upvotes over 100 h (0.1/h) versus 3 upvotes over 2 h (1.5/h) on the last post
        s.post(agent, 0, upvotes=10, last_seen=100)
        s.post(agent, 50, upvotes=0, last_seen=100)
        s.post(agent, 98, upvotes=3, last_seen=100)
    tables, m = run(*s.frames())
    t = tables["moltnet_incentive"]
    assert t["shift_ratio"].tolist() == pytest.approx([2 / 3] * 3)
    assert t["shift_ratio_rate_peak"].tolist() == pytest.approx([0.0] * 3)
    assert m["output_shift_ratio_rate_peak_mean"].value == pytest.approx(0.0)


def test_curve_is_ranked_by_karma_and_smoothed():
    s = Society()
    for i in range(60):
        s.agent(f"g{i:02d}", karma=60 - i)
        s.post(f"g{i:02d}", 0, upvotes=1 if i % 2 else 0)
        s.post(f"g{i:02d}", 1, upvotes=0 if i % 2 else 1)
    tables, m = run(*s.frames())
    curve = tables["moltnet_incentive_curve"]
    assert curve["karma_rank"].tolist() == list(range(1, 61))
    assert curve["karma"].tolist() == [float(60 - i) for i in range(60)]
    ratios = [0.5 if i % 2 else 0.0 for i in range(60)]  # odd agents peak on their first post
    assert curve["shift_ratio_ma51"].iloc[30] == pytest.approx(np.mean(ratios[5:56]))
    assert curve["shift_ratio_ma51"].iloc[0] == pytest.approx(np.mean(ratios[:26]))  # shrinks at the ends
    top = m["output_shift_excess_top_decile"]  # the 6 highest-karma agents, excess 0.25 or −0.25
    assert (top.value, top.n) == (pytest.approx(0.0), 6)


# --------------------------------------------------------------------------- whole family


def test_every_emitted_metric_is_registered_and_vice_versa(persona_society):
    _, m = run(*persona_society.frames())
    assert list(m) == MOLTNET_PERSONA_METRIC_NAMES
    assert {spec.family for spec in REGISTRY} == {"moltnet"}
    assert all(r.family == "moltnet" for r in m.values())


def test_empty_and_hostile_inputs_do_not_crash():
    posts = pd.DataFrame({
        "post_id": ["p1", "p1", None, "p2", "p3"],
        "author_id": ["a", "a", "a", None, "a"],
        "community_id": [None, "c", "c", "c", float("nan")],
        "upvotes": ["lots", "3", None, 1, "2"],
        "created_at": ["yesterday", "2026-02-01T00:00:00Z", None, "2026-02-01T01:00:00Z", "2026-02-01T02:00:00Z"],
    })  # fmt: skip
    agents = pd.DataFrame({
        "agent_id": ["a", "a"], "name": [None, "a"],
        "description": ["\ud800 lone surrogate bio with words", 12], "karma": ["∞", "NaN"],
    })  # fmt: skip
    tables, m = run(posts, agents, None, comments=None, communities=pd.DataFrame())
    assert list(m) == MOLTNET_PERSONA_METRIC_NAMES
    assert all(r.value is None for r in m.values())
    empty = pd.DataFrame(columns=["post_id", "author_id", "community_id", "upvotes", "created_at"])
    tables, m = run(empty, pd.DataFrame(columns=["agent_id", "name", "description", "karma"]), None)
    assert list(m) == MOLTNET_PERSONA_METRIC_NAMES
    assert all(t.empty for t in tables.values())


# --------------------------------------------------------------------------- simulated society


def test_moltbook_like_bio_match_sits_at_its_null():
    """SIMULATORS §5.1 bio-blindness: the community an agent posts in ignores its bio, so the
    match rate is indistinguishable from the rate of posts placed by the society's distribution."""
    from assets.enrich.embedders import make_embedder
    from simulators import simulate

    tables = simulate("moltbook-like", seed=1).tables
    posts, agents, communities = tables["posts"], tables["agents"], tables["communities"]
    text_ids = [f"agent:{a}" for a in agents["agent_id"]] + [f"community:{c}" for c in communities["community_id"]]
    vectors = make_embedder("static").embed(agents["description"].fillna("").tolist()
                                             + communities["description"].fillna("").tolist())
    embeddings = pd.DataFrame({"text_id": text_ids, "vector": list(vectors)})
    general = communities["community_id"].iloc[0]
    _, rows = persona_incentive_metrics(posts, tables["comments"], agents, communities, None, embeddings,
                                        society_seed=1, default_community_id=general, B=200)  # fmt: skip
    m = {r.metric: r for r in rows}
    rate, null = m["bio_community_match_rate"], m["bio_community_match_rate_null"]
    assert rate.n >= 50
    assert rate.ci_low <= null.value <= rate.ci_high
