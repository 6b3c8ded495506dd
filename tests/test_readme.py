"""The README's examples run as tests: every ```python block and every command of every ```bash block.

Each example is one test named by its README line (``README.md:137``), and each is in exactly one of:

- the default suite, with small caps (:func:`quick`): training for one epoch of at most 20 steps, a few
  importance samples, a 200-example evaluation, and ``fit()`` in Python for one epoch;
- the ``slow`` suite only (``SLOW_ONLY``, with the reason), which also runs every default-suite example
  again as written, without caps;
- ``NOT_RUN_HERE``, with the reason (set-up commands that CI runs, commands needing GPUs or several machines).

A command that is none of these (not ``vaelab …`` and not listed) fails its test, as does a listed command
that is no longer in the README. Examples run in README order in one workspace per suite, laid out as
the repository is: the README's relative paths (``configs/…``, ``../shared/data``) resolve, files the README
names as the user's own (``USER_FILES``) are written first, and a Python block sees what the blocks above
it defined. A command that uses a run directory written by an earlier command is skipped when that one was
skipped (no ``../shared/data``) and fails when that one failed.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import re
import shlex
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import REPO, shared_data_dir
from helpers import vaelab

README = REPO / "README.md"
CI_SCRIPT = REPO / ".ci" / "run"
SHARED_DATA = "../shared/data"

CI_INSTALL = "python3 -m venv .venv && .venv/bin/pip install -c constraints.txt -e . && .venv/bin/vaelab train"
CI_TESTS = (
    'python3 -m venv .venv && .venv/bin/pip install -q -c constraints.txt -e ".[test]" && '
    "scripts/install-test-browser && .venv/bin/python -m pytest -q -n auto"
)
TWO_GLOO_PROCESSES = "torchrun --standalone --nproc-per-node 2 -m vaelab train --epochs 5 --out runs/ddp-cpu"
FOUR_GPUS = (
    "torchrun --standalone --nproc-per-node 4 -m vaelab train --device cuda --config configs/mnist-classic.yaml "
    "--out runs/ddp"
)
TWO_NODES = (
    "torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint HOST0:29500 --rdzv-id myrun "
    "-m vaelab train --device cuda --config configs/mnist-classic.yaml --out /shared/runs/ddp"
)

MOSES_VAE = "vaelab train --config configs/moses-smiles.yaml --data-dir ../shared/data --out runs/moses-smiles"
NOT_RUN_HERE: dict[str, str] = {
    CI_INSTALL: "set-up: a fresh venv and pip install; CI (.ci/run) runs the same install with the test extras, "
    "and `vaelab train` is the first command of the command-line block, run here",
    CI_TESTS: "set-up: CI runs exactly this command (.ci/run; checked here)",
    FOUR_GPUS: "needs 4 CUDA GPUs; the same launch on CPU processes is the gloo example below it (slow)",
    TWO_NODES: "needs two machines with 8 GPUs each (HOST0 is the first node's address); the launch on one "
    "machine is the gloo example (slow)",
    MOSES_VAE: "two hours of training on all of MOSES; bench/molecules/train_moses.py runs these settings and "
    "keeps the log and results",
}
"""Command -> why it does not run in this suite. Each must still be a README command."""

MOSES_SUBSET = "vaelab train --data moses --limit 20000 --epochs 2 --data-dir ../shared/data --out runs/moses"
MOLECULE_EVAL = "vaelab eval runs/molecules --molecules --molecule-samples 30000"
MOSES_BEAM = "vaelab sample runs/moses -n 100 --decoding beam --smiles-syntax --out mols.smi"

SLOW_ONLY: dict[str, str] = {
    TWO_GLOO_PROCESSES: "two torchrun processes on gloo, each importing torch: about 15 s on 2 cores",
    MOSES_SUBSET: "reads MOSES's 1.6M-line training file and canonicalises a 20,000-molecule subset with RDKit",
    MOLECULE_EVAL: "30,000 sampled molecules through RDKit and ChemNet: minutes on 2 cores",
    MOSES_BEAM: "decodes from the MOSES subset's model, which only the slow suite trains",
}
"""Command -> why it runs only in the ``slow`` suite (as written)."""

# --- extraction ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """One ```python block, or one command of a ```bash block (continuation lines joined, comment removed)."""

    line: int  # README line of the block's first code line, or of the command's first line
    language: str  # "python" or "bash"
    text: str

    @property
    def id(self) -> str:
        return f"README.md:{self.line}"


FENCE = re.compile(r"^(\s*)```(.*)$")


def extract(markdown: str) -> list[Example]:
    """The examples of a Markdown text, in order. Blocks in languages other than python and bash fail the
    extraction (teach this module about them); a block without a language is text (e.g. a diagram) and must
    not hold a command."""
    examples: list[Example] = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        language = opening.group(2).strip().lower()
        start = i + 2  # 1-based line of the first code line
        end = next((j for j in range(i + 1, len(lines)) if FENCE.match(lines[j])), None)
        if end is None:
            raise ValueError(f"README.md:{i + 1}: the code block is not closed")
        body = lines[i + 1 : end]
        if language == "python":
            examples.append(Example(start, "python", "\n".join(body) + "\n"))
        elif language in ("bash", "sh", "shell", "console"):
            examples.extend(bash_commands(body, start))
        elif language == "":
            commands = [text for text in body if re.match(r"\s*(vaelab|torchrun|python3?|import|from) ", text)]
            if commands:
                raise ValueError(f"README.md:{start}: a block without a language holds code: {commands[0]!r}")
        else:
            raise ValueError(
                f"README.md:{i + 1}: code block in {language!r}; tests/test_readme.py runs python and bash"
            )
        i = end + 1
    return examples


def bash_commands(body: list[str], first_line: int) -> Iterator[Example]:
    """The commands of a bash block: lines ending in a backslash continue on the next line; comments and
    blank lines are dropped."""
    pending: list[str] = []
    start = first_line
    for offset, text in enumerate(body):
        if not pending:
            start = first_line + offset
        if text.rstrip().endswith("\\"):
            pending.append(text.rstrip()[:-1].strip())
            continue
        command = strip_comment(" ".join([*pending, text.strip()])).strip()
        pending = []
        if command:
            yield Example(start, "bash", " ".join(command.split()))
    if pending:
        raise ValueError(f"README.md:{start}: the command's last line ends in a backslash")


def strip_comment(command: str) -> str:
    """``command`` without its ``# comment`` (a ``#`` outside quotes, at the start or after a blank)."""
    quote = None
    for i, char in enumerate(command):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or command[i - 1].isspace()):
            return command[:i]
    return command


