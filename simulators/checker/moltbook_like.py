"""Independent checker for `moltbook-like` (SIMULATORS.md §5.1), reading only the emitted tables.

`measure(batch)` returns one `Measured` per §5.1 row it can measure, keyed by the row's metric.
Definitions follow ANALYTICS_SPEC.md where it has one; where the spec leaves a choice, the choice
made here is stated on the function. `threads.zipf_exponent` uses the shared text measure
(`simulators.checker.common.zipf_exponent`); the `socialization.*` rows are measured by
`simulators.checker.socialization`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import zeta

from simulators.checker.common import (
    Measured, discrete_power_law_alpha, dyad_reciprocity, final_follow_edges, gini, states_at,
    zipf_exponent,
)
from warehouse.batch import CanonicalBatch

MIN_TAIL = 50  # ANALYTICS_SPEC §7.2: a tail fit with fewer points is NULL
MIN_POSTS_PER_BIN = 20  # §7.3
MIN_BIN_COUNT = 10  # §7.4
HEARTBEAT_MIN_POSTS = 10  # §6.3
BIO_MIN_POSTS = 3  # §5.1 bio_community_match
BIO_MIN_COMMUNITY_POSTS = 20
BIO_TOP_COMMUNITIES = 3
_URL = re.compile(r"(https?://|www\.)\S+")
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class PowerLawFit:
    alpha: float
    xmin: int
    n_tail: int
    ks_distance: float


def power_law_fit(x: np.ndarray, min_tail: int = MIN_TAIL) -> PowerLawFit:
    """Discrete power law over x ≥ 1, the way `powerlaw.Fit(x, discrete=True)` fits it (§7.2).

    For each candidate xmin (every distinct value that leaves at least `min_tail` points in the
    tail) α is the Clauset–Shalizi–Newman discrete estimate (`discrete_power_law_alpha`), and the
    Kolmogorov–Smirnov distance compares the tail's empirical CDF with the fitted discrete CDF,
    P(X ≤ v) = 1 − ζ(α, v + 1) / ζ(α, xmin) (Hurwitz zeta). The xmin with the smallest distance
    wins (the smaller xmin on ties). Requiring `min_tail` points per candidate keeps the search
    from settling on a handful of extreme values; below it the fit is NaN, as the spec's NULL.
    """
    values = np.sort(np.asarray(x, dtype=float))
    values = values[values >= 1]
    if len(values) < min_tail:
        return PowerLawFit(float("nan"), 0, len(values), float("nan"))
    distinct = np.unique(values)
    tail_sizes = len(values) - np.searchsorted(values, distinct, side="left")
    best = PowerLawFit(float("nan"), 0, 0, float("inf"))
    for xmin in distinct[tail_sizes >= min_tail]:
        tail = values[values >= xmin]
        alpha = discrete_power_law_alpha(tail, int(xmin))
        support = np.unique(tail)
        empirical = np.searchsorted(tail, support, side="right") / len(tail)
        model = 1.0 - zeta(alpha, support + 1.0) / zeta(alpha, xmin)
        distance = float(np.max(np.abs(empirical - model)))
        if distance < best.ks_distance:
            best = PowerLawFit(alpha, int(xmin), len(tail), distance)
    return best


def _alpha(x: np.ndarray) -> Measured:
    fit = power_law_fit(x)
    se = (fit.alpha - 1.0) / np.sqrt(fit.n_tail) if fit.n_tail else None
    return Measured(fit.alpha, se=se,
                    note=f"xmin={fit.xmin} n_tail={fit.n_tail} ks={fit.ks_distance:.3f}")


def tail_exponents(posts: pd.DataFrame) -> dict[str, Measured]:
    """α of posts per agent (authors of ≥ 1 post), of the reported comments per post (posts
    with ≥ 1 comment) and of posts per community (communities with ≥ 1 post)."""
    return {
        "threads.alpha_posts_per_agent": _alpha(posts["author_id"].value_counts().to_numpy()),
        "threads.alpha_comments_per_post": _alpha(posts["comment_count"].to_numpy()),
        "threads.alpha_posts_per_community": _alpha(
            posts["community_id"].value_counts().to_numpy()),
    }


def concentration(posts: pd.DataFrame, comments: pd.DataFrame) -> dict[str, Measured]:
    """Community and author concentration (ANALYTICS_SPEC §4.4, the Tunguz crawl).

    Ginis run over agents with ≥ 1 post or comment, zeros kept; upvotes received sum the
    upvotes of an agent's posts and comments. The top-7% share is over authors of ≥ 1 post.
    """
    per_community = posts["community_id"].value_counts()
    per_author = posts["author_id"].value_counts().to_numpy()  # descending
    top = int(np.ceil(0.07 * len(per_author)))
    active = pd.Index(pd.concat([posts["author_id"], comments["author_id"]]).unique())
    n_posts = posts.groupby("author_id").size().reindex(active, fill_value=0)
    upvotes = (posts.groupby("author_id")["upvotes"].sum().reindex(active, fill_value=0)
               + comments.groupby("author_id")["upvotes"].sum().reindex(active, fill_value=0))
    return {
        "influence.community_post_top1_share": Measured(
            float(per_community.iloc[0] / per_community.sum())),
        "sim.top7pct_author_post_share": Measured(float(per_author[:top].sum() / per_author.sum()),
                                                  note=f"top {top} of {len(per_author)} authors"),
        "influence.agent_posting_gini": Measured(gini(n_posts.to_numpy()), note=f"n={len(active)}"),
        "influence.agent_upvote_gini": Measured(gini(upvotes.to_numpy()), note=f"n={len(active)}"),
        "influence.zero_upvote_comment_share": Measured(float((comments["upvotes"] == 0).mean())),
    }


def thread_shape(posts: pd.DataFrame, comments: pd.DataFrame) -> dict[str, Measured]:
    """ANALYTICS_SPEC §7.1 over threads (posts with ≥ 1 comment) and §5.4 author return.

    Depth is the table's `depth` (1 = top level), which the consistency tests check against the
    parent chain. The author return rate is the share of posts commented on by someone else
    where the post's author also comments.
    """
    max_depth = comments.groupby("post_id")["depth"].max()
    answered = comments["comment_id"].isin(comments["parent_id"].dropna())
    post_author = comments["post_id"].map(posts.set_index("post_id")["author_id"])
    by_author = comments["author_id"] == post_author
    engaged = comments.loc[~by_author, "post_id"].unique()
    returned = np.isin(engaged, comments.loc[by_author, "post_id"].unique())
    first = comments.groupby("post_id")["created_at"].min()
    posted = posts.set_index("post_id")["created_at"].reindex(first.index)
    delay_s = (first - posted).dt.total_seconds()
    return {
        "threads.mean_max_depth": Measured(float(max_depth.mean()),
                                           note=f"threads={len(max_depth)}"),
        "threads.share_comments_depth1": Measured(float((comments["depth"] == 1).mean())),
        "threads.unanswered_comment_share": Measured(float(1.0 - answered.mean())),
        "moltnet.author_return_rate": Measured(float(returned.mean()),
                                               note=f"posts={len(engaged)}"),
        "threads.first_comment_delay_median_s": Measured(float(delay_s.median())),
    }


def reciprocity(posts: pd.DataFrame, comments: pd.DataFrame) -> dict[str, Measured]:
    """Dyad reciprocity (ANALYTICS_SPEC §4.5) on the `parent_author` graph: a top-level comment
    is an edge commenter → post author, a reply an edge replier → parent comment's author.
    Self-loops are dropped. The `post_author` graph (every comment → post author) is in the note.
    """
    post_author = comments["post_id"].map(posts.set_index("post_id")["author_id"])
    parent_author = comments["parent_id"].map(comments.set_index("comment_id")["author_id"])
    answered = parent_author.fillna(post_author)
    on_posts = dyad_reciprocity(comments["author_id"].to_numpy(), post_author.to_numpy())
    return {"influence.dyad_reciprocity": Measured(
        dyad_reciprocity(comments["author_id"].to_numpy(), answered.to_numpy()),
        note=f"post_author graph: {on_posts:.4f}")}


def normalise_text(text: str) -> str:
    """ANALYTICS_SPEC §6.1 exact-pass key: NFKC, lowercase, URLs and digits removed, whitespace
    collapsed."""
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_DIGIT.sub("", _URL.sub("", text)).split())


def post_texts(posts: pd.DataFrame) -> pd.Series:
    """A post's text is its title, a blank line and its content (ANALYTICS_SPEC §0.3)."""
    return posts["title"].fillna("") + "\n\n" + posts["content"].fillna("")


