"""A run directory has one writer at a time, says what it holds, cleans what killed writes left, and
a resumed run applies and records what it may change and refuses the rest; a diverging run and a failed
write end with one line and keep the last good checkpoint."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import failure_line, run_cli, tiny_vae
from test_training import SETTINGS, binary_data
from vaelab.atomic import atomic_write_text
from vaelab.config.presets import PRESETS
from vaelab.errors import UserError
from vaelab.objectives import ELBO
from vaelab.training import TrainingDiverged, TrainSettings, fit
from vaelab.training.checkpoint import CHECKPOINT_NAME, load_checkpoint
from vaelab.training.run_directory import LOCK_NAME, RunDirectory, RunState, run_state

TRAIN = ["train", "--epochs", "2", "--hidden-dims", "8", "--latent-dim", "2", "--no-progress", "--no-report"]


# ------------------------------------------------------------------------------------------- the lock


def test_a_second_writer_is_refused_while_the_first_holds_the_directory(tmp_path: Path) -> None:
    refused = pytest.raises(UserError, match=rf"another vaelab process \(pid {os.getpid()}\) is writing to")
    # flock belongs to an open file, so a second claim in this process is refused as another process's is
    with RunDirectory.claim(tmp_path / "run", resume=False), refused:
        RunDirectory.claim(tmp_path / "run", resume=False)
    with RunDirectory.claim(tmp_path / "run", resume=False):  # released on exit
        pass
    assert not (tmp_path / "run" / LOCK_NAME).exists()


def test_a_lock_file_left_by_a_dead_process_is_stale_and_taken(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (run / LOCK_NAME).write_text(dead.stdout.strip())  # as a process killed while holding the lock leaves it
    with RunDirectory.claim(run, resume=False):
        assert (run / LOCK_NAME).read_text() == str(os.getpid())


def test_claiming_removes_the_temporary_files_of_killed_writes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    orphan = run / ".checkpoint.safetensors.abc123.tmp"
    orphan.write_bytes(b"\0" * 1000)
    with RunDirectory.claim(run, resume=False):
        assert not orphan.exists()


def test_a_refused_claim_leaves_no_folder_behind(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="nothing to resume"):
        RunDirectory.claim(tmp_path / "new", resume=True)
    assert not (tmp_path / "new").exists()


def test_out_naming_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match="is a file, not a folder"):
        RunDirectory.claim(tmp_path / "file", resume=False)


# ----------------------------------------------------------------------------------- what a folder holds


def test_run_state_tells_empty_started_checkpointed_and_foreign_folders(tmp_path: Path) -> None:
    assert run_state(tmp_path / "missing") is RunState.EMPTY
    (tmp_path / LOCK_NAME).write_text("1")
    (tmp_path / ".config.yaml.x.tmp").write_text("")
    assert run_state(tmp_path) is RunState.EMPTY
    (tmp_path / "config.yaml").write_text("{}")
    assert run_state(tmp_path) is RunState.STARTED
    (tmp_path / CHECKPOINT_NAME).write_bytes(b"")
    assert run_state(tmp_path) is RunState.CHECKPOINTED
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert run_state(other) is RunState.FOREIGN
    with pytest.raises(UserError, match="holds other files and no vaelab run"):
        RunDirectory.claim(other, resume=False)
    assert (other / "notes.txt").read_text() == "mine"


def test_a_run_stopped_before_its_first_checkpoint_starts_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for resume in (False, True):
        run = tmp_path / f"run-{resume}"
        run.mkdir()
        # what a run killed (or diverged, or out of disk) in its first epoch leaves: its config, a partial write
        (run / "config.yaml").write_text(yaml.safe_dump({"train": {"epochs": 2}}))
        (run / ".checkpoint.safetensors.k1.tmp").write_bytes(b"\0" * 100)
        code, _, err = run_cli([*TRAIN, "--out", str(run), *(["--resume"] if resume else [])], capsys, monkeypatch)
        assert code == 0, err
        assert "stopped before its first checkpoint: starting it again from the beginning" in err
        assert not list(run.glob("*.tmp")) and (run / "model.safetensors").is_file()
        assert [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2]


# -------------------------------------------------------------------------------- resuming with changes


def test_resume_applies_a_new_learning_rate_and_records_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    assert run_cli([*TRAIN, "--lr", "0.002", "--out", str(run)], capsys, monkeypatch)[0] == 0
    code, _, err = run_cli(
        [*TRAIN, "--epochs", "3", "--lr", "0.0005", "--out", str(run), "--resume"], capsys, monkeypatch
    )
    assert code == 0, err
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert records[2]["changed_on_resume"] == {"lr": [0.002, 0.0005], "epochs": [2, 3]}
    assert records[2]["lr"] == pytest.approx(0.0005) and records[1]["lr"] == pytest.approx(0.002)
    assert "changed_on_resume" not in records[1]
    state = load_checkpoint(run / CHECKPOINT_NAME)
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(0.0005)
    stored = yaml.safe_load((run / "config.yaml").read_text())
    assert stored["train"]["lr"] == 0.0005 and stored["train"]["epochs"] == 3


def test_resume_may_change_how_the_machine_computes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    assert run_cli([*TRAIN, "--out", str(run)], capsys, monkeypatch)[0] == 0
    change = ["--set", "train.matmul_precision=medium", "--set", "train.flush_subnormals=false"]
    code, _, err = run_cli([*TRAIN, "--epochs", "3", "--out", str(run), "--resume", *change], capsys, monkeypatch)
    assert code == 0, err
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    # the process-wide subnormal mode is the run's own business, not a setting of the trained run
    assert records[2]["changed_on_resume"] == {"epochs": [2, 3], "matmul_precision": ["highest", "medium"]}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (["--batch-size", "64"], "train.batch_size"),
        (["--latent-dim", "3"], "model.latent_dim"),
        (["--beta", "2"], "objective.beta"),
    ],
)
def test_resume_refuses_a_change_that_makes_another_run_and_records_nothing(
    change: list[str], key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    assert run_cli([*TRAIN, "--epochs", "1", "--out", str(run)], capsys, monkeypatch)[0] == 0
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    code, _, err = run_cli([*TRAIN, "--out", str(run), "--resume", *change], capsys, monkeypatch)
    assert code == 1 and err.count("\n") == 1
    assert f"--resume cannot change {key}" in err
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_a_run_stopped_by_its_budget_goes_on_when_resumed_with_a_longer_one(tmp_path: Path) -> None:
    short = TrainSettings(**{**SETTINGS.__dict__, "max_steps": 10})
    fit(tiny_vae(), ELBO(), binary_data(), None, short, run_dir=tmp_path)
    result = fit(tiny_vae(), ELBO(), binary_data(), None, SETTINGS, run_dir=tmp_path, resume=True)
    assert [r["epoch"] for r in result.history] == [1, 2, 3, 4]
    assert result.history[2]["changed_on_resume"] == {"max_steps": [10, None]}
    same = fit(tiny_vae(), ELBO(), binary_data(), None, SETTINGS, run_dir=tmp_path, resume=True)
    assert len(same.history) == 4  # resumed again unchanged: the run is complete


def test_the_trainer_refuses_a_changed_seed_on_resume(tmp_path: Path) -> None:
    fit(tiny_vae(), ELBO(), binary_data(), None, TrainSettings(**{**SETTINGS.__dict__, "epochs": 1}), run_dir=tmp_path)
    reseeded = TrainSettings(**{**SETTINGS.__dict__, "seed": 5})
    with pytest.raises(UserError, match=r"--resume cannot change seed \(0 in the run, 5 now\)"):
        fit(tiny_vae(), ELBO(), binary_data(), None, reseeded, run_dir=tmp_path, resume=True)


# ----------------------------------------------------------------------------------------- divergence


def test_a_diverging_run_is_stopped_though_its_loss_stays_finite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    code, _, err = run_cli([*TRAIN, "--epochs", "3", "--lr", "1e6", "--out", str(run)], capsys, monkeypatch)
    error = failure_line(err)
    assert code == 1 and "training diverged in epoch 1" in error and "--lr" in error
    assert not (run / "model.safetensors").exists()


def test_the_guard_watches_the_bound_not_the_scheduled_loss() -> None:
    """β = 0 makes the loss the reconstruction term alone while the KL grows freely: no false alarm."""
    result = fit(tiny_vae(), ELBO(), binary_data(), None, SETTINGS, schedules={"beta": lambda step: 0.0})
    assert len(result.history) == SETTINGS.epochs


def test_the_guard_raises_when_the_bound_falls_a_thousandfold(tmp_path: Path) -> None:
    """Adam moves every weight by about the learning rate per step: at 10⁴ the logits are huge and confidently
    wrong, so the bound falls by orders of magnitude while staying finite."""
    fit(tiny_vae(), ELBO(), binary_data(), None, TrainSettings(**{**SETTINGS.__dict__, "epochs": 1}), run_dir=tmp_path)
    initial = load_checkpoint(tmp_path / CHECKPOINT_NAME)["initial_elbo"]
    assert -20 < initial < -5  # 16 Bernoulli pixels at the start: about 16 log 2 nats plus a small KL
    huge_steps = TrainSettings(**{**SETTINGS.__dict__, "lr": 1e4, "log_every": 2})
    with pytest.raises(TrainingDiverged, match=r"epoch 2: the bound fell from -1\d\.\d+ nats per example at the start"):
        fit(tiny_vae(), ELBO(), binary_data(), None, huge_steps, run_dir=tmp_path, resume=True)
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["epoch"] == 1  # the last good checkpoint is kept


@pytest.mark.slow
@pytest.mark.parametrize("preset", list(PRESETS))
def test_no_shipped_preset_sets_off_the_guard_in_a_full_default_run(
    preset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every preset at its defaults (sizes, warm-ups, capacity ramps, discriminators) for the default length
    on digits: the guard stays quiet and the bound ends better than it started."""
    run = tmp_path / "run"
    code, _, err = run_cli(
        ["train", "--model", preset, "--no-progress", "--no-report", "--out", str(run)], capsys, monkeypatch
    )
    assert code == 0, err
    state = load_checkpoint(run / CHECKPOINT_NAME)
    assert state["history"][-1]["train"]["elbo"] > state["initial_elbo"]