def unquoted(command: str) -> str:
    """``command`` with its quoted parts removed."""
    return re.sub(r"'[^']*'|\"[^\"]*\"", "''", command)


EXAMPLES = extract(README.read_text(encoding="utf-8"))


def in_default_suite(example: Example) -> bool:
    return example.text not in NOT_RUN_HERE and example.text not in SLOW_ONLY


# --- the workspace: the repository's layout, with the user's files ------------------------------------------


def write_table(path: Path) -> None:
    """``my_table.csv``: a numeric table with an integer class column ``label`` (cvae, Gaussian likelihood)."""
    rng = np.random.default_rng(0)
    rows = [
        f"{a:.4f},{b:.4f},{c},{label}"
        for a, b, c, label in zip(
            rng.normal(size=120), rng.normal(size=120), rng.integers(0, 5, 120), rng.integers(0, 3, 120), strict=True
        )
    ]
    path.write_text("a,b,c,label\n" + "\n".join(rows) + "\n", encoding="utf-8")


def write_detection_table(path: Path) -> None:
    """``table.csv`` and ``new-rows.csv``: normal rows and a few far-off rows marked ``label`` = 1, for
    ``vaelab detect``."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 3))
    label = np.zeros(200, dtype=int)
    label[::20] = 1
    x[label == 1] += 6.0
    rows = [f"{a:.4f},{b:.4f},{c:.4f},{y}" for (a, b, c), y in zip(x, label, strict=True)]
    path.write_text("a,b,c,label\n" + "\n".join(rows) + "\n", encoding="utf-8")


def write_plant(path: Path) -> None:
    """``plant.csv``: a two-column series at 1-minute steps (columns ``t``, ``a``, ``b``) with a labelled fault
    (``fault`` = 1) near its end, for ``vaelab detect --series``."""
    t = np.arange(2000)
    a, b = np.sin(2 * np.pi * t / 60), np.cos(2 * np.pi * t / 60)
    fault = ((t >= 1800) & (t < 1810)).astype(int)
    a[fault == 1] += 3.0
    stamps = np.datetime64("2024-01-01T00:00") + t.astype("timedelta64[m]")
    rows = [f"{str(s).replace('T', ' ')},{x:.4f},{y:.4f},{f}" for s, x, y, f in zip(stamps, a, b, fault, strict=True)]
    path.write_text("t,a,b,fault\n" + "\n".join(rows) + "\n", encoding="utf-8")


def write_people(path: Path) -> None:
    """``people.csv``: a mixed table (whole numbers, a spiky amount, text with gaps, a yes/no income class)."""
    rng = np.random.default_rng(2)
    jobs = np.array(["clerk", "engineer", "nurse", "teacher"])
    rows = []
    for i in range(300):
        job = jobs[rng.integers(0, 4)]
        gain = 0 if rng.random() < 0.9 else int(rng.integers(1000, 20000))
        income = ">50K" if (job == "engineer") ^ (rng.random() < 0.2) else "<=50K"
        shown = "" if i % 17 == 0 else job
        rows.append(f"{rng.integers(18, 80)},{rng.integers(10, 60)},{shown},{gain},{income}")
    path.write_text("age,hours,job,gain,income\n" + "\n".join(rows) + "\n", encoding="utf-8")


def write_survey(path: Path) -> None:
    """``survey.csv`` and ``new.csv``: numbers and a category with empty cells, for ``vaelab impute``."""
    rng = np.random.default_rng(3)
    rows = []
    for _ in range(120):
        a = rng.normal()
        cells = [f"{a:.3f}", f"{2 * a + rng.normal(scale=0.3):.3f}", "high" if a > 0 else "low"]
        cells = ["" if rng.random() < 0.15 else cell for cell in cells]
        rows.append(",".join(cells))
    path.write_text("a,b,level\n" + "\n".join(rows) + "\n", encoding="utf-8")


def write_labelled(path: Path) -> None:
    """``labelled.csv``: two numeric columns and a class column ``kind`` left empty in most rows, for ``--model m2``."""
    rng = np.random.default_rng(5)
    rows = []
    for i in range(200):
        kind = i % 2
        a, b = rng.normal(loc=2.0 * kind, size=2)
        rows.append(f"{a:.3f},{b:.3f},{['low', 'high'][kind] if i < 20 else ''}")
    path.write_text("a,b,kind\n" + "\n".join(rows) + "\n", encoding="utf-8")


def write_images(path: Path) -> None:
    """``images.npy``: 100 binary 8 x 8 images; ``holes.npy`` beside it marks a random quadrant of every other."""
    rng = np.random.default_rng(4)
    images = (rng.random((100, 8, 8)) < 0.4).astype(np.float32)
    holes = np.zeros(images.shape, dtype=bool)
    for i in range(0, 100, 2):
        top, left = divmod(int(rng.integers(0, 4)), 2)
        holes[i, 4 * top : 4 * top + 4, 4 * left : 4 * left + 4] = True
    np.save(path, images)
    np.save(path.with_name("holes.npy"), holes)


def write_molecules(path: Path) -> None:
    """``molecules.smi``: a few small molecules, one SMILES per line, repeated so every split sees each token."""
    molecules = ["CCO", "c1ccccc1", "CC(=O)O", "CCN(CC)CC", "Clc1ccccc1", "CC(C)Br", "c1ccc2[nH]ccc2c1", "C1CCCCC1"]
    path.write_text("\n".join(molecules * 10) + "\n", encoding="utf-8")


def write_graph(path: Path) -> None:
    """``edges.csv`` and ``features.npy`` beside it: 60 nodes in three communities (denser within), each node's
    features its community's indicator and a noise column."""
    rng = np.random.default_rng(5)
    community = np.arange(60) % 3
    u, v = np.triu_indices(60, 1)
    keep = rng.random(len(u)) < np.where(community[u] == community[v], 0.3, 0.02)
    path.write_text("source,target\n" + "".join(f"{a},{b}\n" for a, b in zip(u[keep], v[keep], strict=True)))
    features = np.concatenate([np.eye(3)[community], rng.random((60, 1))], axis=1).astype(np.float32)
    np.save(path.with_name("features.npy"), features)