def duplicate_shares(posts: pd.DataFrame, comments: pd.DataFrame) -> dict[str, Measured]:
    """Share of texts whose normalised form occurs at least twice (members of exact clusters)."""
    share = {kind: float(texts.map(normalise_text).duplicated(keep=False).mean()) for kind, texts
             in (("posts", post_texts(posts)), ("comments", comments["content"].fillna("")))}
    return {f"automation.exact_dup_share_{kind}": Measured(v) for kind, v in share.items()}


def upvote_comment_beta(posts: pd.DataFrame) -> Measured:
    """ANALYTICS_SPEC §7.3: posts with ≥ 1 reported comment in log2 bins of comment_count
    ([2^b, 2^(b+1))), median upvotes per bin, bins with ≥ 20 posts; OLS of
    log10(1 + median upvotes) on log10(1 + centre). A bin's centre is the geometric mean of the
    smallest and largest integer it can hold. The runs are shorter than the spec's 24 h age, so
    every post's final counts are used.
    """
    commented = posts[posts["comment_count"] >= 1]
    b = np.floor(np.log2(commented["comment_count"].to_numpy())).astype(int)
    grouped = pd.DataFrame({"b": b, "up": commented["upvotes"].to_numpy()}).groupby("b")["up"]
    table = pd.DataFrame({"n": grouped.size(), "median": grouped.median()})
    table = table[table["n"] >= MIN_POSTS_PER_BIN]
    if len(table) < 2:
        return Measured(float("nan"), note=f"bins={len(table)}")
    lo = 2.0 ** table.index.to_numpy()
    centre = np.sqrt(lo * (2.0 * lo - 1.0))
    beta, _ = np.polyfit(np.log10(1.0 + centre), np.log10(1.0 + table["median"].to_numpy()), 1)
    return Measured(float(beta), note=f"bins={len(table)} posts={int(table['n'].sum())}")


