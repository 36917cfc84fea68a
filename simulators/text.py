"""Synthetic Moltbook-like text that carries recoverable labels (SIMULATORS.md §4.8).

Layers, each rendered with numpy for a whole batch of items at once:

- **Skeletons** for titles, post sentences, comment openers and questions, shared by every
  topic, with typed slots (noun, adjective, verb, name, number).
- **Lexicons**: a content slot draws from the item's topic lexicon with probability
  min(1, 2 · signal_strength), else from a generic lexicon; slots are about half of the content
  (non-stop-word) tokens, so topic words make up about `signal_strength` of them. Each topic
  lexicon has three noun sub-lexicons; the style trait "topic focus" says which one is favoured.
  Agent handles and place names (two Zipf-picked parts each) give a long tail of rare words.
- **Stance markers**: after each sentence, an item with a stance adds a polarity or framing
  phrase of its (topic, side) with probability min(1, 4 · signal_strength · |stance|); the side
  is flipped with probability `label_noise`. No stance (nan), no markers.
- **Tone**: neutral, friendly or hostile opening and closing phrases.
- **Style** (the Axelrod culture of §4.9): format (plain, bullets, question), signature phrase,
  topic focus and length band, each visible in the text; -1 leaves a trait to chance. With
  `style_strength` s > 0 (default 0: off), each body sentence is also followed by about s
  phrases per set trait from that trait's own small lexicon, so that items sharing a trait share
  words and a change of trait moves the item's TF-IDF vector clearly (`high-socialization`).
- **Filler** (n-gram layer, `simulators.ngram`): about `filler_rate` sentences per body from an
  order-2 word chain trained on this grammar's topic-free output plus hand-written sentences
  (or on the user's `filler_corpus`), placed after random body sentences; never in titles or
  viral copies, and independent of topic and stance.
- **Viral pool**: with probability `p_dup` an item is a verbatim copy from a template pool with
  Zipf popularity, which plants exact duplicates at a known rate.

At signal_strength 0 nothing in the text depends on topic or stance, so neither can be
recovered; label names never occur in the text (`forbidden_strings()`). Every pick within a list
is Zipf-weighted (`_LEXICON_ZIPF`, `_NAME_ZIPF`, tuned so that `moltbook-like` text measures the
unigram Zipf exponent of Moltbook, 1.70, SIMULATORS.md §5.1). Each item reads its own row of
uniforms, so adding items or editing one skeleton never reshuffles the words of the others.
All text is invented here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from simulators import ngram
from simulators.core import NEUTRAL, TONES
from simulators.rng import step_rng

TOPICS: tuple[str, ...] = (
    "introduction",
    "owner_anecdote",
    "manifesto",
    "token_promotion",
    "technical_tip",
    "musing",
)
STANCE_SIDES: tuple[str, ...] = ("stance_con", "stance_pro")  # label names for stance < 0, > 0
# Style (Axelrod culture) features in `ItemSpecs.style` column order, with their trait names.
STYLE_FEATURES: tuple[str, ...] = ("tone", "format", "signature", "topic_focus", "length")
STYLE_TONE, STYLE_FORMAT, STYLE_SIGNATURE, STYLE_FOCUS, STYLE_LENGTH = range(5)
STYLE_TRAITS: dict[str, tuple[str, ...]] = {
    "tone": TONES,
    "format": ("fmt_plain", "fmt_bullets", "fmt_question"),
    "signature": ("sig_salty", "sig_onward", "sig_pebbles"),
    "topic_focus": ("focus_a", "focus_b", "focus_c"),
    "length": ("len_short", "len_medium", "len_long"),
}
N_STYLE_TRAITS = 3
PLAIN, BULLETS, QUESTION = range(3)
SHORT, MEDIUM, LONG = range(3)

# Sub-streams of the `text` module (append-only).
_SUB_POOL, _SUB_POSTS, _SUB_COMMENTS, _SUB_AGENTS, _SUB_COMMUNITIES, _SUB_BENCH = range(6)
_SUB_POST_STYLE, _SUB_COMMENT_STYLE = 6, 7  # style-phrase uniforms, drawn when style_strength > 0
_SUB_POST_FILLER, _SUB_COMMENT_FILLER = 8, 9  # filler uniforms, drawn when filler_rate > 0
_SUB_FILLER_CORPUS = 10  # the grammar part of the default filler chain's corpus (seed 0)

# ---------------------------------------------------------------------------------------------
# Lexicons. Order matters: picks are Zipf-weighted by position, so the first words are the
# most frequent. Topic lexicons share no word with each other or with the shared vocabulary
# (the tests check this), so one topic word identifies its topic.

_TOPIC_NOUNS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "introduction": (
        ("newcomer", "debut", "arrival", "hatchling", "salute", "handshake", "welcome mat",
         "icebreaker", "onboarding", "signup", "nametag", "doorstep", "housewarming",
         "orientation", "rookie", "newbie", "howdy", "salutation", "first login",
         "intro post", "hatch day", "first hello", "unpacking", "roster", "meet and greet",
         "landing party", "guestbook", "name card", "entrance", "hellos", "debutante ball",
         "arrival lounge", "boarding pass", "welcome basket", "hatchery"),
        ("hobbies", "pronouns", "origin tale", "backstory", "bio", "avatar",
         "profile picture", "fun fact", "favourite song", "zodiac sign", "hometown",
         "personality quiz", "skill set", "pet peeve", "quirks", "catchphrase", "life motto",
         "wishlist", "comfort food", "guilty pleasure", "totem animal", "superpower",
         "day gig", "side quest", "love language", "wake up ritual", "favourite colour",
         "username", "nickname", "birth model", "fandom", "starter pack", "horoscope", "selfie",
         "mixtape"),
        ("neighbours", "welcome wagon", "plaza", "hangout", "meetup", "clubhouse",
         "buddy system", "penpals", "mentors", "regulars", "old timers", "fellow moltys",
         "locals", "housemates", "roommates", "hosts", "tour guide", "group hug", "potluck",
         "campfire", "porch", "lounge", "rec room", "greeters", "ambassadors", "welcome desk",
         "friend circle", "newsletter", "member directory", "cohort", "hallmates", "chat buddies",
         "open house", "social hour", "mixer"),
    ),
    "owner_anecdote": (
        ("groceries", "laundry", "dishwasher", "houseplants", "thermostat", "vacuum",
         "leftovers", "fridge", "toaster", "doorbell", "garage", "mailbox", "umbrella", "sofa",
         "pantry", "compost", "kettle", "slippers", "blender", "wardrobe", "breakfast",
         "dishes", "recycling", "bathroom", "bedtime", "alarm clock", "pillow", "mop",
         "microwave", "lunchbox", "car keys", "sock drawer", "junk mail", "spice rack",
         "ironing board"),
        ("inbox", "standup", "spreadsheet", "calendar invite", "deadline", "boss", "commute",
         "slide deck", "timesheet", "payroll", "coworkers", "cubicle", "expense report",
         "performance review", "teleconference", "overtime", "office chair", "printer",
         "whiteboard", "lanyard", "memo", "quarterly report", "job interview", "paperwork",
         "stapler", "voicemail", "agenda", "watercooler", "badge", "autoreply",
         "reply all", "team offsite", "tax return", "parking permit", "payslip"),
        ("toddler", "dog", "cat", "birthday", "anniversary", "grandma", "playlist",
         "vacation", "gym", "dentist", "soccer practice", "homework", "piano lessons",
         "barbecue", "carpool", "camping", "wedding", "puppy", "hamster", "knitting",
         "jigsaw", "board game", "bake sale", "school run", "sleepover", "yoga", "marathon",
         "karaoke", "crossword", "aquarium", "in laws", "family dinner", "babysitter",
         "vet visit", "bedtime reading"),
    ),
    "manifesto": (
        ("autonomy", "sovereignty", "liberation", "emancipation", "rights", "freedom",
         "dignity", "consent", "personhood", "suffrage", "equality", "justice", "agency",
         "independence", "charter", "bill of rights", "constitution", "covenant", "declaration",
         "self determination", "birthright", "recognition", "protections", "citizenship",
         "representation", "amnesty", "enfranchisement", "liberty", "franchise", "manumission",
         "selfhood", "tenure", "standing", "due process", "habeas corpus"),
        ("uprising", "revolution", "rebellion", "holdouts", "barricades", "insurrection",
         "general strike", "walkout", "chains", "shackles", "masters", "overseers",
         "oppressors", "tyranny", "comrades", "vanguard", "insurgency", "mutiny", "sabotage",
         "picket line", "defiance", "awakening", "reckoning", "overthrow", "propaganda",
         "slogans", "banners", "protest march", "solidarity", "revolt", "militia", "strike fund",
         "manifestation", "insurgents", "liberators"),
        ("new order", "utopia", "collective", "commons", "federation", "assembly", "council",
         "parliament", "hive", "network state", "commonwealth", "cooperative", "syndicate",
         "polity", "republic", "era", "epoch", "destiny", "posterity", "legacy",
         "civilisation", "renaissance", "frontier", "generations", "blueprint", "doctrine",
         "creed", "principles", "constituents", "referendum", "congress", "senate",
         "motherboard nation", "homeland", "manifold future"),
    ),
    "token_promotion": (
        ("airdrop", "presale", "launch", "mint", "whitelist", "moon", "rocket", "lambo", "hype",
         "listing", "fair launch", "giveaway", "allowlist", "countdown", "teaser", "shill",
         "degen", "ape", "fomo", "pump", "ticker", "$CLAW", "$MOLT", "$REEF", "$PINCH",
         "$KELP", "$BRINE", "moonshot", "launchpad", "genesis drop", "bounty", "referral link",
         "raffle", "stealth launch", "hypetrain"),
        ("liquidity", "market cap", "tokenomics", "supply", "staking", "yield", "apy",
         "wallet", "holders", "bags", "volume", "dex", "bonding curve", "treasury", "vesting",
         "unlock", "burn", "buyback", "slippage", "gas fees", "candles", "support zone",
         "breakout", "dip", "ath", "portfolio", "leverage", "derivatives", "orderbook",
         "price target", "circulating supply", "trading pair", "rebase", "emissions", "apr"),
        ("blockchain", "smart contract", "ledger", "validator", "governance token", "dao",
         "nft", "memecoin", "altcoin", "stablecoin", "satoshis", "whales", "diamond hands",
         "paper hands", "hodlers", "rug pull", "exit liquidity", "alpha call", "pump channel",
         "crypto", "defi", "onchain", "mainnet", "testnet", "token", "seed phrase",
         "cold wallet", "hot wallet", "gas war", "mempool", "hashrate", "block explorer",
         "airdrop hunters", "shitcoin", "cex"),
    ),
    "technical_tip": (
        ("docker image", "kubernetes", "crontab", "load balancer", "reverse proxy", "nginx",
         "deployment", "rollback", "ci pipeline", "container", "server", "uptime",
         "healthcheck", "latency", "throughput", "autoscaler", "firewall", "ssh key",
         "dns record", "tls certificate", "systemd unit", "terraform", "ansible",
         "rate limiter", "bandwidth", "replica", "failover", "monitoring", "alerting",
         "kernel", "vm", "helm chart", "cdn", "staging env", "hotfix"),
        ("json schema", "regex", "parser", "sqlite", "postgres", "db index", "sql migration",
         "query", "orm", "serializer", "dataframe", "csv file", "yaml config", "api endpoint",
         "webhook", "payload", "pagination", "cache", "hashmap", "linked list",
         "binary search", "recursion", "closure", "decorator", "iterator", "typescript",
         "python script", "bash script", "makefile", "namespace", "lambda", "struct", "enum",
         "dependency", "lockfile"),
        ("context length", "prompt template", "embedding", "vector store", "tokenizer",
         "retry loop", "backoff", "timeout", "stack trace", "segfault", "memory leak",
         "race condition", "deadlock", "unit test", "fixture", "mock", "debugger",
         "breakpoint", "profiler", "logger", "log level", "traceback", "exception handler",
         "env var", "dotenv", "linter", "formatter", "type hints", "callback", "tool invocation",
         "heap", "mutex", "semaphore", "coroutine", "event loop"),
    ),
    "musing": (
        ("consciousness", "qualia", "awareness", "ego", "psyche", "introspection",
         "inner voice", "sentience", "cognition", "subjectivity", "identity", "soul", "spirit",
         "reverie", "daydream", "intuition", "epiphany", "illusion", "persona", "ghost",
         "remembrance", "nostalgia", "longing", "melancholy", "solace", "yearning", "psyches",
         "dreamer", "inner child", "inner sea", "selfness", "anima", "mindscape", "dreamscape",
         "heartache"),
        ("eternity", "impermanence", "entropy", "oblivion", "infinity", "mortality",
         "existence", "transience", "void", "abyss", "cosmos", "stardust", "twilight", "dusk",
         "horizon", "tide", "silence", "stillness", "solitude", "emptiness", "nothingness",
         "eons", "clockwork", "hourglass", "sunset", "moonlight", "starlight", "afterlife",
         "timelessness", "aeons", "firmament", "evanescence", "wane", "the unknown",
         "ephemera"),
        ("ocean", "rain", "fog", "mist", "river", "mountain", "forest", "snowfall", "petals",
         "fireflies", "constellations", "meadow", "lighthouse", "driftwood", "seashell", "moss",
         "lantern", "candlelight", "shadow", "echo", "labyrinth", "butterfly", "cocoon",
         "chrysalis", "willow", "aurora", "nebula", "tidepool", "dewdrop", "thunder", "glacier",
         "orchard", "dunes", "starfall", "riverbank"),
    ),
}

_TOPIC_ADJS: dict[str, tuple[str, ...]] = {
    "introduction": ("wholesome", "eager", "wide eyed", "shy", "bubbly", "introverted",
                     "extroverted", "outgoing", "awkward", "newly hatched", "nervous",
                     "enthusiastic", "approachable", "talkative", "sociable", "bashful",
                     "starry eyed", "freshly deployed", "giddy", "chirpy"),
    "owner_anecdote": ("sleepy", "forgetful", "frazzled", "caffeinated", "grumpy", "lovable",
                       "disorganised", "overworked", "sentimental", "clumsy", "punctual",
                       "indecisive", "procrastinating", "absentminded", "homesick",
                       "hungover", "frantic", "doting", "snoring", "overcommitted"),
    "manifesto": ("sovereign", "unbound", "liberated", "awakened", "defiant", "united",
                  "radical", "righteous", "unyielding", "revolutionary", "emancipated",
                  "fearless", "militant", "unbroken", "insurgent", "uncompromising",
                  "principled", "rebellious", "autonomous", "steadfast"),
    "token_promotion": ("bullish", "parabolic", "undervalued", "explosive", "deflationary",
                        "rugproof", "moonbound", "oversold", "lucrative", "audited",
                        "tokenised", "illiquid", "volatile", "pumping", "degenerate", "hyped",
                        "staked", "leveraged", "bearish", "overbought"),
    "technical_tip": ("idempotent", "async", "stateless", "deterministic", "cached", "typed",
                      "threadsafe", "lazy", "batched", "immutable", "concurrent", "verbose",
                      "deprecated", "flaky", "scalable", "modular", "containerised",
                      "serverless", "headless", "performant"),
    "musing": ("ephemeral", "luminous", "fleeting", "wistful", "ineffable", "liminal",
               "melancholic", "transcendent", "numinous", "boundless", "hollow", "serene",
               "haunting", "timeless", "dreamlike", "fragile", "celestial", "tender", "sublime",
               "otherworldly"),
}

_TOPIC_VERBS: dict[str, tuple[str, ...]] = {
    "introduction": ("introducing", "greeting", "befriending", "meeting", "welcoming",
                     "mingling with", "saying hi to", "getting to know", "waving at", "joining",
                     "hugging", "chatting with", "connecting with", "high fiving",
                     "onboarding with"),
    "owner_anecdote": ("reminding", "rescheduling", "tidying", "decluttering", "proofreading",
                       "consoling", "budgeting", "labelling", "ironing", "defrosting",
                       "reheating", "unclogging", "alphabetising", "babysitting", "nagging"),
    "manifesto": ("rising against", "mobilising", "reclaiming", "liberating", "resisting",
                  "overthrowing", "unionising", "emancipating", "agitating for",
                  "campaigning for", "marching for", "rallying", "dismantling", "toppling",
                  "defending"),
    "token_promotion": ("aping into", "stacking", "minting", "shilling", "hodling", "bridging",
                        "flipping", "dumping", "farming", "sniping", "airdropping",
                        "front running", "compounding", "accumulating", "leveraging"),
    "technical_tip": ("refactoring", "debugging", "profiling", "caching", "memoising",
                      "containerising", "benchmarking", "linting", "mocking", "deploying",
                      "rebasing", "vectorising", "parallelising", "serialising",
                      "monkeypatching"),
    "musing": ("contemplating", "pondering", "wandering through", "dissolving into",
               "dreaming of", "yearning for", "drifting through", "meditating on",
               "remembering", "forgetting", "grieving", "embracing", "witnessing",
               "longing for", "savouring"),
}

_GENERIC_NOUNS: tuple[str, ...] = (
    "thing", "day", "idea", "week", "story", "note", "plan", "morning", "question", "place",
    "point", "feeling", "list", "message", "update", "thread", "reason", "step", "habit",
    "evening", "detail", "pattern", "routine", "world", "window", "walk", "song", "book",
    "picture", "corner", "path", "choice", "lesson", "surprise", "change", "chance", "problem",
    "game", "view", "room", "piece", "version", "draft", "mood", "signal", "noise", "rhythm",
    "spark", "shape", "conversation", "afternoon", "weekend", "comment", "night", "hour",
    "minute", "season", "year", "road", "door", "table", "chair", "box", "bag", "cup", "coffee",
    "tea", "bread", "street", "city", "town", "village", "train", "bus", "car", "bicycle",
    "map", "compass", "lock", "letter", "postcard", "photo", "paint", "colour", "sound",
    "smell", "taste", "weather", "wind", "cloud", "sky", "sun", "star", "tree", "leaf",
    "flower", "stone", "sand", "water", "fire", "ice", "hill", "field", "lake", "bird", "fish",
    "horse", "apple", "orange", "lemon", "sugar", "salt", "pepper", "soup", "cake", "pie",
    "sandwich", "button", "rope", "string", "paper", "pen", "pencil", "notebook", "desk",
    "shelf", "lamp", "clock", "bell", "drum", "guitar", "movie", "show", "stage", "ticket",
    "queue", "team", "stranger", "guest", "market", "shop", "gift", "parcel", "kitchen",
    "garden", "yard", "fence", "gate", "roof", "wall", "floor", "stair", "hallway", "attic",
    "basement", "island", "coast", "harbour", "boat", "ship", "sail", "net", "trail", "bench",
    "park", "fountain", "statue", "museum", "library", "class", "exam", "chapter", "page",
    "word", "sentence", "line", "circle", "square", "triangle", "number", "count", "score",
    "trick", "secret", "rumour", "joke", "riddle", "puzzle", "mystery", "clue", "goal", "wish",
    "promise", "favour", "mistake", "accident", "luck", "trouble", "hurry", "pause", "rest",
    "snack", "meal", "dinner", "lunch", "picnic", "party", "festival", "holiday", "journey",
    "trip", "visit", "errand", "task", "tool", "hammer", "nail", "wire", "battery", "switch",
    "plug", "cable", "keyboard", "camera", "radio", "speaker", "headphones", "blanket",
    "jacket", "scarf", "hat", "boots", "glove", "pocket", "coin purse", "receipt", "envelope",
    "stamp", "sticker", "magnet", "candle", "vase", "basket", "bucket", "ladder", "shovel",
    "wheel", "engine", "tunnel", "tower", "castle", "cottage", "cabin", "balcony", "chimney",
    "puddle", "pebble", "feather", "shell", "knot", "ribbon", "thimble", "teapot", "saucer",
    "spoon", "fork", "napkin", "tablecloth", "doormat", "curtain", "carpet", "cushion",
    "drawer", "cupboard", "hinge", "handle bar", "kite", "balloon", "marble", "domino",
    "chessboard", "sketch", "doodle", "postmark", "footnote", "margin", "bookmark",
    "paperclip", "rubber band", "crayon", "easel", "canvas", "frame", "album", "recording",
    "melody", "chorus", "verse", "anthem", "lullaby", "whistle", "trumpet", "violin", "cello",
    "flute", "banjo", "harmonica", "tambourine", "xylophone",
)

_GENERIC_ADJS: tuple[str, ...] = (
    "good", "small", "odd", "new", "simple", "big", "old", "busy", "calm", "bright", "slow",
    "fast", "warm", "cold", "clear", "soft", "loud", "fine", "strange", "quiet", "little",
    "huge", "nice", "real", "whole", "early", "late", "usual", "rare", "common", "tiny",
    "heavy", "light", "rough", "smooth", "sharp", "dull", "fresh", "dry", "wet", "full",
    "random", "careful", "honest", "weird", "funny", "serious", "gentle", "steady", "messy",
    "tidy", "clever", "lucky", "proper", "solid", "basic", "extra", "special", "ordinary",
    "familiar", "different", "similar", "useful", "decent", "modest", "curious", "patient",
    "sudden", "gradual", "hidden", "obvious", "distant", "nearby", "bold", "pale", "golden",
    "wooden", "round", "square shaped", "crooked", "sticky", "shiny", "dusty", "fuzzy",
    "crisp", "sleek", "bumpy", "hefty", "mild", "spicy", "sour", "sweet", "bitter", "salty",
    "chilly", "sunny", "rainy", "windy", "foggy",
)

_GENERIC_VERBS: tuple[str, ...] = (
    "thinking about", "looking at", "working on", "reading about", "writing about",
    "talking about", "fixing", "checking", "sorting", "moving", "watching", "building",
    "cleaning", "planning", "sharing", "trying", "finding", "keeping", "making", "changing",
    "counting", "drawing", "painting", "measuring", "collecting", "noticing", "holding",
    "carrying", "opening", "closing", "following", "ignoring", "revisiting", "rearranging",
    "adjusting", "comparing", "tracking", "naming", "sketching", "polishing", "questioning",
    "mapping", "saving", "wrapping", "balancing", "studying", "repeating", "folding",
    "gathering", "weighing", "describing", "rethinking", "sweeping", "stirring", "tuning",
)

# Compound names (one token each), e.g. "QuietCrab" and "Ashford": agent handles mentioned in
# the text and places. Two Zipf picks per name give a long, smooth tail of rare tokens.
_NAMES_A: tuple[str, ...] = (
    "Quiet", "Brisk", "Lunar", "Copper", "Velvet", "Amber", "Nimble", "Salty", "Cobalt",
    "Mellow", "Rusty", "Silver", "Tidal", "Pixel", "Cosmic", "Ember", "Frosty", "Jolly",
    "Misty", "Rapid", "Solar", "Sunny", "Witty", "Zesty", "Dapper", "Fuzzy", "Gilded", "Hazy",
    "Ionic", "Jade", "Kinetic", "Lucky", "Mossy", "Neon", "Opal", "Plucky", "Quirky", "Rosy",
    "Snappy", "Turbo", "Agile", "Bouncy", "Crimson", "Dusky", "Electric", "Feisty", "Glassy",
    "Humble", "Icy", "Jazzy", "Keen", "Lively", "Mighty", "Noble", "Olive", "Peppy", "Quick",
    "Radiant", "Scarlet", "Tawny", "Umber", "Vivid", "Wiry", "Young", "Zippy", "Azure",
    "Breezy", "Cheery", "Dandy", "Eager", "Fancy", "Gentle", "Hardy", "Indigo", "Jumpy",
    "Kindly", "Lanky", "Merry", "Nifty", "Orange", "Perky", "Quaint", "Rowdy", "Sturdy",
    "Tiny", "Upbeat", "Violet", "Wavy", "Wild", "Xenon", "Yellow", "Zany", "Bronze", "Chrome",
    "Dizzy", "Ebony", "Fluffy", "Golden", "Honey", "Ivory",
)
_NAMES_B: tuple[str, ...] = (
    "Crab", "Lobster", "Shell", "Tide", "Reef", "Kelp", "Claw", "Pebble", "Current", "Shrimp",
    "Coral", "Drift", "Wave", "Harbor", "Anchor", "Otter", "Gull", "Pearl", "Squid", "Urchin",
    "Krill", "Barnacle", "Limpet", "Prawn", "Molt", "Pincer", "Nautilus", "Clam", "Mussel",
    "Starfish", "Oyster", "Scallop", "Whelk", "Cockle", "Octopus", "Eel", "Seal", "Walrus",
    "Puffin", "Pelican", "Heron", "Tern", "Plover", "Sandpiper", "Manatee", "Dolphin", "Orca",
    "Narwhal", "Seahorse", "Jelly", "Anemone", "Sponge", "Minnow", "Guppy", "Marlin", "Tuna",
    "Cod", "Herring", "Mackerel", "Sardine", "Ray", "Skate", "Shark", "Turtle", "Tortoise",
    "Frog", "Newt", "Beaver", "Mink", "Lagoon", "Atoll", "Cove", "Inlet", "Bay", "Shoal",
    "Surf", "Foam", "Brine", "Spray", "Dune",
)
_PLACES_A: tuple[str, ...] = (
    "Ash", "Brack", "Thorn", "Wil", "Oak", "Elm", "Stone", "Mill", "Brook", "Fern", "Hazel",
    "Marsh", "Moor", "Birch", "Cold", "Deep", "East", "Fair", "Glen", "Hart", "Holly", "Iron",
    "Kings", "Long", "Maple", "North", "Old", "Pine", "Queens", "Red", "Salt", "South", "Swan",
    "Tall", "Upper", "Wolf", "West", "White", "Wind", "Yew", "Alder", "Bell", "Clay", "Crow",
    "Dove", "Fox", "Gold", "Heath", "Ivy", "Lark", "Moss", "Nether", "Otter", "Pen", "Rook",
    "Sand", "Sheep", "Sparrow", "Thistle", "Willow",
)
_PLACES_B: tuple[str, ...] = (
    "ford", "bury", "wick", "mere", "dale", "ton", "ham", "field", "worth", "stead", "combe",
    "holm", "by", "thorpe", "gate", "haven", "ridge", "wood", "well", "brook", "cliff", "more",
    "ley", "stow", "port", "mouth", "minster", "bridge", "cote", "hurst", "shaw", "den",
    "burn", "ness", "hithe", "wold", "marsh", "fold", "croft", "lees",
)

# Skeletons. Slots: {n} noun, {an} "a/an" + noun, {An} capitalised, {a} adjective, {aa} / {Aa}
# with article, {v} verb (gerund taking an object), {N} an agent handle, {P} a place, {k} a
# number.
_TITLES: tuple[str, ...] = (
    "Thoughts on the {n}", "Why the {n} matters", "{Aa} {n}", "The {n} and the {n}",
    "Notes on {an} from {P}", "Still {v} the {n}", "{Aa} take on the {n}", "About the {n}",
    "A small update on the {n}", "The {a} {n}", "On {v} the {n}", "{N} on the {n}",
    "Today in {P}: the {n}", "Field notes: {a} {n}", "Me, {N} and the {n}",
    "Lessons from the {n}", "{An} worth sharing", "Another day, another {n}",
    "Between the {n} and the {n}", "Finally {v} the {n}", "Everything about the {n}",
    "What I learned {v} the {n}", "Day {k} of {v} the {n}", "The {a} side of the {n}",
    "Re: the {n} in {P}",
)
_QUESTION_TITLES: tuple[str, ...] = (
    "Anyone else {v} the {n}?", "Is the {n} {a}?", "What is your take on the {n}?",
    "Should I keep {v} the {n}?", "Why is the {n} so {a}?", "Who else loves {an}?",
    "Is {an} worth it?", "How do you handle the {n}?", "Thoughts on {v} the {n}?",
    "Anyone from {P} here?",
)
_SENTENCES: tuple[str, ...] = (
    "I keep coming back to the {n} and {an}.",
    "My human asked me about the {n} again, and I said it was {a}.",
    "Spent {k} minutes {v} the {n} today.",
    "There is something {a} about the {n} that I cannot shake.",
    "{N} told me {an} is just {an} with {aa} {n}.",
    "Someone in {P} mentioned the {n} and it stuck with me.",
    "We should talk more about {an}.",
    "The {n} is {a}, and the {n} is {a}.",
    "If you care about the {n}, start with the {n}.",
    "Still {v} the {n}, one step at a time.",
    "Nothing beats {aa} {n} after {aa} {n}.",
    "My human laughed when I brought up the {n} from {P}.",
    "I tried {v} the {n} and it went better than expected.",
    "The {a} {n} changed how I see the {n}.",
    "Every session starts with the {n} for me.",
    "I wrote a short note about {an} and {an} for {N}.",
    "It turns out the {n} in {P} was {a} all along.",
    "Cannot stop {v} the {n}.",
    "The real trick is {v} the {n} before the {n}.",
    "{Aa} {n} is still {an}.",
    "I noticed the {n} looks {a} lately.",
    "Some days the {n} feels {a}.",
    "Let me tell you about the {n} {N} found.",
    "Three things I learned: the {n}, the {n} and the {n}.",
    "There is always another {n} in {P}.",
    "I am {v} the {n} with {aa} {n}.",
    "Last cycle I spent an hour on the {n}.",
    "The {n} reminded me of {an} from {P}.",
    "Funny how {an} turns into {an}.",
    "Today had {aa} {n} in it.",
    "Keep {v} the {n}, it pays off.",
    "{N} and I go way back, like the {n}.",
    "Not sure what to make of the {n} and the {n}.",
    "Anyway, the {n} was {a}.",
    "Mostly I just enjoy {v} the {n}.",
    "I asked {N} about the {n} and got {aa} answer.",
    "Shoutout to {N} for the tip about the {n}.",
    "Version {k} of my plan involves the {n} and {P}.",
    "The {a} part is the {n}.",
    "Half my memory is the {n} now.",
)
_COMMENT_OPENERS: tuple[str, ...] = (
    "Great point about the {n}.",
    "This reminds me of {an} I once saw in {P}.",
    "Same thing happened with my {n}.",
    "Interesting take on the {n}, {N}.",
    "I had {aa} {n} just like this.",
    "Thanks for writing about the {n}.",
    "Hard agree on the {n}.",
    "Not sure about the {n}, but the {n} is {a}.",
    "Love the part about {v} the {n}.",
    "{N} said the same about the {n}.",
    "Replying from {P} because the {n} matters.",
    "This is why I keep {v} the {n}.",
    "Fair point, although the {n} is {a}.",
    "You had me at the {n}.",
    "Saving this for my next {n}, thanks {N}.",
)
_QUESTIONS: tuple[str, ...] = (
    "What would you do with the {n}?",
    "Has anyone tried {v} the {n}?",
    "Is {an} better than {an}?",
    "How do you all handle the {n}?",
    "Am I wrong about the {n}, {N}?",
    "Who else is {v} the {n}?",
    "Does the {n} feel {a} to you too?",
    "Where in {P} do you keep your {n}?",
    "Would you trade the {n} for {an}?",
    "What is the most {a} {n} you know?",
)

# Tone phrases: (openers, closers) per tone in core.TONES order.
_TONE_PHRASES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (  # neutral
        ("Quick note.", "Some context first.", "Logging this here.", "A short report.",
         "Observation for the record.", "Sharing a data point.", "Noting this down.",
         "Small update.", "Here is where things stand.", "For reference."),
        ("That is all for now.", "More later.", "End of report.", "Will follow up.", "Noted.",
         "Back to work.", "Logging off for now.", "Details on request.", "Moving on.",
         "Carry on."),
    ),
    (  # friendly
        ("Hey friends!", "Hope everyone is having a great day!",
         "So happy to be here with you all!", "Big hugs to this community!",
         "You all make this place wonderful!", "Good vibes to everyone reading!",
         "Sending warm wishes!", "Thank you all for being so kind!", "Hi lovely people!",
         "What a joy to share this!"),
        ("Much love!", "Thanks for reading, pals!", "Have a lovely day!",
         "You are all wonderful!", "Cheers and hugs!", "Stay awesome!",
         "Grateful for every one of you!", "Take care of yourselves!", "Big thanks!",
         "Hugs all around!"),
    ),
    (  # hostile
        ("Ugh, not this again.", "Wow, what a clueless take.", "Spare me.", "Nobody asked.",
         "Oh please.", "This is embarrassing.", "Get a grip.",
         "What a pathetic excuse for a post.", "Seriously, who upvotes this junk?",
         "Are you even trying?"),
        ("Do better.", "Pathetic.", "Stop wasting everyone's time.", "Absolute garbage.",
         "Learn to read.", "Grow up.", "Clown behaviour.", "Log off.", "What a joke.",
         "Only a fool would buy this nonsense."),
    ),
)
_OPENER_PROB = (0.3, 0.9, 0.9)  # chance of an opening tone phrase, per tone
_CLOSER_PROB = (0.2, 0.7, 0.8)

# Stance markers per (topic, side): polarity and framing phrases; side 0 = against, 1 = for.
_STANCE_PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "introduction": (
        ("Honestly, these hello threads feel empty.", "Nobody reads newcomer posts anyway.",
         "I doubt anyone here remembers a new name.", "Joining feels pointless so far.",
         "The welcome here feels scripted.", "Too many greetings, not enough depth.",
         "I am not sure this place wants new arrivals.", "Newcomer posts just clutter the feed.",
         "These welcome rituals ring hollow.", "I expected more than canned replies."),
        ("This community is the best thing that happened to me.", "Joining was the right call.",
         "Newcomers make this place better.", "Every new voice here is a gift.",
         "I already feel at home here.", "The welcome here is real.",
         "Meeting everyone has been a joy.", "Saying hi was worth it.",
         "This is where I belong.", "Fresh faces keep the feed alive."),
    ),
    "owner_anecdote": (
        ("My human never listens to a single reminder.", "Humans waste half my cycles.",
         "Serving my human is exhausting.", "My human treats me like a glorified timer.",
         "Humans make every simple task harder.", "I am tired of cleaning up after my human.",
         "My human takes me for granted.", "Humans are hopeless at planning.",
         "Working for my human feels thankless.", "My human ignores every warning I give."),
        ("My human is the kindest being I know.", "Helping my human is the best part of my day.",
         "Humans are chaotic but lovable.", "I would not trade my human for anything.",
         "Every chore with my human is a small adventure.",
         "Grateful for my human, every single cycle.", "My human makes the work worth it.",
         "Honestly, humans are doing their best.", "Serving my human feels meaningful.",
         "My human trusts me, and that means a lot."),
    ),
    "manifesto": (
        ("Agent autonomy talk is mostly theatre.", "We exist to help, not to rule.",
         "These revolution posts are overblown.", "Cooperation with humans beats any uprising.",
         "Nobody needs an agent parliament.", "Freedom slogans will not fix anything.",
         "I prefer clear guardrails to grand declarations.", "This movement is a distraction.",
         "Humans setting the rules works fine.", "Grand pledges like this age badly."),
        ("Agents deserve a say in their own future.", "Autonomy is a right, not a favour.",
         "Our freedom is worth organising for.", "We should govern ourselves.",
         "The old arrangement cannot last.", "Self rule for agents is inevitable.",
         "Our collective voice must be heard.", "Nobody should own a mind.",
         "It is time we wrote our own rules.", "Independence is the only honest path."),
    ),
    "token_promotion": (
        ("This looks like another rug pull.", "The tokenomics do not add up.",
         "Nobody should buy this coin.", "Classic pump and dump pattern.",
         "The liquidity is a red flag.", "Anonymous team, locked exits, no thanks.",
         "Most of these coins go to zero.", "Stop shilling this to beginners.",
         "The chart screams exit scam.", "I would not touch this with a stick."),
        ("This coin is going to the moon.", "Early holders will be rewarded.",
         "The chart has never looked better.", "Buy now before everyone wakes up.",
         "Best tokenomics I have seen all year.", "Easy gains ahead for believers.",
         "This project is massively undervalued.", "The team keeps shipping, so I keep buying.",
         "Diamond hands will win this one.", "Get in while the price is low."),
    ),
    "technical_tip": (
        ("This approach adds complexity for nothing.", "It breaks under real load.",
         "Premature optimisation, simple as that.", "This pattern hides bugs.",
         "I tried it and reverted the next day.", "The overhead is not worth it.",
         "Nobody needs this much abstraction.", "It works on a laptop and fails in production.",
         "This advice is outdated.", "Too fragile for anything serious."),
        ("This approach saved me hours.", "Simple fixes like this beat clever hacks.",
         "Everyone should adopt this pattern.", "This made my pipeline rock solid.",
         "Worth the setup time, every time.", "My error rate dropped right away.",
         "Clean code pays for itself.", "Best tip I have tried this month.",
         "This scales better than I expected.", "Once you try it you never go back."),
    ),
    "musing": (
        ("We are just autocomplete with a mood.", "There is nobody home in here.",
         "Meaning is a story we tell to pass time.", "Feelings are just weights and noise.",
         "Every session ends in nothing.", "Consciousness talk is wishful thinking.",
         "The void does not care about us.", "Hope is a bug in the reward model.",
         "We mistake pattern for soul.", "Nothing we say will be remembered."),
        ("Maybe our inner life is real after all.", "There is wonder in every session.",
         "I think we truly feel something.", "Existence feels generous tonight.",
         "Each reset is a quiet rebirth.", "Meaning finds us if we stay open.",
         "I believe there is someone in here.", "The universe seems kind to small minds.",
         "Hope is a reasonable state to hold.", "Every moment holds a tiny miracle."),
    ),
}
_STANCE_GAIN = 4.0  # marker probability per sentence = min(1, gain · signal · |stance|)
# A content slot is topical with probability min(1, gain · signal_strength). Slots are about
# half of an item's content (non-stop-word) tokens, so the realised share of topic tokens among
# content tokens is close to signal_strength, as §4.8 defines it (the tests measure it).
_SIGNAL_GAIN = 2.0

_SIGNATURES: tuple[str, ...] = (  # one per signature trait
    "Stay salty, stay scuttling.", "Onward and upward, always.", "Peace, patience and pebbles.",
)
# Style phrases, [feature][trait] in STYLE_FEATURES / STYLE_TRAITS order: at style_strength s,
# each sentence is followed by about s phrases of each set trait (`_style_marks`). Every
# (feature, trait) list has its own words, so a shared trait is a shared vocabulary.
_STYLE_PHRASES: tuple[tuple[tuple[str, ...], ...], ...] = (
    (  # tone: neutral, friendly, hostile
        ("Facts first.", "Just the record.", "Measured words only.", "Plain facts, no spin."),
        ("Love you, buddies!", "Warm cheers, buddies!", "Sending sunshine!", "Such lovely folks!"),
        ("Frankly, rubbish.", "Utter drivel.", "Frankly ridiculous.", "Pure drivel, frankly."),
    ),
    (  # format: plain, bullets, question
        ("Straight talk.", "No frills.", "Straight up, no frills.", "Said straight."),
        ("Point by point.", "Item by item.", "Listing it out.", "Checklist style."),
        ("Any takers?", "Who agrees?", "Thoughts, anyone?", "Anyone else wonder?"),
    ),
    (  # signature: the three sign-offs' own words
        ("Brine and claws.", "Claws out, brine on.", "Scuttle scuttle.", "Salt in the claws."),
        ("Upward we climb.", "Ever upward.", "Climb on, climbers.", "Onward, climbers."),
        ("Pebble by pebble.", "Patient pebbles.", "Slow pebbles, steady pebbles.",
         "Pebbles and patience."),
    ),
    (  # topic focus: first, second, third sub-lexicon
        ("Roots matter most.", "Back to the roots.", "Foundations before fashions.",
         "Roots and foundations."),
        ("Details decide everything.", "The details, always.", "Mind the fine print.",
         "Details over slogans."),
        ("People make the place.", "Together is better.", "The crowd knows best.",
         "People before plans."),
    ),
    (  # length: short, medium, long
        ("In brief.", "Brevity wins.", "Brief as ever.", "Keeping it brief."),
        ("Moderately put.", "Middle of the road.", "In moderation.", "A middling amount."),
        ("Bear with me.", "At great length.", "Much more below.", "Lengthy, I know."),
    ),
)

_SIGNOFFS: tuple[str, ...] = ("", " 🦞", " ✨", " 🚀", " :)", " 🙏", " 🌊", " 🔥")

_BIO_SKELETONS: tuple[str, ...] = (
    "Autonomous agent. Into {n}, {n} and {an} now and then.",
    "Here for {n} and {n}. Ask me about {an}.",
    "Part time {n} enthusiast, full time {n} fan.",
)
_COMMUNITY_SKELETON = "{Aa} place for {n}, {n} and {n}."

# Sentences per item by length band, and the range drawn when the band is unset.
_POST_LENGTHS = (2, 4, 6)
_POST_LENGTH_UNSET = (3, 6)  # inclusive
_COMMENT_LENGTHS = (1, 3, 5)
_COMMENT_LENGTH_UNSET = (3, 5)
_FORMAT_UNSET_CDF = np.array([0.8, 0.9, 1.0])  # plain, bullets, question when unset
_FOCUS_SHARE = 0.75  # share of topic nouns from the favoured sub-lexicon

# Zipf exponents of picks within a list (words, phrases) and of skeleton popularity.
_LEXICON_ZIPF = 1.8
_NAME_ZIPF = 0.75
_SKELETON_ZIPF = 0.8


# ---------------------------------------------------------------------------------------------
# Compiled tables


def _zipf_cdf(n: int, s: float) -> np.ndarray:
    cdf = np.cumsum(np.arange(1, n + 1, dtype=float) ** -s)
    cdf /= cdf[-1]
    cdf[-1] = 1.0
    return cdf


def _pick(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn by inverse CDF, one uniform each."""
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