USER_FILES: dict[str, Callable[[Path], None]] = {
    "my_table.csv": write_table,
    "table.csv": write_detection_table,
    "new-rows.csv": write_detection_table,
    "molecules.smi": write_molecules,
    "plant.csv": write_plant,
    "people.csv": write_people,
    "survey.csv": write_survey,
    "new.csv": write_survey,
    "images.npy": write_images,
    "labelled.csv": write_labelled,
    "edges.csv": write_graph,
}
"""Files the README's commands name as the user's own -> writer of a small stand-in."""


def make_workspace(root: Path) -> Path:
    """``root/repo`` (the working directory) with the repository's ``configs/``, the user's files, and
    ``root/shared/data`` linked to the shared datasets when they are here."""
    repo = root / "repo"
    repo.mkdir(parents=True)
    (repo / "configs").symlink_to(REPO / "configs", target_is_directory=True)
    for name, write in USER_FILES.items():
        write(repo / name)
    data = shared_data_dir()
    if data is not None:
        (root / "shared").mkdir()
        (root / "shared" / "data").symlink_to(data.resolve(), target_is_directory=True)
    return repo


# --- running ---------------------------------------------------------------------------------------------


def option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args[:-1] else None


def set_option(args: list[str], name: str, value: str) -> list[str]:
    """``args`` with ``name value`` (replacing the value if ``name`` is there)."""
    if name in args[:-1]:
        i = args.index(name)
        return [*args[: i + 1], value, *args[i + 2 :]]
    return [*args, name, value]


