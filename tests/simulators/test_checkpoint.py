"""Checkpoint and resume (SIMULATORS.md §2 "Resumable"): a run killed at a random step and
resumed from its newest checkpoint writes exactly the tables of an uninterrupted run; a checkpoint
of another run is refused before anything in it is unpickled; the LLM API key never reaches a
checkpoint file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pipelines.cli import main
from simulators import resolve_config, simulate
from simulators.checkpoint import (
    CheckpointMismatch, Checkpoints, RunStopped, checkpoint_files, load_newest, read_header,
    run_identity, run_steps,
)
from simulators.config import ENGINE_VERSION
from simulators.output import read_society_folder
from simulators.presets import PRESETS
from simulators.runspec import run_spec_from_yaml
from tests.simulators.helpers import table_fingerprints
from tests.simulators.llm_fake_server import FakeChatServer

EVERY = 7
SMALL: dict[str, dict[str, Any]] = {
    # exposure_log_rate < 1 draws from the one generator whose state runs across steps
    "moltbook-like": {"n_agents": 80, "n_steps": 60, "exposure_log_rate": 0.5},
    "echo-chamber": {"n_agents": 60, "n_steps": 60},
    "herd-effect": {"n_agents": 80, "n_steps": 20},  # steps 1..20 after the seeding step 0
    "high-socialization": {"n_agents": 60, "n_steps": 60},
    "cascade": {"n_agents": 300, "n_steps": 120, "seed_window_steps": 60,
                "n_items_per_kind": 20},
}
KEY = "sk-observatory-checkpoint-test-91d7"


def checkpoints(preset: str, directory: Path, *, seed: int = 3, twin: str | None = None,
                stop_after: int | None = None, every: int = EVERY,
                **overrides: Any) -> tuple[Any, Checkpoints]:
    cfg = resolve_config(preset, twin=twin, **overrides)
    return cfg, Checkpoints(directory, every, run_identity(preset, seed, twin, cfg),
                            stop_after=stop_after)


def killed_at(preset: str, directory: Path, step: int, *, seed: int = 3,
              every: int = EVERY, **overrides: Any) -> None:
    """Run the preset with checkpoints until `step` is done, then stop as a kill would."""
    cfg, ck = checkpoints(preset, directory, seed=seed, stop_after=step, every=every,
                          **overrides)
    with pytest.raises(RunStopped):
        PRESETS[preset].run(cfg, seed, ck)


def saved_before(step: int, first: int, every: int = EVERY) -> int:
    """The newest checkpointed step at or before `step`."""
    return first + (step - first + 1) // every * every - 1


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []


@pytest.mark.parametrize("preset", sorted(SMALL))
def test_a_run_killed_at_a_random_step_resumes_to_the_same_tables(
    preset: str, tmp_path: Path
) -> None:
    size = SMALL[preset]
    first = 1 if preset == "herd-effect" else 0
    last = first + size["n_steps"] - 1
    kill = int(np.random.default_rng(sorted(SMALL).index(preset)).integers(first + EVERY, last))
    killed_at(preset, tmp_path, kill, **size)
    assert files_in(tmp_path) == [f"step-{saved_before(kill, first):08d}.ckpt"]

    resumed = simulate(preset, seed=3, checkpoint_dir=tmp_path, checkpoint_every=EVERY, **size)
    uninterrupted = simulate(preset, seed=3, **size)
    assert table_fingerprints(resumed) == table_fingerprints(uninterrupted)
    assert files_in(tmp_path) == [f"step-{last:08d}.ckpt"]


def test_a_resumed_run_continues_from_the_checkpoint_instead_of_starting_again(
    tmp_path: Path,
) -> None:
    size = SMALL["moltbook-like"]
    killed_at("moltbook-like", tmp_path, 30, **size)
    step, saved = load_newest(tmp_path, checkpoints("moltbook-like", tmp_path, **size)[1].identity)
    assert step == 27 and saved.actions.n > 0

    def start_again() -> Any:
        raise AssertionError("the run started from scratch")

    cfg, ck = checkpoints("moltbook-like", tmp_path, **size)
    state = run_steps(start_again, range(cfg.n_steps), ck)
    assert state.actions.n > saved.actions.n
    assert int(state.actions.view("step").max()) == cfg.n_steps - 1


def test_checkpoints_are_written_every_k_steps_and_after_the_last(tmp_path: Path) -> None:
    size = {"n_agents": 40, "n_steps": 30}
    for stop, newest in ((5, None), (6, 6), (12, 6), (13, 13), (27, 27)):
        directory = tmp_path / f"stop-{stop}"
        killed_at("moltbook-like", directory, stop, **size)
        assert [s for s, _ in checkpoint_files(directory)] == ([] if newest is None else [newest])
        assert files_in(directory) == ([] if newest is None else [f"step-{newest:08d}.ckpt"])
    full = tmp_path / "full"
    simulate("moltbook-like", seed=3, checkpoint_dir=full, checkpoint_every=EVERY, **size)
    assert files_in(full) == ["step-00000029.ckpt"]  # the older ones are replaced, no temp file
    header = read_header(full / "step-00000029.ckpt")
    assert {k: header[k] for k in ("preset", "seed", "twin", "step", "engine_version",
                                   "numpy_version", "llm")} == {
        "preset": "moltbook-like", "seed": 3, "twin": None, "step": 29,
        "engine_version": ENGINE_VERSION, "numpy_version": np.__version__, "llm": None}


def test_a_sigkill_mid_run_leaves_only_complete_checkpoints_and_resumes_exactly(
    tmp_path: Path,
) -> None:
    size = {"n_agents": 300, "n_steps": 600}
    target = int(np.random.default_rng(11).integers(40, 300))
    code = ("import sys; from simulators import simulate; "
            f"simulate('moltbook-like', seed=2, checkpoint_dir=sys.argv[1], checkpoint_every=5, "
            f"n_agents={size['n_agents']}, n_steps={size['n_steps']})")
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=root,
                            env={**os.environ, "PYTHONPATH": str(root)})
    deadline = time.monotonic() + 60
    while not any(s >= target for s, _ in checkpoint_files(tmp_path)):
        assert proc.poll() is None and time.monotonic() < deadline, "run ended before the kill"
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL

    for step, path in checkpoint_files(tmp_path):  # every file under a final name is whole
        assert read_header(path)["step"] == step >= target
    leftovers = [n for n in files_in(tmp_path) if not n.startswith("step-")]
    assert all(n.startswith(".step-") and n.endswith(".tmp") for n in leftovers)

    resumed = simulate("moltbook-like", seed=2, checkpoint_dir=tmp_path, checkpoint_every=5,
                       **size)
    assert files_in(tmp_path) == ["step-00000599.ckpt"]  # a torn temporary file is cleared
    assert table_fingerprints(resumed) == table_fingerprints(simulate("moltbook-like", seed=2,
                                                                      **size))


def rewrite_header(path: Path, body: bytes | None = None, **changes: Any) -> None:
    """The file as another engine (or a damaged disk) would have left it."""
    raw = path.read_bytes()
    line, _, rest = raw.partition(b"\n")
    header = {**json.loads(line), **changes}
    path.write_bytes(json.dumps(header).encode() + b"\n" + (rest if body is None else body))


def test_a_checkpoint_of_another_run_is_refused(tmp_path: Path) -> None:
    size = {"n_agents": 40, "n_steps": 20}
    simulate("moltbook-like", seed=3, checkpoint_dir=tmp_path, checkpoint_every=EVERY, **size)
    for kwargs, differs in (
        ({"seed": 4}, "seed: checkpoint 3, this run 4"),
        ({"seed": 3, "p_dup": 0.2}, "config_sha256"),
        ({"seed": 3, "twin": "nodup"}, "twin: checkpoint None, this run 'nodup'"),
        ({"seed": 3, "n_steps": 25, "n_agents": 40}, "config_sha256"),
    ):
        with pytest.raises(CheckpointMismatch, match=differs):
            simulate("moltbook-like", checkpoint_dir=tmp_path, **{**size, **kwargs})

    path = tmp_path / "step-00000019.ckpt"
    original = path.read_bytes()
    # Another engine or numpy: refused on the header alone, before the body is unpickled.
    for field, value in (("engine_version", "0.0.1"), ("numpy_version", "1.0.0")):
        rewrite_header(path, body=b"not a pickle", **{field: value})
        with pytest.raises(CheckpointMismatch, match=f"{field}: checkpoint '{value}'"):
            simulate("moltbook-like", seed=3, checkpoint_dir=tmp_path, **size)
        path.write_bytes(original)
    path.write_bytes(original[:-10] + bytes(10))
    with pytest.raises(CheckpointMismatch, match="does not match its sha256"):
        simulate("moltbook-like", seed=3, checkpoint_dir=tmp_path, **size)
    path.write_bytes(b"\x80\x05 a pickle without a header")
    with pytest.raises(CheckpointMismatch, match="not a checkpoint"):
        simulate("moltbook-like", seed=3, checkpoint_dir=tmp_path, **size)


def without_measurements(batch: Any) -> pd.Series:
    """Each action's info without what a run measures rather than decides (latency, cache hit,
    HTTP attempts): those differ between any two LLM runs."""
    def strip(text: object) -> object:
        if not isinstance(text, str):
            return text
        data = json.loads(text)
        if "llm" in data:
            data["llm"] = {k: v for k, v in data["llm"].items()
                           if k not in ("latency_ms", "cache_hit", "http_attempts")}
        return data

    return batch.tables["actions"]["info_json"].map(strip)


def test_llm_mode_resumes_without_the_api_key_ever_reaching_a_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    llm = {"n_agents": 60, "n_steps": 20, "activity_body_rate": 0.15, "llm_mode": "archetype"}
    with FakeChatServer() as server:
        for name, value in {"BASE_URL": server.url, "MODEL": "fake-model", "API_KEY": KEY,
                            "BACKOFF_S": 0.01}.items():
            monkeypatch.setenv(f"OBSERVATORY_LLM_{name}", str(value))
        monkeypatch.setenv("OBSERVATORY_LLM_CACHE_DIR", str(tmp_path / "cache-reference"))
        uninterrupted = simulate("moltbook-like", seed=3, **llm)

        monkeypatch.setenv("OBSERVATORY_LLM_CACHE_DIR", str(tmp_path / "cache-resumed"))
        directory = tmp_path / "checkpoints"
        killed_at("moltbook-like", directory, 12, every=5, **llm)
        saved = directory / "step-00000009.ckpt"
        assert KEY.encode() not in saved.read_bytes()
        assert read_header(saved)["llm"] == {"mode": "archetype", "model": "fake-model",
                                             "endpoint_host": "127.0.0.1",
                                             "prompt_version": "archetype-v1"}
        before = len(server.requests)
        resumed = simulate("moltbook-like", seed=3, checkpoint_dir=directory,
                           checkpoint_every=5, **llm)
        # The rebuilt client calls the endpoint for the new steps, with the key from the
        # environment.
        after = server.requests[before:]
        assert after and {r.headers.get("Authorization") for r in after} == {f"Bearer {KEY}"}
        assert KEY.encode() not in (directory / "step-00000019.ckpt").read_bytes()

        monkeypatch.setenv("OBSERVATORY_LLM_MODEL", "another-model")
        with pytest.raises(CheckpointMismatch, match="another-model"):
            simulate("moltbook-like", seed=3, checkpoint_dir=directory, **llm)

    assert (resumed.tables["actions"]["source"] == "llm").sum() > 50
    for name in uninterrupted.tables:
        if name != "actions":
            pd.testing.assert_frame_equal(resumed.tables[name], uninterrupted.tables[name])
    decided = ["agent_id", "step", "action_type", "target_id", "source"]
    pd.testing.assert_frame_equal(resumed.tables["actions"][decided],
                                  uninterrupted.tables["actions"][decided])
    pd.testing.assert_series_equal(without_measurements(resumed),
                                   without_measurements(uninterrupted))


def test_checkpoint_every_is_a_run_setting_outside_the_config() -> None:
    spec = run_spec_from_yaml("output: {exposure_log_rate: 0.5, checkpoint_every: 25}")
    assert spec.checkpoint_every == 25
    assert spec.overrides == {"exposure_log_rate": 0.5}
    assert spec.simulate_kwargs()["checkpoint_every"] == 25
    assert run_spec_from_yaml("seed: 2").checkpoint_every is None
    with pytest.raises(ValueError, match="checkpoint_every must be an integer >= 1"):
        run_spec_from_yaml("output: {checkpoint_every: 0}")


def test_the_command_line_resumes_from_the_checkpoint_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["simulate", "--preset", "herd-effect", "--seed", "2", "--agents", "50", "--steps",
            "12", "--checkpoint-dir", str(tmp_path / "ck"), "--checkpoint-every", "5"]
    assert main([*args, "--out", str(tmp_path / "first")]) == 0
    assert "resuming" not in capsys.readouterr().out
    assert main([*args, "--out", str(tmp_path / "second")]) == 0
    assert "checkpoint after step 12" in capsys.readouterr().out
    first = read_society_folder(tmp_path / "first" / "sim-herd_effect-2")
    second = read_society_folder(tmp_path / "second" / "sim-herd_effect-2")
    assert table_fingerprints(first) == table_fingerprints(second)
    with pytest.raises(SystemExit, match="another run"):
        main([*args[:4], "3", *args[5:], "--check"])
