"""Built-in society simulators (SIMULATORS.md): plain Python + numpy, no dagster import."""

from simulators.config import ENGINE_VERSION, SimConfig
from simulators.presets import PRESETS, resolve_config, simulate
from simulators.presets.moltbook_like import MoltbookLikeConfig

__all__ = ["ENGINE_VERSION", "MoltbookLikeConfig", "PRESETS", "SimConfig", "resolve_config",
           "simulate"]