def quick(args: list[str]) -> list[str]:
    """The default suite's caps on ``vaelab ARGS``: train one epoch of at most 20 steps without a progress
    bar, and without the report except for the plain ``vaelab train`` (``vaelab report`` writes the other
    run's); detect for one epoch (a series: the donut network, 30 steps per fit; the default GRU takes two
    minutes to score the README's 10,000 points, and ``test_series_cli`` runs it on shorter series); synth
    and impute for one epoch; evaluate 200 examples with at most 10 importance samples (link prediction: the whole
    graph). Capped so, the README's ``--resume`` asks for the same one-epoch run, which is complete: it loads the
    checkpoint and trains no further; the slow suite resumes the full run for 10 more epochs."""
    command = args[0] if args else ""
    if command == "train":
        report = [] if args == ["train"] else ["--no-report"]
        return [*set_option(args, "--epochs", "1"), "--set", "train.max_steps=20", "--no-progress", *report]
    if command == "detect" and "--model" in args:  # a saved detector scores without fitting
        return args
    if command == "detect":
        if "--series" in args:
            return set_option(set_option(args, "--steps", "30"), "--network", "donut")
        return set_option(args, "--epochs", "1")
    if command == "impute" or (command == "synth" and "--data" in args):
        return set_option(args, "--epochs", "1")  # a saved imputer ignores --epochs
    if command == "eval" and "--links" in args:  # link prediction scores the held-out pairs of the whole graph
        return args
    if command == "eval":
        samples = min(int(option(args, "--num-samples") or 10), 10)
        limit = min(int(option(args, "--limit") or 200), 200)
        return set_option(set_option(args, "--num-samples", str(samples)), "--limit", str(limit))
    return args


def capped_fit(fit: Callable[..., object]) -> Callable[..., object]:
    """``fit`` training for at most one epoch: the Python examples' cap in the default suite."""
    signature = inspect.signature(fit)

    @functools.wraps(fit)
    def fit_one_epoch(*args: object, **kwargs: object) -> object:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        settings = bound.arguments["settings"]
        bound.arguments["settings"] = dataclasses.replace(settings, epochs=min(settings.epochs, 1))  # type: ignore[type-var]
        return fit(*bound.args, **bound.kwargs)

    return fit_one_epoch


