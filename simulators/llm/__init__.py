"""Optional LLM mode of the simulators (SIMULATORS.md §4.11); never used on the default path.

`client` talks to any OpenAI-compatible `/v1/chat/completions` endpoint with the standard
library, `cache` replays replies from disk, `actions` validates the plain-JSON reply, and
`policy` batches awake agents into archetype groups, one call per group per step.
"""

from simulators.llm.policy import MODES, ArchetypeMode, LLMSettings, settings_from_env

__all__ = ["MODES", "ArchetypeMode", "LLMSettings", "settings_from_env"]
