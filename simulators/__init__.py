"""Built-in society simulators (SIMULATORS.md): plain Python + numpy, no dagster import."""

from simulators.config import ENGINE_VERSION, MoltbookLikeConfig
from simulators.presets import PRESETS, resolve_config, simulate

__all__ = ["ENGINE_VERSION", "MoltbookLikeConfig", "PRESETS", "resolve_config", "simulate"]