@dataclass
class Outcome:
    status: str  # "passed", "failed" or "skipped"
    message: str = ""


@dataclass
class Session:
    """The examples of one suite, run in README order in one workspace; ``run_until`` runs the examples
    before the one asked for first (once), so any selection of tests sees the same state."""

    profile: str
    root: Path
    examples: list[Example]
    outcomes: dict[int, Outcome] = field(default_factory=dict)
    namespace: dict[str, object] = field(default_factory=dict)
    runs: dict[str, int] = field(default_factory=dict)  # run directory -> line of the command that wrote it
    repo: Path | None = None

    def run_until(self, example: Example) -> Outcome:
        for earlier in self.examples:
            if earlier.line not in self.outcomes:
                self.outcomes[earlier.line] = self.run(earlier)
            if earlier == example:
                break
        return self.outcomes[example.line]

    def workspace(self) -> Path:
        if self.repo is None:
            self.repo = make_workspace(self.root)
        return self.repo

    def run(self, example: Example) -> Outcome:
        cwd = self.workspace()
        threads = torch.get_num_threads()
        try:
            with pytest.MonkeyPatch.context() as patch:
                patch.chdir(cwd)
                if example.language == "python":
                    return self.run_python(example, patch)
                return self.run_command(example)
        finally:
            torch.set_num_threads(threads)

    def run_python(self, example: Example, patch: pytest.MonkeyPatch) -> Outcome:
        import vaelab.training

        if self.profile == "quick":
            import vaelab.applications.synthetic.tabular_vae as tabular

            fit = vaelab.training.fit
            patch.setattr(vaelab.training, "fit", capped_fit(fit))
            patch.setattr(tabular, "fit", capped_fit(fit))  # TabularVAE trains through the same loop
        code = compile("\n" * (example.line - 1) + example.text, str(README), "exec")  # README line numbers
        try:
            exec(code, self.namespace)  # the blocks share one namespace, as in one session
        except Exception:
            return Outcome("failed", traceback.format_exc())
        return Outcome("passed")

    def run_command(self, example: Example) -> Outcome:
        args = shlex.split(example.text)
        if args[0] not in ("vaelab", "torchrun"):
            return Outcome("failed", f"{args[0]!r} is not a vaelab command: list it in NOT_RUN_HERE or SLOW_ONLY")
        globbed = re.search(r"[\[\]*?]", unquoted(example.text))
        if globbed:
            return Outcome(
                "failed",
                f"unquoted {globbed.group()!r}: a shell expands it as a pattern (zsh refuses an unmatched one); "
                "quote the argument",
            )
        used = [run_dir for run_dir in self.runs if run_dir in args]
        if "train" in args and (out := option(args, "--out")):
            self.runs.setdefault(out, example.line)  # before running, so that a skip is seen by its users
        for run_dir in used:
            earlier = self.outcomes[self.runs[run_dir]]
            if earlier.status != "passed":
                message = (
                    f"uses {run_dir} from README.md:{self.runs[run_dir]}, which {earlier.status}: {earlier.message}"
                )
                return Outcome(earlier.status, message)
        if SHARED_DATA in example.text and shared_data_dir() is None:
            return Outcome("skipped", f"needs {SHARED_DATA} (or VAELAB_DATA_DIR): the shared real datasets are absent")
        if args[0] == "torchrun":
            result = self.run_torchrun(args[1:])
            code, err = result.returncode, result.stdout + result.stderr
        else:
            code, _, err = vaelab(quick(args[1:]) if self.profile == "quick" else args[1:])
        if code != 0:
            hint = f" (the README's own files are written by USER_FILES: {', '.join(USER_FILES)})"
            return Outcome("failed", f"exit code {code}{hint}\n{err[-4000:]}")
        return Outcome("passed")

    def run_torchrun(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "OMP_NUM_THREADS": "1",
            "PYTHONPATH": os.pathsep.join([str(REPO / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]),
        }
        command = [sys.executable, "-m", "torch.distributed.run", *args]
        return subprocess.run(command, cwd=self.workspace(), env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Session]:
    return {
        "quick": Session(
            "quick", tmp_path_factory.mktemp("readme-quick"), [e for e in EXAMPLES if in_default_suite(e)]
        ),
        "written": Session(
            "written", tmp_path_factory.mktemp("readme-written"), [e for e in EXAMPLES if e.text not in NOT_RUN_HERE]
        ),
    }


def check(outcome: Outcome, example: Example) -> None:
    if outcome.status == "skipped":
        pytest.skip(f"{example.id}: {outcome.message}")
    assert outcome.status == "passed", f"{example.id}: {example.text}\n{outcome.message}"


# --- the tests -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", [e for e in EXAMPLES if in_default_suite(e)], ids=lambda e: e.id)
def test_readme_example_with_quick_caps(example: Example, sessions: dict[str, Session]) -> None:
    check(sessions["quick"].run_until(example), example)


@pytest.mark.slow
@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.text not in NOT_RUN_HERE], ids=lambda e: e.id)
def test_readme_example_as_written(example: Example, sessions: dict[str, Session]) -> None:
    check(sessions["written"].run_until(example), example)