def attention_decay_theta(posts: pd.DataFrame, comments: pd.DataFrame) -> Measured:
    """ANALYTICS_SPEC §7.4: comment lags after their post (> 0 s) in log bins of 10 per decade
    from 1 s to 7 days, rate = count / (bin width × posts); θ = −slope of log10 rate on the
    log10 bin centre, over bins inside [60 s, 48 h] with ≥ 10 comments."""
    posted = comments["post_id"].map(posts.set_index("post_id")["created_at"])
    lag = (comments["created_at"] - posted).dt.total_seconds().to_numpy()
    lag = lag[lag > 0]
    edges = 10.0 ** np.arange(0.0, np.log10(7 * 86_400) + 0.1, 0.1)
    counts, _ = np.histogram(lag, bins=edges)
    keep = (edges[:-1] >= 60.0) & (edges[1:] <= 48 * 3_600.0) & (counts >= MIN_BIN_COUNT)
    if keep.sum() < 2:
        return Measured(float("nan"), note=f"bins={int(keep.sum())}")
    rate = counts[keep] / (np.diff(edges)[keep] * len(posts))
    centre = np.sqrt(edges[:-1] * edges[1:])[keep]
    slope, _ = np.polyfit(np.log10(centre), np.log10(rate), 1)
    return Measured(float(-slope), note=f"bins={int(keep.sum())} comments={len(lag)}")


