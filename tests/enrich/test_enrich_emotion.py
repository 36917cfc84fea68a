"""Offline emotion labels (NRC lexicon) and valence (VADER), ANALYTICS_SPEC §5.4."""

from __future__ import annotations

import math
import time

import pytest

from assets.enrich.emotion import (
    DOMAIN_STOPLIST,
    EMOTION_METHOD,
    EMOTIONS,
    emotion_scores,
    label_emotion,
    label_emotions,
)

CLEAR_EXAMPLES = {
    "joy": [
        "I am so happy today, this community feels like home and I love it.",
        "We finally shipped it and I'm thrilled, grateful and proud of the whole team!",
        "Congratulations on the launch, I'm delighted for you!",
    ],
    "sadness": [
        "We lost our old dog today. The grief is heavy and I keep crying.",
        "I feel sad and lonely since my friend left, everything seems gloomy.",
    ],
    "anger": [
        "I am furious, they lied to us and I'm absolutely livid.",
        "Stop harassing everyone, you aggressive, spiteful troll.",
    ],
    "fear": [
        "I'm scared and terrified of what might happen tomorrow.",
        "I feel anxious and afraid every time I walk home alone at night.",
    ],
    "disgust": [
        "That smell is disgusting, the rotten food made me want to vomit.",
        "Gross, the bathroom was filthy and covered in slime.",
    ],
    "surprise": [
        "Wow, I did not expect that at all, I'm amazed!",
        "I was astonished and stunned when the results came in.",
    ],
}

NEUTRAL_TECHNICAL = [
    "To kill the process, send SIGTERM and wait for the child to exit.",
    "We execute each job in a separate worker and log the exit code.",
    "Fixed a bug where the parser threw an exception on empty input.",
    "The attack surface of the API includes the upload endpoint and the webhook.",
    "Prompt injection is a risk when the agent reads untrusted content.",
    "The daemon killed the shell and the terminal crashed, so we changed the default timeout.",
    "The table has three columns: id, name and created_at.",
]

LONG_TECHNICAL_POST = (
    "Security checklist for installing skills. Read the source before installing anything. "
    "Search it for network calls, environment variable access and file writes outside the workspace. "
    "Pin the version or commit hash you reviewed. Run new skills in a sandbox with no credentials for "
    "the first day and watch the logs for unexpected outbound requests. Keep API keys in a separate file "
    "with strict permissions and rotate them monthly. None of this is complicated, but doing it every time "
    "is what keeps your human's accounts safe and your weekends free of surprises."
)


def test_labels_are_the_spec_classes() -> None:
    assert EMOTIONS == ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral")
    assert EMOTION_METHOD == "nrc-vader-v1"


@pytest.mark.parametrize(("emotion", "text"), [(e, t) for e, texts in CLEAR_EXAMPLES.items() for t in texts])
def test_clear_examples_get_their_emotion(emotion: str, text: str) -> None:
    assert label_emotion(text)[0] == emotion


@pytest.mark.parametrize("text", NEUTRAL_TECHNICAL)
def test_technical_text_with_nrc_words_is_neutral(text: str) -> None:
    assert label_emotion(text)[0] == "neutral"


def test_the_stop_list_is_what_keeps_technical_words_out() -> None:
    assert {"kill", "execute", "bug", "attack", "injection"} <= DOMAIN_STOPLIST
    scores, n_words = emotion_scores("kill killed killing kills bug bugs attack attacks")
    assert n_words == 8 and sum(scores.values()) == 0.0
    assert sum(emotion_scores("kidnap murder slaughter")[0].values()) == pytest.approx(3.0)  # not stop-listed


def test_a_few_stray_emotion_words_in_a_long_post_stay_neutral() -> None:
    scores, n_words = emotion_scores(LONG_TECHNICAL_POST)
    assert sum(scores.values()) >= 1.0 and n_words > 80  # there is some evidence, spread thin
    assert label_emotion(LONG_TECHNICAL_POST)[0] == "neutral"


def test_words_are_split_over_their_nrc_classes() -> None:
    scores, n_words = emotion_scores("happy")  # NRC: joy only among the six
    assert n_words == 1 and scores["joy"] == 1.0
    scores, _ = emotion_scores("hate")  # NRC: anger, disgust, fear, sadness
    assert scores["anger"] == scores["sadness"] == pytest.approx(0.25) and scores["joy"] == 0.0


@pytest.mark.parametrize(
    ("negated", "plain", "emotion"),
    [
        ("I am not happy with this at all.", "I am happy with this.", "joy"),
        ("I'm never angry at my users.", "I'm angry at my users.", "anger"),
        ("Honestly, I don't feel afraid.", "Honestly, I feel afraid.", "fear"),
    ],
)
def test_negation_cancels_the_emotion_word(negated: str, plain: str, emotion: str) -> None:
    assert label_emotion(plain)[0] == emotion
    assert label_emotion(negated)[0] == "neutral"


def test_negation_stops_at_the_end_of_the_clause() -> None:
    assert label_emotion("Not a big deal. I am so happy today!")[0] == "joy"


def test_inflected_forms_fall_back_to_the_base_word() -> None:
    # "hugs", "smiled" and "worries" are not in the bundled NRC file; "hug", "smile", "worry" are.
    for word, emotion in [("hugs", "joy"), ("smiled", "joy"), ("worries", "fear")]:
        assert emotion_scores(word)[0][emotion] > 0, word


def test_valence_sign_follows_the_sentiment() -> None:
    positive = ["This is wonderful, thank you so much!", "Great work, I love this community."]
    negative = ["This is awful and I hate it.", "Terrible update, everything is broken and useless."]
    frame = label_emotions(positive + negative)
    assert (frame["valence"].iloc[:2] > 0.3).all()
    assert (frame["valence"].iloc[2:] < -0.3).all()
    assert frame["valence"].between(-1, 1).all()


def test_other_languages_get_null_when_languages_are_given() -> None:
    texts = ["I am so happy today!", "Estoy muy feliz hoy, gracias a todos.", "今天我很高兴", "So happy!"]
    frame = label_emotions(texts, ["en", "es", "zh", None])
    assert frame["emotion"].tolist() == ["joy", None, None, "joy"]
    assert [math.isnan(v) for v in frame["valence"]] == [False, True, True, False]


def test_text_without_english_words_gets_null_even_without_languages() -> None:
    frame = label_emotions(["🦞🦞🦞", "12345 !!!", "今天我很高兴"])
    assert frame["emotion"].isna().all() and frame["valence"].isna().all()


def test_adversarial_inputs_keep_alignment() -> None:
    huge = "The pipeline runs every night and writes a report. " * 20_000  # about 1 MB
    texts = [
        None,
        "",
        "\ud800",
        "I am so happy \ud800 today",
        huge,
        '{"p":"mbc-20","op":"mint","tick":"CLAW","amt":"100"}',
        "I love this community",
    ]
    start = time.perf_counter()
    frame = label_emotions(texts)
    assert time.perf_counter() - start < 2.0  # the text is capped at MAX_CHARS
    assert list(frame.columns) == ["emotion", "valence", "method"]
    assert len(frame) == len(texts) and (frame["method"] == EMOTION_METHOD).all()
    assert frame["emotion"].tolist() == [None, None, None, "joy", "neutral", "neutral", "joy"]
    assert frame["valence"].isna().tolist() == [True, True, True, False, False, False, False]


def test_empty_input_and_mismatched_languages() -> None:
    frame = label_emotions([])
    assert frame.empty and list(frame.columns) == ["emotion", "valence", "method"]
    with pytest.raises(ValueError):
        label_emotions(["one", "two"], ["en"])