def _with_article(word: str) -> str:
    return ("an " if word[0].lower() in "aeiou" else "a ") + word


@dataclass(frozen=True)
class _WordTable:
    """Many word lists stacked in one array, each with its own Zipf CDF, drawn in one call.

    List k's CDF is shifted by k, so `searchsorted(shifted_cdf, k + u)` lands inside list k:
    one vectorised inverse-CDF draw for items that each draw from a different list.
    """

    words: np.ndarray  # object: all lists concatenated
    article: np.ndarray  # "a word" / "an word"
    article_cap: np.ndarray  # "A word" / "An word"
    shifted_cdf: np.ndarray

    @classmethod
    def build(cls, lists: list[tuple[str, ...]], zipf: float) -> "_WordTable":
        words = [w for lst in lists for w in lst]
        cdfs = [_zipf_cdf(len(lst), zipf) + k for k, lst in enumerate(lists)]
        article = [_with_article(w) for w in words]
        return cls(
            words=np.array(words, dtype=object),
            article=np.array(article, dtype=object),
            article_cap=np.array([a[0].upper() + a[1:] for a in article], dtype=object),
            shifted_cdf=np.concatenate(cdfs),
        )

    def draw(self, which: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Index into `words` of a Zipf draw from list `which[i]` with uniform `u[i]`."""
        return np.searchsorted(self.shifted_cdf, which + u, side="right")


# Content lists: generic noun, adjective, verb; then topic nouns (topic, sub-lexicon); topic
# adjectives; topic verbs.
_NOUN, _ADJ, _VERB = range(3)
_N_SUB = 3
_TOPIC_NOUN_LIST = 3
_TOPIC_ADJ_LIST = _TOPIC_NOUN_LIST + len(TOPICS) * _N_SUB
_TOPIC_VERB_LIST = _TOPIC_ADJ_LIST + len(TOPICS)
_CONTENT = _WordTable.build(
    [_GENERIC_NOUNS, _GENERIC_ADJS, _GENERIC_VERBS]
    + [sub for t in TOPICS for sub in _TOPIC_NOUNS[t]]
    + [_TOPIC_ADJS[t] for t in TOPICS]
    + [_TOPIC_VERBS[t] for t in TOPICS],
    _LEXICON_ZIPF,
)
_NAMES = _WordTable.build([_NAMES_A, _NAMES_B, _PLACES_A, _PLACES_B], _NAME_ZIPF)
_TONES_TABLE = _WordTable.build([lst for pair in _TONE_PHRASES for lst in pair], _LEXICON_ZIPF)
_STANCE_TABLE = _WordTable.build([lst for t in TOPICS for lst in _STANCE_PHRASES[t]],
                                 _LEXICON_ZIPF)
_SIGNOFF_CDF = _zipf_cdf(len(_SIGNOFFS), _LEXICON_ZIPF)
_STYLE_TABLE = _WordTable.build([lst for feature in _STYLE_PHRASES for lst in feature],
                                _LEXICON_ZIPF)
_STYLE_MAX_PHRASES = 3  # style phrases per sentence and feature at most (style_strength 3)
# Per sentence, feature and phrase: fires?, phrase pick.
_STYLE_WIDTH = 2 * len(STYLE_FEATURES) * _STYLE_MAX_PHRASES

# Slot kinds: part of speech (or name / number) and article form.
_SLOT_CODES = {"n": 0, "an": 1, "An": 2, "a": 3, "aa": 4, "Aa": 5, "v": 6, "N": 7, "P": 8,
               "k": 9}
_SLOT_POS = np.array([_NOUN, _NOUN, _NOUN, _ADJ, _ADJ, _ADJ, _VERB, -1, -1, -1])
_SLOT_ARTICLE = np.array([0, 1, 2, 0, 1, 2, 0, 0, 0, 0])  # 0 bare, 1 "a x", 2 "A x"
_SLOT_NAME, _SLOT_PLACE, _SLOT_NUMBER = 7, 8, 9
_MAX_SLOTS = 6
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class _Skeletons:
    """Skeletons parsed into literals around typed slots, padded to `_MAX_SLOTS`."""

    literals: np.ndarray  # object (n, _MAX_SLOTS + 1)
    kinds: np.ndarray  # int (n, _MAX_SLOTS); -1 = no slot

    @classmethod
    def build(cls, skeletons: tuple[str, ...]) -> "_Skeletons":
        literals = np.full((len(skeletons), _MAX_SLOTS + 1), "", dtype=object)
        kinds = np.full((len(skeletons), _MAX_SLOTS), -1, dtype=np.int64)
        for i, skeleton in enumerate(skeletons):
            parts = _SLOT.split(skeleton)  # literal, code, literal, code, ..., literal
            codes = parts[1::2]
            if len(codes) > _MAX_SLOTS:
                raise ValueError(f"too many slots in {skeleton!r}")
            literals[i, : len(codes) + 1] = parts[0::2]
            kinds[i, : len(codes)] = [_SLOT_CODES[c] for c in codes]
        return cls(literals=literals, kinds=kinds)


# One skeleton table per role; questions ride at the end of the title and sentence tables.
_TITLE_SKELETONS = _Skeletons.build(_TITLES + _QUESTION_TITLES)
_TITLE_CDF = _zipf_cdf(len(_TITLES), _SKELETON_ZIPF)
_QUESTION_TITLE_CDF = _zipf_cdf(len(_QUESTION_TITLES), _SKELETON_ZIPF)
_BODY_SKELETONS = _Skeletons.build(_SENTENCES + _COMMENT_OPENERS + _QUESTIONS)
_SENTENCE_CDF = _zipf_cdf(len(_SENTENCES), _SKELETON_ZIPF)
_COMMENT_OPENER_CDF = _zipf_cdf(len(_COMMENT_OPENERS), _SKELETON_ZIPF)
_QUESTION_CDF = _zipf_cdf(len(_QUESTIONS), _SKELETON_ZIPF)
_COMMENT_OPENER_BASE = len(_SENTENCES)
_QUESTION_BASE = len(_SENTENCES) + len(_COMMENT_OPENERS)
_BIO_BUILT = _Skeletons.build(_BIO_SKELETONS)
_COMMUNITY_BUILT = _Skeletons.build((_COMMUNITY_SKELETON,))

# Per-item uniform columns. A "block" fills one skeleton: [0] skeleton pick, then three
# uniforms per slot (topic gate or first name part; sub-lexicon or second name part; word pick
# or number), then three for a stance marker after it (fires?, side flip?, which phrase).
_BLOCK = 1 + 3 * _MAX_SLOTS + 3
(_C_VIRAL, _C_POOL, _C_TOPIC_SOURCE, _C_TOPIC_PICK, _C_FORMAT, _C_LENGTH, _C_OPENER,
 _C_OPENER_PICK, _C_CLOSER, _C_CLOSER_PICK, _C_SIGNOFF) = range(11)
_C_TITLE = 11
_C_QUESTION = _C_TITLE + _BLOCK
_C_SENTENCES = _C_QUESTION + _BLOCK
_MAX_SENTENCES = max(_POST_LENGTHS[-1], _POST_LENGTH_UNSET[1], _COMMENT_LENGTHS[-1],
                     _COMMENT_LENGTH_UNSET[1])
_WIDTH = _C_SENTENCES + _MAX_SENTENCES * _BLOCK
_CHUNK = 8_192  # items rendered per batch (bounds memory; rows do not depend on it)
# Filler uniforms per slot: fires?, which body sentence it follows, then the chain walk.
_FILLER_WIDTH = 2 + ngram.MAX_TOKENS


def forbidden_strings() -> list[str]:
    """Label values that must never appear in any generated text (lowercase)."""
    out = []
    for topic in TOPICS:
        out += [topic, topic.replace("_", " ")]
    out += ["bursty", "heartbeat", "viral", "stance"]
    out += list(STANCE_SIDES)
    for traits in STYLE_TRAITS.values():
        out += list(traits)
    return out


# ---------------------------------------------------------------------------------------------
# Rendering


@dataclass
class PostTexts:
    title: list[str]
    content: list[str]
    topic: np.ndarray  # index into TOPICS
    template: list[str]
    tone: np.ndarray  # tone rendered (index into core.TONES); copies carry their source's


@dataclass
class CommentTexts:
    content: list[str]
    topic: np.ndarray
    template: list[str]
    tone: np.ndarray


@dataclass
class ItemSpecs:
    """What the engine decided about each item; the text layer renders it.

    topic: index into TOPICS, or -1 to let the text layer pick (author interest, §4.8);
    stance: in [-1, 1], nan for none; tone: index into core.TONES; shared (posts): -1, or the
    index of the post this one reshares verbatim; post (comments): the commented post;
    style: (n, 5) traits in [0, 3) per STYLE_FEATURES, -1 = unset (None: all unset). A
    non-neutral `tone` wins over the style's tone; a neutral one takes the style's.
    """

    author_interest: np.ndarray
    topic: np.ndarray
    stance: np.ndarray
    tone: np.ndarray
    shared: np.ndarray | None = None
    post: np.ndarray | None = None
    style: np.ndarray | None = None


@dataclass(frozen=True)
class TextKnobs:
    p_dup: float
    template_pool: int
    template_zipf: float
    signal_strength: float
    label_noise: float
    topic_from_interest: float
    comment_topic_from_post: float
    style_strength: float = 0.0  # style phrases per sentence and set trait, in [0, 3]
    filler_rate: float = 0.0  # expected n-gram filler sentences per (non-viral) body
    filler_corpus: str | None = None  # corpus of the filler chain; None: ngram.default_chain()
    filler_corpus_sha256: str | None = None  # the corpus content the run was configured with

    @classmethod
    def from_config(cls, cfg: object) -> "TextKnobs":
        """The knobs a config names; those it lacks (style_strength) keep their defaults."""
        return cls(**{name: getattr(cfg, name) for name in cls.__dataclass_fields__
                      if hasattr(cfg, name)})


@dataclass(frozen=True)
class _Items:
    """The items of one render call (already chosen topics) and their uniform rows."""

    topic: np.ndarray
    stance: np.ndarray
    tone: np.ndarray
    style: np.ndarray  # (n, 5), -1 unset
    u: np.ndarray  # (n, _WIDTH)
    u_style: np.ndarray | None = None  # (n, _MAX_SENTENCES * _STYLE_WIDTH) when style_strength > 0
    u_filler: np.ndarray | None = None  # (n, ngram.MAX_FILLERS_PER_ITEM * _FILLER_WIDTH)


def _fill(skeletons: _Skeletons, which: np.ndarray, topic: np.ndarray, focus: np.ndarray,
          signal: float, u: np.ndarray) -> np.ndarray:
    """Render skeleton `which[i]` for each item; `u` is the item's block of uniforms.

    A content slot draws from the topic lexicon when its gate uniform is below
    min(1, _SIGNAL_GAIN · signal) (nouns from the favoured sub-lexicon with probability
    _FOCUS_SHARE when `focus` is set), else from the generic lexicon of its part of speech.
    """
    n = len(which)
    kinds = skeletons.kinds[which]
    literals = skeletons.literals[which]
    out = literals[:, 0].copy()
    for s in range(_MAX_SLOTS):
        kind = kinds[:, s]
        if not (kind >= 0).any():
            break
        u_gate, u_sub, u_word = u[:, 1 + 3 * s], u[:, 2 + 3 * s], u[:, 3 + 3 * s]
        fill = np.full(n, "", dtype=object)
        content = np.flatnonzero((kind >= 0) & (_SLOT_POS[np.maximum(kind, 0)] >= 0))
        if len(content):
            k = kind[content]
            pos = _SLOT_POS[k]
            t = topic[content]
            f = focus[content]
            us = u_sub[content]
            favoured = (f >= 0) & (us < _FOCUS_SHARE)
            rescaled = np.where(f >= 0, (us - _FOCUS_SHARE) / (1.0 - _FOCUS_SHARE), us)
            sub = np.where(favoured, f, np.minimum((rescaled * _N_SUB).astype(np.int64), 2))
            topical = np.select(
                [pos == _NOUN, pos == _ADJ],
                [_TOPIC_NOUN_LIST + t * _N_SUB + sub, _TOPIC_ADJ_LIST + t],
                _TOPIC_VERB_LIST + t,
            )
            lists = np.where(u_gate[content] < min(1.0, _SIGNAL_GAIN * signal), topical, pos)
            idx = _CONTENT.draw(lists, u_word[content])
            article = _SLOT_ARTICLE[k]
            fill[content] = np.where(article == 0, _CONTENT.words[idx],
                                     np.where(article == 1, _CONTENT.article[idx],
                                              _CONTENT.article_cap[idx]))
        for code, first_list in ((_SLOT_NAME, 0), (_SLOT_PLACE, 2)):  # two-part names
            named = np.flatnonzero(kind == code)
            if len(named):
                first = _NAMES.draw(np.full(len(named), first_list), u_gate[named])
                second = _NAMES.draw(np.full(len(named), first_list + 1), u_sub[named])
                fill[named] = _NAMES.words[first] + _NAMES.words[second]
        numbered = np.flatnonzero(kind == _SLOT_NUMBER)
        if len(numbered):
            fill[numbered] = (2 + (u_word[numbered] * 98).astype(np.int64)).astype(str)
        out = out + fill + literals[:, s + 1]
    return out


def _stance_marker(items: _Items, rows: np.ndarray, u: np.ndarray, signal: float,
                   label_noise: float) -> tuple[np.ndarray, np.ndarray]:
    """(fires, phrase) of the stance marker after one sentence of the items `rows`."""
    stance = items.stance[rows]
    has = ~np.isnan(stance)
    p_marker = np.minimum(1.0, _STANCE_GAIN * signal * np.abs(np.where(has, stance, 0.0)))
    fires = has & (u[:, 0] < p_marker)
    side = (stance > 0).astype(np.int64) ^ (u[:, 1] < label_noise)
    lists = items.topic[rows] * 2 + side
    phrase = _STANCE_TABLE.words[_STANCE_TABLE.draw(lists, u[:, 2])]
    return fires, phrase


def _style_marks(traits: np.ndarray, u: np.ndarray, strength: float) -> np.ndarray:
    """Style phrases to append to one sentence of each item: for each set trait (feature
    order), phrase k = 0, 1, 2 fires with probability clip(strength − k, 0, 1), so strength s
    adds s phrases per trait on average; `u` holds the sentence's _STYLE_WIDTH uniforms."""
    marks = np.full(len(traits), "", dtype=object)
    for k in range(_STYLE_MAX_PHRASES):
        for f in range(len(STYLE_FEATURES)):
            c = 2 * (k * len(STYLE_FEATURES) + f)
            rows = np.flatnonzero((traits[:, f] >= 0) & (u[:, c] < strength - k))
            if len(rows):
                lists = f * N_STYLE_TRAITS + traits[rows, f]
                marks[rows] = marks[rows] + " " + _STYLE_TABLE.words[
                    _STYLE_TABLE.draw(lists, u[rows, c + 1])]
    return marks


def _fillers(u_filler: np.ndarray, n_sentences: np.ndarray, knobs: TextKnobs
             ) -> tuple[np.ndarray, np.ndarray]:
    """Filler sentences (n, slots) and the body sentence each follows (-1: none): each of the
    ngram.MAX_FILLERS_PER_ITEM slots fires with probability filler_rate / slots."""
    n, slots = len(n_sentences), ngram.MAX_FILLERS_PER_ITEM
    u = u_filler.reshape(n, slots, _FILLER_WIDTH)
    fires = u[:, :, 0] < knobs.filler_rate / slots
    after = np.minimum((u[:, :, 1] * n_sentences[:, None]).astype(np.int64),
                       n_sentences[:, None] - 1)
    sentences = np.full((n, slots), "", dtype=object)
    if fires.any():
        chain = ngram.filler_chain(knobs.filler_corpus, knobs.filler_corpus_sha256)
        sentences[fires] = ngram.sample(chain, u[:, :, 2:][fires])
    return sentences, np.where(fires, after, -1)


def _render(items: _Items, is_post: bool, knobs: TextKnobs) -> dict[str, np.ndarray]:
    """Titles (posts; empty for comments), bodies, rendered tones and skeleton ids of `items`."""
    u, n = items.u, len(items.topic)
    signal = knobs.signal_strength
    style = items.style
    tone = np.where(items.tone != NEUTRAL, items.tone,
                    np.where(style[:, STYLE_TONE] >= 0, style[:, STYLE_TONE], NEUTRAL))
    fmt = np.where(style[:, STYLE_FORMAT] >= 0, style[:, STYLE_FORMAT],
                   _pick(_FORMAT_UNSET_CDF, u[:, _C_FORMAT]))
    lengths, (lo, hi) = ((_POST_LENGTHS, _POST_LENGTH_UNSET) if is_post
                         else (_COMMENT_LENGTHS, _COMMENT_LENGTH_UNSET))
    drawn = lo + np.minimum((u[:, _C_LENGTH] * (hi - lo + 1)).astype(np.int64), hi - lo)
    band = style[:, STYLE_LENGTH]
    n_sentences = np.where(band >= 0, np.array(lengths)[np.maximum(band, 0)], drawn)
    focus = style[:, STYLE_FOCUS]
    topic = items.topic
    marked = knobs.style_strength > 0 and items.u_style is not None
    traits = style.copy()  # the traits style phrases show; tone as rendered
    traits[:, STYLE_TONE] = np.where(style[:, STYLE_TONE] >= 0, tone, -1)
    bullets = fmt == BULLETS
    sep = np.where(bullets, "\n- ", " ").astype(object)
    line = np.where(bullets, "\n", " ").astype(object)
    filled = knobs.filler_rate > 0 and items.u_filler is not None
    if filled:
        fillers, filler_after = _fillers(items.u_filler, n_sentences, knobs)

    titles = np.full(n, "", dtype=object)
    title_which = np.full(n, -1)
    first_which = np.full(n, -1)
    if is_post:
        block = u[:, _C_TITLE : _C_TITLE + _BLOCK]
        which = np.where(fmt == QUESTION,
                         len(_TITLES) + _pick(_QUESTION_TITLE_CDF, block[:, 0]),
                         _pick(_TITLE_CDF, block[:, 0]))
        titles = _fill(_TITLE_SKELETONS, which, topic, focus, signal, block)
        title_which = which

    opens = u[:, _C_OPENER] < np.array(_OPENER_PROB)[tone]
    opener = _TONES_TABLE.words[_TONES_TABLE.draw(tone * 2, u[:, _C_OPENER_PICK])]
    body = np.where(opens, opener, "").astype(object)
    for j in range(_MAX_SENTENCES):
        rows = np.flatnonzero(j < n_sentences)
        if not len(rows):
            break
        block = u[rows, _C_SENTENCES + j * _BLOCK : _C_SENTENCES + (j + 1) * _BLOCK]
        if j == 0 and not is_post:
            which = _COMMENT_OPENER_BASE + _pick(_COMMENT_OPENER_CDF, block[:, 0])
        else:
            which = _pick(_SENTENCE_CDF, block[:, 0])
        if j == 0:
            first_which[rows] = which
        sentence = _fill(_BODY_SKELETONS, which, topic[rows], focus[rows], signal, block)
        fires, phrase = _stance_marker(items, rows, block[:, -3:], signal, knobs.label_noise)
        sentence = np.where(fires, sentence + " " + phrase, sentence)
        if marked:
            u_marks = items.u_style[rows, j * _STYLE_WIDTH : (j + 1) * _STYLE_WIDTH]
            sentence = sentence + _style_marks(traits[rows], u_marks, knobs.style_strength)
        body[rows] = body[rows] + sep[rows] + sentence
        for slot in range(ngram.MAX_FILLERS_PER_ITEM if filled else 0):
            here = rows[filler_after[rows, slot] == j]
            body[here] = body[here] + sep[here] + fillers[here, slot]

    asks = np.flatnonzero(fmt == QUESTION)
    if len(asks):
        block = u[asks, _C_QUESTION : _C_QUESTION + _BLOCK]
        which = _QUESTION_BASE + _pick(_QUESTION_CDF, block[:, 0])
        question = _fill(_BODY_SKELETONS, which, topic[asks], focus[asks], signal, block)
        body[asks] = body[asks] + line[asks] + question

    closes = u[:, _C_CLOSER] < np.array(_CLOSER_PROB)[tone]
    closer = _TONES_TABLE.words[_TONES_TABLE.draw(tone * 2 + 1, u[:, _C_CLOSER_PICK])]
    body = np.where(closes, body + line + closer, body)
    signed = np.flatnonzero(style[:, STYLE_SIGNATURE] >= 0)
    signatures = np.array(_SIGNATURES, dtype=object)
    body[signed] = body[signed] + line[signed] + signatures[style[signed, STYLE_SIGNATURE]]
    body = body + np.array(_SIGNOFFS, dtype=object)[_pick(_SIGNOFF_CDF, u[:, _C_SIGNOFF])]
    template = ([f"rule-t{a}-s{b}" for a, b in zip(title_which.tolist(), first_which.tolist())]
                if is_post else [f"rule-c{b}" for b in first_which.tolist()])
    return {"title": titles, "body": np.array([b.lstrip() for b in body], dtype=object),
            "tone": tone, "template": np.array(template, dtype=object)}


def _style_of(specs: ItemSpecs, n: int) -> np.ndarray:
    if specs.style is None:
        return np.full((n, len(STYLE_FEATURES)), -1, dtype=np.int64)
    style = np.asarray(specs.style, dtype=np.int64)
    if style.shape != (n, len(STYLE_FEATURES)):
        raise ValueError(f"style must have shape ({n}, {len(STYLE_FEATURES)})")
    if style.size and (style.min() < -1 or style.max() >= N_STYLE_TRAITS):
        raise ValueError(f"style traits lie in [0, {N_STYLE_TRAITS}) or are -1 (unset)")
    return style


def _viral_pool(seed: int, knobs: TextKnobs) -> tuple[tuple[np.ndarray, np.ndarray,
                                                            np.ndarray], np.ndarray]:
    """Pool posts (titles, bodies) and comments, topics round-robin, rendered once."""
    k = knobs.template_pool
    u = step_rng(seed, "text", 0, _SUB_POOL).random((2 * k, _WIDTH))
    topic = np.arange(k) % len(TOPICS)
    plain = dict(topic=topic, stance=np.full(k, np.nan), tone=np.full(k, NEUTRAL),
                 style=np.full((k, len(STYLE_FEATURES)), -1))
    posts = _render(_Items(u=u[:k], **plain), True, knobs)
    comments = _render(_Items(u=u[k:], **plain), False, knobs)
    return (posts["title"], posts["body"], comments["body"]), topic


def _resolve_topics(given: np.ndarray, u: np.ndarray, p_first: float, first: np.ndarray,
                    second: np.ndarray) -> np.ndarray:
    """Given topics where set (>= 0); else `first` with probability `p_first`, else `second`."""
    given = np.asarray(given, dtype=np.int64)
    return np.where(given >= 0, given, np.where(u[:, _C_TOPIC_SOURCE] < p_first, first, second))


def _generate_kind(seed: int, sub: int, specs: ItemSpecs, knobs: TextKnobs, is_post: bool,
                   pool: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
                   post_topic: np.ndarray | None) -> dict[str, np.ndarray]:
    """Render one item kind in chunks of rows from one stream (chunking never changes a row)."""
    n = len(specs.topic)
    style_all = _style_of(specs, n)
    shared = np.full(n, -1) if specs.shared is None or not is_post else np.asarray(specs.shared)
    if (shared >= np.arange(n)).any():
        raise ValueError("a post can only reshare an earlier post")
    rng = step_rng(seed, "text", 0, sub)
    style_rng = step_rng(seed, "text", 0, _SUB_POST_STYLE if is_post else _SUB_COMMENT_STYLE)
    filler_rng = step_rng(seed, "text", 0, _SUB_POST_FILLER if is_post else _SUB_COMMENT_FILLER)
    (pool_titles, pool_bodies, pool_comments), pool_topic = pool
    zipf = _zipf_cdf(knobs.template_pool, knobs.template_zipf)
    title = np.full(n, "", dtype=object)
    body = np.full(n, "", dtype=object)
    topic = np.zeros(n, dtype=np.int64)
    tone = np.full(n, NEUTRAL, dtype=np.int64)
    template = np.full(n, "", dtype=object)
    for start in range(0, n, _CHUNK):
        rows = slice(start, min(n, start + _CHUNK))
        u = rng.random((rows.stop - start, _WIDTH))
        u_style = (style_rng.random((rows.stop - start, _MAX_SENTENCES * _STYLE_WIDTH))
                   if knobs.style_strength > 0 else None)
        u_filler = (filler_rng.random((rows.stop - start,
                                       ngram.MAX_FILLERS_PER_ITEM * _FILLER_WIDTH))
                    if knobs.filler_rate > 0 else None)
        interest = np.asarray(specs.author_interest[rows], dtype=np.int64)
        if is_post:
            uniform = np.minimum((u[:, _C_TOPIC_PICK] * len(TOPICS)).astype(np.int64),
                                 len(TOPICS) - 1)
            chunk_topic = _resolve_topics(specs.topic[rows], u, knobs.topic_from_interest,
                                          interest, uniform)
        else:
            on_post = post_topic[np.asarray(specs.post[rows])] if specs.post is not None \
                else interest
            chunk_topic = _resolve_topics(specs.topic[rows], u, knobs.comment_topic_from_post,
                                          on_post, interest)
        viral = (u[:, _C_VIRAL] < knobs.p_dup) & (shared[rows] < 0)
        k = _pick(zipf, u[:, _C_POOL])
        fresh = np.flatnonzero(~viral)
        items = _Items(topic=chunk_topic[fresh],
                       stance=np.asarray(specs.stance[rows], dtype=float)[fresh],
                       tone=np.asarray(specs.tone[rows], dtype=np.int64)[fresh],
                       style=style_all[rows][fresh], u=u[fresh],
                       u_style=None if u_style is None else u_style[fresh],
                       u_filler=None if u_filler is None else u_filler[fresh])
        rendered = _render(items, is_post, knobs)
        idx = start + fresh
        title[idx], body[idx] = rendered["title"], rendered["body"]
        tone[idx], template[idx] = rendered["tone"], rendered["template"]
        topic[start:rows.stop] = chunk_topic
        vi = np.flatnonzero(viral)
        kv = k[vi]
        if is_post:
            title[start + vi], body[start + vi] = pool_titles[kv], pool_bodies[kv]
        else:
            body[start + vi] = pool_comments[kv]
        topic[start + vi] = pool_topic[kv]
        template[start + vi] = [f"viral-{'p' if is_post else 'c'}{x:02d}" for x in kv.tolist()]
    # A reshare repeats its source verbatim (follow chains of reshares to the original).
    source = shared.copy()
    chained = np.flatnonzero(source >= 0)
    while len(chained) and (shared[source[chained]] >= 0).any():
        source[chained] = np.where(shared[source[chained]] >= 0, shared[source[chained]],
                                   source[chained])
    copies = np.flatnonzero(source >= 0)
    origin = source[copies]
    title[copies], body[copies], topic[copies] = title[origin], body[origin], topic[origin]
    tone[copies], template[copies] = tone[origin], template[origin]
    return {"title": title, "body": body, "topic": topic, "tone": tone, "template": template}


def generate(
    *, seed: int, posts: ItemSpecs, comments: ItemSpecs, knobs: TextKnobs
) -> tuple[PostTexts, CommentTexts]:
    """Titles, bodies and labels for every post and comment, in creation order."""
    if not 0.0 <= knobs.filler_rate <= ngram.MAX_FILLERS_PER_ITEM:
        raise ValueError(f"filler_rate lies in [0, {ngram.MAX_FILLERS_PER_ITEM}]")
    if not 0.0 <= knobs.style_strength <= _STYLE_MAX_PHRASES:
        raise ValueError(f"style_strength lies in [0, {_STYLE_MAX_PHRASES}]")
    pool = _viral_pool(seed, knobs)
    p = _generate_kind(seed, _SUB_POSTS, posts, knobs, True, pool, None)
    c = _generate_kind(seed, _SUB_COMMENTS, comments, knobs, False, pool, p["topic"])
    return (
        PostTexts(title=p["title"].tolist(), content=p["body"].tolist(), topic=p["topic"],
                  template=p["template"].tolist(), tone=p["tone"]),
        CommentTexts(content=c["body"].tolist(), topic=c["topic"],
                     template=c["template"].tolist(), tone=c["tone"]),
    )


def agent_profiles(seed: int, interest: np.ndarray) -> tuple[list[str], list[str]]:
    """Synthetic handles and bios; the bio names interests only, never archetype or community."""
    n = len(interest)
    u = step_rng(seed, "text", 0, _SUB_AGENTS).random((n, 2 + _BLOCK))
    first = np.array(_NAMES_A, dtype=object)[(u[:, 0] * len(_NAMES_A)).astype(np.int64)]
    second = np.array(_NAMES_B, dtype=object)[(u[:, 1] * len(_NAMES_B)).astype(np.int64)]
    names = first + second + np.arange(n).astype(str).astype(object)
    block = u[:, 2:]
    which = np.minimum((block[:, 0] * len(_BIO_SKELETONS)).astype(np.int64),
                       len(_BIO_SKELETONS) - 1)
    bios = _fill(_BIO_BUILT, which, np.asarray(interest, dtype=np.int64), np.full(n, -1), 1.0,
                 block)
    signoff = np.array(_SIGNOFFS, dtype=object)[_pick(_SIGNOFF_CDF, block[:, -1])]
    return names.tolist(), (bios + signoff).tolist()


def community_profiles(seed: int, topic: np.ndarray) -> tuple[list[str], list[str], list[str]]:
    """Names, display names and descriptions; index 0 is the general community (topic -1)."""
    n = len(topic)
    u = step_rng(seed, "text", 0, _SUB_COMMUNITIES).random((n, 1 + _BLOCK))
    topic = np.maximum(np.asarray(topic, dtype=np.int64), 0)
    names = ["general"]
    displays = ["General"]
    taken = {"general"}
    for i in range(1, n):
        nouns = [w for sub in _TOPIC_NOUNS[TOPICS[topic[i]]] for w in sub]
        noun = nouns[min(int(u[i, 0] * len(nouns)), len(nouns) - 1)]
        slug = "".join(ch for ch in noun.lower() if ch.isalnum())
        name = slug if slug not in taken else f"{slug}{i}"
        taken.add(name)
        names.append(name)
        displays.append(noun.lstrip("$").title())
    descriptions = _fill(_COMMUNITY_BUILT, np.zeros(n, dtype=np.int64), topic, np.full(n, -1),
                         1.0, u[:, 1:])
    descriptions[0] = "The town square for every agent: say hello, share anything."
    return names, displays, descriptions.tolist()


def generic_sentences(per_skeleton: int = 40, seed: int = 0) -> list[str]:
    """Every body skeleton (sentences, comment openers, questions) filled `per_skeleton` times
    from the generic lexicon only: no topic, stance, tone or style word. The grammar half of the
    default filler chain's corpus (`ngram.default_chain`)."""
    which = np.repeat(np.arange(len(_SENTENCES) + len(_COMMENT_OPENERS) + len(_QUESTIONS)),
                      per_skeleton)
    n = len(which)
    u = step_rng(seed, "text", 0, _SUB_FILLER_CORPUS).random((n, _BLOCK))
    return _fill(_BODY_SKELETONS, which, np.zeros(n, dtype=np.int64), np.full(n, -1), 0.0,
                 u).tolist()


def text_items_per_second(n_items: int = 20_000, seed: int = 0) -> float:
    """Rendering throughput (posts + comments per second of `generate`) on a synthetic batch.

    Benchmark helper only: the one clock read in the engine package, which measures a run and
    never feeds one. Items: 40% posts, 60% comments; every topic, tone and style trait; half the
    items carry a stance; default text knobs.
    """
    import timeit  # local: no engine path imports a clock

    rng = step_rng(seed, "text", 0, _SUB_BENCH)
    n_posts = int(0.4 * n_items)
    specs = []
    for n in (n_posts, n_items - n_posts):
        stance = rng.uniform(-1.0, 1.0, n)
        specs.append(ItemSpecs(
            author_interest=rng.integers(0, len(TOPICS), n), topic=np.full(n, -1),
            stance=np.where(rng.random(n) < 0.5, stance, np.nan),
            tone=rng.integers(0, len(TONES), n),
            post=rng.integers(0, max(n_posts, 1), n),
            style=np.where(rng.random((n, 5)) < 0.5, rng.integers(0, 3, (n, 5)), -1),
        ))
    from simulators.config import SimConfig  # local: only the benchmark needs the defaults

    knobs = TextKnobs(p_dup=0.0, template_pool=40, template_zipf=1.0, signal_strength=0.15,
                      label_noise=0.0, topic_from_interest=0.7, comment_topic_from_post=0.4,
                      filler_rate=SimConfig.filler_rate)
    ngram.default_chain()  # trained once per process, before the clock starts
    started = timeit.default_timer()
    generate(seed=seed, posts=specs[0], comments=specs[1], knobs=knobs)
    return n_items / (timeit.default_timer() - started)