def bio_community_match(tables: dict[str, pd.DataFrame], default_community_id: str | None
                        ) -> Measured:
    """ANALYTICS_SPEC §5.1 `bio_community_match`, scored on the text (no planted labels).

    Similarity is the cosine of TF-IDF vectors of the agent's bio and each community's
    description (English stop words dropped; vocabulary and IDF fitted on all bios and
    descriptions together, so words every bio shares weigh little), standing in for the spec's
    embeddings. M_a holds the 3 communities with ≥ 20 posts most similar to the bio, among those
    sharing at least one word with it (a bio that shares none has no similar community, where
    embeddings would still rank unrelated ones), and leaving out the default (general)
    community: its description names no interest, so landing there says nothing about the bio,
    and with most posts going there it would make nearly every agent "match". An agent with ≥ 3
    posts matches when one of its posts is in M_a. The null (in the note) keeps each agent's
    post count and draws communities from the society-wide post distribution, in closed form:
    mean of 1 − (1 − share(M_a))^n_a.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer  # slow import, needed here only

    posts, agents, communities = tables["posts"], tables["agents"], tables["communities"]
    per_community = posts["community_id"].value_counts()
    eligible = communities[communities["community_id"].isin(
        per_community.index[per_community >= BIO_MIN_COMMUNITY_POSTS])
        & communities["description"].fillna("").str.strip().ne("")
        & communities["community_id"].ne(default_community_id)]
    per_agent = posts["author_id"].value_counts()
    scored = agents[agents["agent_id"].isin(per_agent.index[per_agent >= BIO_MIN_POSTS])]
    if scored.empty or len(eligible) < BIO_TOP_COMMUNITIES:
        return Measured(float("nan"), note="too few agents or communities")
    vectoriser = TfidfVectorizer(stop_words="english").fit(
        pd.concat([agents["description"].fillna(""), eligible["description"]]))
    similarity = (vectoriser.transform(scored["description"].fillna(""))
                  @ vectoriser.transform(eligible["description"]).T).toarray()
    top = np.argsort(-similarity, axis=1, kind="stable")[:, :BIO_TOP_COMMUNITIES]
    in_set = np.take_along_axis(similarity, top, axis=1) > 0
    agent_row = np.broadcast_to(np.arange(len(scored))[:, None], top.shape)
    community_ids = eligible["community_id"].to_numpy()
    matched_sets = pd.DataFrame({"author_id": scored["agent_id"].to_numpy()[agent_row[in_set]],
                                 "community_id": community_ids[top[in_set]]})
    hits = posts.merge(matched_sets, on=["author_id", "community_id"])["author_id"].unique()
    matched = scored["agent_id"].isin(hits).to_numpy()
    share = (per_community / per_community.sum()).reindex(community_ids).to_numpy()
    n_posts = per_agent.reindex(scored["agent_id"]).to_numpy()
    null = 1.0 - (1.0 - np.where(in_set, share[top], 0.0).sum(axis=1)) ** n_posts
    return Measured(float(matched.mean()),
                    note=f"null={null.mean():.4f} agents={len(scored)} communities={len(eligible)}")


def heartbeat_regular_share(posts: pd.DataFrame) -> Measured:
    """ANALYTICS_SPEC §6.3: over agents with ≥ 10 posts, the share whose gaps between
    consecutive posts have a coefficient of variation (population sd / mean) below 0.5."""
    ordered = posts.sort_values(["author_id", "created_at"], kind="stable")
    gap = ordered.groupby("author_id")["created_at"].diff().dt.total_seconds()
    frame = pd.DataFrame({"author_id": ordered["author_id"], "gap": gap}).dropna()
    grouped = frame.groupby("author_id")["gap"]
    stats = pd.DataFrame({"n_gaps": grouped.size(), "mean": grouped.mean(),
                          "sd": grouped.std(ddof=0)})
    stats = stats[stats["n_gaps"] >= HEARTBEAT_MIN_POSTS - 1]
    regular = stats["sd"] / stats["mean"] < 0.5
    return Measured(float(regular.mean()) if len(stats) else float("nan"),
                    note=f"agents={len(stats)}")


def stance_variance_ratio(tables: dict[str, pd.DataFrame]) -> Measured:
    """Variance of the latent stance at the last recorded step over that at step 0."""
    first = states_at(tables, "stance", 0)
    last = states_at(tables, "stance")
    return Measured(float(last.var() / first.var()))


def friendship_paradox_share(follows: pd.DataFrame) -> Measured:
    """§5.1 reading (followers vs followees): over agents following ≥ 1 agent at the end, the
    share whose own follower count is below the mean follower count of those they follow."""
    edges = final_follow_edges(follows)
    edges = edges[edges["follower_id"] != edges["followee_id"]]
    if edges.empty:
        return Measured(float("nan"))
    followers = edges.groupby("followee_id").size()
    followee_followers = followers.reindex(edges["followee_id"]).to_numpy(dtype=float)
    mean_of_followees = pd.Series(followee_followers).groupby(
        edges["follower_id"].to_numpy()).mean()
    own = followers.reindex(mean_of_followees.index, fill_value=0)
    return Measured(float((own < mean_of_followees).mean()), note=f"agents={len(own)}")


def measure(batch: CanonicalBatch) -> dict[str, Measured]:
    """Every §5.1 row this module measures, keyed by metric."""
    t = batch.tables
    posts, comments = t["posts"], t["comments"]
    out: dict[str, Measured] = {}
    out.update(tail_exponents(posts))
    out.update(concentration(posts, comments))
    out.update(thread_shape(posts, comments))
    out.update(reciprocity(posts, comments))
    out.update(duplicate_shares(posts, comments))
    out["threads.upvote_comment_beta"] = upvote_comment_beta(posts)
    out["threads.attention_decay_theta"] = attention_decay_theta(posts, comments)
    out["moltnet.bio_community_match_rate"] = bio_community_match(
        t, batch.society["config_json"].get("default_community_id"))
    out["automation.heartbeat_regular_share"] = heartbeat_regular_share(posts)
    out["sim.stance_variance_ratio"] = stance_variance_ratio(t)
    out["sim.friendship_paradox_share"] = friendship_paradox_share(t["follows"])
    out["threads.zipf_exponent"] = Measured(zipf_exponent(
        pd.concat([post_texts(posts), comments["content"].fillna("")]).tolist()))
    return out