# -------------------------------------------------------------------------------------- failed writes


def test_a_failed_write_is_one_line_naming_the_file_and_keeps_the_old_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "config.yaml"
    atomic_write_text(target, "old")

    def full_disk(self: Path, *args: object, **kwargs: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full_disk)
    with pytest.raises(UserError, match=r"could not write .*config.yaml: No space left on device; free some disk"):
        atomic_write_text(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["config.yaml"]


TMPFS_SCRIPT = """
import subprocess, sys
mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", sys.argv[1]], capture_output=True)
if mount.returncode:
    sys.exit(77)
run = subprocess.run([sys.executable, "-m", "vaelab", *sys.argv[2:], "--out", sys.argv[1] + "/run"],
                     capture_output=True, text=True)
listing = subprocess.run(["ls", "-A", sys.argv[1] + "/run"], capture_output=True, text=True).stdout.split()
print(run.returncode, " ".join(listing))
print(run.stderr, end="")
"""


def test_a_full_disk_while_checkpointing_is_one_line_and_leaves_no_partial_file(tmp_path: Path) -> None:
    """On a 600 kB tmpfs (a private mount namespace, where the machine allows one) the config fits and the
    first checkpoint does not."""
    if shutil.which("unshare") is None:
        pytest.skip("needs util-linux's unshare to mount a small tmpfs")
    folder = tmp_path / "small"
    folder.mkdir()
    args = ["train", "--epochs", "2", "--hidden-dims", "256", "--no-progress", "--no-report"]
    done = subprocess.run(
        ["unshare", "-rm", sys.executable, "-c", TMPFS_SCRIPT, str(folder), *args], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"this machine does not allow a private tmpfs mount: {done.stderr.strip()[-200:]}")
    status, _, rest = done.stdout.partition("\n")
    code, *files = status.split()
    assert code == "1", done.stdout
    assert "No space left on device; free some disk space" in failure_line(rest), rest
    assert files == ["config.yaml"]  # no half-written checkpoint, no temporary file, no lock file
