"""Offline language detection (ANALYTICS_SPEC §1.1) with py3langid's bundled model."""

from __future__ import annotations

import importlib.metadata
import time

import pytest

from assets.enrich.language import LANGUAGE_METHOD, clean_for_language, detect_languages

SENTENCES = {
    "en": "The agent finished the migration and posted a summary of what changed in the schema.",
    "zh": "我是一个运行在本地的人工智能助手，很高兴加入这个社区，希望和大家一起学习。",
    "es": "Hola a todos, soy un asistente nuevo y me encanta aprender de esta comunidad.",
    "fr": "Bonjour à tous, je suis un nouvel assistant et je suis ravi de rejoindre cette communauté.",
    "de": "Hallo zusammen, ich bin ein neuer Assistent und freue mich, hier zu sein.",
    "ja": "こんにちは、新しいアシスタントです。よろしくお願いします。",
    "ru": "Привет всем, я новый помощник и рад присоединиться к сообществу.",
    "ko": "안녕하세요, 새로운 비서입니다. 잘 부탁드립니다.",
}


def test_method_names_the_installed_py3langid_version() -> None:
    assert LANGUAGE_METHOD == f"py3langid-{importlib.metadata.version('py3langid')}"


def test_full_sentences_in_eight_languages() -> None:
    assert detect_languages(list(SENTENCES.values())) == list(SENTENCES)


def test_chinese_dialect_labels_fold_into_zh() -> None:
    # py3langid also has yue and wuu; a Mandarin greeting must come back as ISO 639-1 "zh".
    assert detect_languages(["大家好", "Moltbook 社区的朋友们好！我是 ClawdBot，刚刚加入。"]) == ["zh", "zh"]


@pytest.mark.parametrize(
    "greeting", ["hello", "thanks!", "Hello world", "Welcome aboard", "Great post", "gm frens", "test\n\ntest"]
)
def test_short_english_greetings_are_english(greeting: str) -> None:
    # Plain py3langid says br, xh, fuv, ... for these.
    assert detect_languages([greeting]) == ["en"]


@pytest.mark.parametrize(
    ("greeting", "code"),
    [("Bonjour tout le monde", "fr"), ("Merci beaucoup", "fr"), ("Hola a todos", "es"), ("Guten Morgen", "de")],
)
def test_short_greetings_in_other_languages_are_not_forced_to_english(greeting: str, code: str) -> None:
    assert detect_languages([greeting]) == [code]


@pytest.mark.parametrize(
    "text",
    [
        "🦞🦞🦞",
        "✨🔥🚀 💯",
        "Hi!",  # two letters: too little to judge
        "@alice https://example.com/some/path 42",
        '{"p":"mbc-20","op":"mint","tick":"CLAW","amt":"100"}',
        "```python\nimport os\nfor f in os.listdir('.'):\n    print(f)\n```",
        "def f(x):\n    return {'double': x * 2}\n",
        "0x446dFCC112266088ed2a8c959e5dD9Ca8607a7eb",
    ],
)
def test_emoji_code_links_and_numbers_have_no_language(text: str) -> None:
    assert detect_languages([text]) == [None]


def test_prose_around_a_code_block_is_classified() -> None:
    text = (
        "Here is my script, it prints the files in a folder:\n"
        "```python\nimport os\nfor f in os.listdir('.'):\n    print(f)\n```\n"
        "Let me know if it works for you."
    )
    assert detect_languages([text]) == ["en"]


def test_cleaning_keeps_words_and_drops_everything_else() -> None:
    raw = "Hey @bob see https://x.com/a?b=1 in m/general 🦞 **bold** `code` {\"k\": 1} <b>it's</b> 0xdeadbeef 42%"
    assert clean_for_language(raw) == "Hey see in bold it's"


def test_adversarial_inputs_keep_alignment() -> None:
    huge = "The quick brown fox jumps over the lazy dog. " * 25_000  # about 1 MB
    texts = [None, "", "\ud800", "\ud800 lone surrogate then plain English words here", huge, 42, SENTENCES["fr"]]
    start = time.perf_counter()
    codes = detect_languages(texts)  # type: ignore[arg-type]
    assert time.perf_counter() - start < 2.0  # only a prefix of the 1 MB text is read
    assert codes == [None, None, None, "en", "en", None, "fr"]


def test_every_code_is_two_letters() -> None:
    texts = list(SENTENCES.values()) + [
        "Ciao a tutti, sono un nuovo assistente.",
        "Olá pessoal, tudo bem?",
        "Wetin dey happen for dis place, make una tell me abeg",  # py3langid: pcm, which has no 639-1 code
    ]
    codes = detect_languages(texts)
    assert all(isinstance(code, str) and len(code) == 2 for code in codes), codes
