"""Checkpoint and resume of a run (SIMULATORS.md §2 "Resumable", §4.1 step 8).

Every preset drives its steps through `run_steps`, which saves the whole run state (the preset's
`Society` object: trace buffers, latent state, the stateful exposure-sample generator, queues,
memories) after every `every`-th step and after the last one, and which, when the directory
already holds a checkpoint of the same run, loads it and continues from the step after it. All
other randomness is keyed by (seed, module, step) and needs no saving, so a resumed run writes
exactly the tables of an uninterrupted one. (Unpickled sets may iterate in another order; the
engines use sets for membership only, so that cannot change a run.)

A checkpoint file is one line of JSON (the header: which run, which step, the body's sha256),
then the pickled state. The header is checked before anything is unpickled, and a checkpoint of
another run (preset, seed, twin, resolved config, ENGINE_VERSION, numpy version, LLM model) is
refused. Unpickling runs code named in the file, so a checkpoint is trusted input: load only files
this code wrote, never one obtained from elsewhere. Files are written to a temporary name and
renamed, so a kill leaves the previous checkpoint intact; only the newest one is kept (each holds
the whole history so far). A directory belongs to one run.

LLM mode is checkpointed too, but the API key never reaches the file: the mode's settings are
pickled with an empty key and without its HTTP client; on load the key is read from
OBSERVATORY_LLM_API_KEY again and the client rebuilt as a fresh run builds it. A body that still
contained the key would be refused before anything is written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Protocol, TypeVar

import numpy as np

from simulators.config import ENGINE_VERSION, SimConfig
from simulators.llm.client import ChatClient
from simulators.llm.policy import ENV_API_KEY, ArchetypeMode, LLMSettings, chat_client
from simulators.llm.policy import settings_from_env

FORMAT = 1
DEFAULT_EVERY = 100  # SIMULATORS.md §10 `output: {checkpoint_every: 100}`
_NAME = re.compile(r"step-(\d{8})\.ckpt")
_MAX_HEADER = 1 << 16


class CheckpointMismatch(ValueError):
    """The directory holds a checkpoint of another run (or one this code cannot read)."""


class RunStopped(RuntimeError):
    """Raised by `run_steps` after step `Checkpoints.stop_after`, standing in for a kill."""


class Steps(Protocol):
    def step(self, t: int) -> None: ...


S = TypeVar("S", bound=Steps)


@dataclass(frozen=True)
class RunIdentity:
    """What a checkpoint must match to be resumed by a run."""

    preset: str
    seed: int
    twin: str | None
    config_sha256: str
    engine_version: str
    numpy_version: str
    llm: dict[str, str] | None  # LLM provenance (model, endpoint host, prompt version)


def config_sha256(cfg: SimConfig) -> str:
    text = json.dumps(cfg.to_json(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_identity(preset: str, seed: int, twin: str | None, cfg: SimConfig) -> RunIdentity:
    llm = None
    if getattr(cfg, "llm_mode", "off") != "off":
        llm = settings_from_env(cfg).provenance()
    return RunIdentity(preset=preset, seed=seed, twin=twin, config_sha256=config_sha256(cfg),
                       engine_version=ENGINE_VERSION, numpy_version=np.__version__, llm=llm)


@dataclass(frozen=True)
class Checkpoints:
    """Where and how often one run saves its state. `stop_after` ends the run with RunStopped
    right after that step, saving nothing more (a kill at a chosen step, for tests)."""

    directory: Path
    every: int
    identity: RunIdentity
    stop_after: int | None = None

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError("checkpoint_every must be >= 1")


def run_steps(start: Callable[[], S], steps: range, checkpoints: Checkpoints | None) -> S:
    """The state after `steps`: built by `start()` and stepped, or loaded from the newest
    checkpoint of this run and stepped from the step after it. Saves after every
    `checkpoints.every`-th step of `steps` and after its last."""
    state, first = None, steps.start
    if checkpoints is not None:
        found = load_newest(checkpoints.directory, checkpoints.identity)
        if found is not None:
            done, state = found
            first = done + 1
    if state is None:
        state = start()
    for t in range(first, steps.stop):
        state.step(t)
        if checkpoints is None:
            continue
        if (t - steps.start + 1) % checkpoints.every == 0 or t == steps.stop - 1:
            save(checkpoints.directory, checkpoints.identity, t, state)
        if t == checkpoints.stop_after:
            raise RunStopped(f"stopped after step {t}")
    return state


# Files ------------------------------------------------------------------------------------------
def save(directory: Path, identity: RunIdentity, step: int, state: object) -> Path:
    """Write the state after `step` atomically, then drop the older checkpoints."""
    directory.mkdir(parents=True, exist_ok=True)
    body = _dumps(state)
    key = os.environ.get(ENV_API_KEY, "")
    if key and key.encode("utf-8") in body:
        raise RuntimeError("refusing to write a checkpoint that contains the LLM API key")
    header = {"format": FORMAT, **dataclasses.asdict(identity), "step": step,
              "body_sha256": hashlib.sha256(body).hexdigest()}
    path = directory / f"step-{step:08d}.ckpt"
    tmp = directory / f".{path.name}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as out:
            out.write(json.dumps(header, sort_keys=True).encode("utf-8") + b"\n")
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    for older_step, older in checkpoint_files(directory):
        if older_step < step:
            older.unlink()
    return path


def checkpoint_files(directory: Path) -> list[tuple[int, Path]]:
    """(step, path) of the complete checkpoints in `directory`, oldest first."""
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir()
             if (m := _NAME.fullmatch(p.name))]
    return sorted(found)


def read_header(path: Path) -> dict[str, Any]:
    with open(path, "rb") as f:
        line = f.readline(_MAX_HEADER)
    try:
        header = json.loads(line)
    except ValueError:
        raise CheckpointMismatch(f"{path}: not a checkpoint (no JSON header)") from None
    if not isinstance(header, dict):
        raise CheckpointMismatch(f"{path}: not a checkpoint (no JSON header)")
    if header.get("format") != FORMAT:
        raise CheckpointMismatch(f"{path}: checkpoint format {header.get('format')!r}, "
                                 f"this code reads {FORMAT}")
    return header


def newest_header(directory: Path) -> dict[str, Any] | None:
    """The header of the newest checkpoint in `directory` (None: there is none)."""
    files = checkpoint_files(directory)
    return read_header(files[-1][1]) if files else None


def load_newest(directory: Path, identity: RunIdentity) -> tuple[int, Any] | None:
    """(step, state) of the newest checkpoint, if any; refuses one of another run. Leftover
    temporary files of a killed save are removed."""
    for tmp in directory.glob(".step-*.tmp") if directory.is_dir() else []:
        tmp.unlink()
    files = checkpoint_files(directory)
    if not files:
        return None
    step, path = files[-1]
    header = read_header(path)
    expected = dataclasses.asdict(identity)
    differ = [f"{k}: checkpoint {header.get(k)!r}, this run {v!r}"
              for k, v in expected.items() if header.get(k) != v]
    if differ:
        raise CheckpointMismatch(f"{path} belongs to another run ({'; '.join(differ)}); "
                                 "use another checkpoint directory or empty this one")
    with open(path, "rb") as f:
        f.readline(_MAX_HEADER)
        body = f.read()
    if hashlib.sha256(body).hexdigest() != header["body_sha256"]:
        raise CheckpointMismatch(f"{path}: body does not match its sha256 (damaged file)")
    return step, pickle.loads(body)


# Pickling without the API key -------------------------------------------------------------------
class _Pickler(pickle.Pickler):
    """Pickles an LLM mode without its client and with an empty key; refuses any other
    key-holding object."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, ArchetypeMode):
            fields = dict(vars(obj))
            del fields["client"]
            fields["settings"] = dataclasses.replace(obj.settings, api_key="")
            return _llm_mode_with_env_key, (fields,)
        if isinstance(obj, ChatClient) or (isinstance(obj, LLMSettings) and obj.api_key):
            raise TypeError(f"{type(obj).__name__} holds the LLM API key; not checkpointed")
        return NotImplemented


def _dumps(state: object) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
    return buffer.getvalue()


def _llm_mode_with_env_key(fields: dict[str, Any]) -> ArchetypeMode:
    """Unpickling: the mode as saved, its key read from the environment and its client rebuilt."""
    mode = ArchetypeMode.__new__(ArchetypeMode)
    settings = dataclasses.replace(fields["settings"], api_key=os.environ.get(ENV_API_KEY, ""))
    vars(mode).update(fields, settings=settings, client=chat_client(settings))
    return mode