@pytest.mark.parametrize("example", [e for e in EXAMPLES if e.text in NOT_RUN_HERE], ids=lambda e: e.id)
def test_readme_example_not_run_here(example: Example) -> None:
    if example.text == CI_TESTS:
        assert CI_TESTS in CI_SCRIPT.read_text(encoding="utf-8"), "README's test command and .ci/run differ"
        return
    pytest.skip(f"{example.id}: {NOT_RUN_HERE[example.text]}")


def test_every_listed_command_is_in_the_readme() -> None:
    texts = {example.text for example in EXAMPLES}
    stale = [command for command in [*NOT_RUN_HERE, *SLOW_ONLY] if command not in texts]
    assert not stale, f"listed in tests/test_readme.py but no longer in the README: {stale}"
    assert any(example.language == "python" for example in EXAMPLES)
    assert sum(example.text.startswith("vaelab ") for example in EXAMPLES) >= 10


def test_a_broken_example_fails(tmp_path: Path) -> None:
    """The harness fails what the README must not do: use a name no block above defines (a Python block once
    used ``settings`` without defining it), pass a flag vaelab does not take, or leave a pattern unquoted."""
    markdown = (
        "# t\n\n```python\nx = 1\n```\n\ntext\n\n```python\ny = x + settings\n```\n\n"
        "```bash\nvaelab env   # fine\nvaelab train --no-such-flag \\\n    --epochs 1\n"
        "vaelab train --set model.network.hidden_dims=[4]\n```\n\n```\n a ─► b\n```\n"
    )
    examples = extract(markdown)
    assert [(e.line, e.language) for e in examples] == [
        (4, "python"),
        (10, "python"),
        (14, "bash"),
        (15, "bash"),
        (17, "bash"),
    ]
    assert examples[1].text == "y = x + settings\n" and examples[2].text == "vaelab env"
    assert examples[3].text == "vaelab train --no-such-flag --epochs 1"
    session = Session("quick", tmp_path, examples)
    assert session.run_until(examples[0]).status == "passed"
    failed = session.run_until(examples[1])
    assert failed.status == "failed" and "NameError" in failed.message and "settings" in failed.message
    assert 'README.md", line 10' in failed.message  # the traceback names the README line
    assert session.run_until(examples[2]).status == "passed"
    assert session.run_until(examples[3]).status == "failed"
    assert "quote" in session.run_until(examples[4]).message
    with pytest.raises(ValueError, match="holds code"):
        extract("```\nvaelab train\n```\n")
    with pytest.raises(ValueError, match="'ruby'"):
        extract("```ruby\nputs 1\n```\n")


def test_without_the_shared_data_its_commands_and_their_users_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "shared_data_dir", lambda: None)
    examples = extract(
        "```bash\nvaelab train --data-dir ../shared/data --out runs/x\nvaelab eval runs/x\nvaelab env\n```\n"
    )
    session = Session("quick", tmp_path, examples)
    trained, evaluated, env = (session.run_until(example) for example in examples)
    assert trained.status == "skipped" and "../shared/data" in trained.message
    assert evaluated.status == "skipped" and "uses runs/x from README.md:2" in evaluated.message
    assert env.status == "passed"
