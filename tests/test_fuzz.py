"""Property-based fuzzing (hypothesis) of every loader, config reader and model loader (issue 18,
"Reliability"): random bytes, shapes, dtypes and sizes must end in a successful load or a one-line
``UserError``: never another exception, a hang or a memory blow-up.

Each target is a strategy and a property; one test runs every target with 100 examples (reproducible:
derandomized), and the ``slow`` variant with 2,000 random ones (``pytest -m slow tests/test_fuzz.py``).
Every example runs under a limit on the address space it may add (``MEMORY_BUDGET``: a loader that
believes a size written in a file fails with MemoryError instead of swapping) and a wall-clock alarm
(``TIME_LIMIT_S``: a hang fails instead of stalling the suite). The plain tests at the end keep each bug
the fuzzing found.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import functools
import gzip
import io
import json
import math
import resource
import signal
import struct
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pydantic import BaseModel

from helpers import tiny_vae
from vaelab.applications.anomaly.table_file import read_detect_input
from vaelab.config.files import parse_assignments, read_run_config, resolve_config
from vaelab.config.schema import RunConfig
from vaelab.data.csv_table import read_csv_table
from vaelab.data.registry import load_dataset
from vaelab.errors import UserError
from vaelab.models.load import load
from vaelab.training.checkpoint import (
    CHECKPOINT_NAME,
    Progress,
    TrainingObjects,
    load_checkpoint,
    restore_training,
    save_checkpoint,
    save_training,
)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning", "ignore::UserWarning")  # numpy casts, zip names

DEFAULT_EXAMPLES = 100
SLOW_EXAMPLES = 2000
MEMORY_BUDGET = 1 << 30  # address space one example may add: far above what a file of a few KB can need
TIME_LIMIT_S = 5.0  # one example's wall-clock limit; they take milliseconds
HUGE_SIZES = (2**31, 2**32 + 1, 2**40, 2**62, 2**63 - 1, 10**30)


# --------------------------------------------------------------------------------------------- harness
class Hang(BaseException):
    """An example ran past TIME_LIMIT_S (a BaseException: code under test that catches Exception cannot hide it)."""


def _address_space() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Run one example under an address-space limit (current size + MEMORY_BUDGET) and an alarm."""

    def on_alarm(signum: int, frame: object) -> None:
        raise Hang(f"an example ran past {TIME_LIMIT_S} s")

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space() + MEMORY_BUDGET
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    previous = signal.signal(signal.SIGALRM, on_alarm)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT_S)
    start = time.perf_counter()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        signal.signal(signal.SIGALRM, previous)
    assert time.perf_counter() - start < TIME_LIMIT_S  # the alarm waits for C code (a long numpy call) to return


def user_error_or_success(call: Callable[[], Any]) -> Any:
    """``call()``'s result, or None when it raised a UserError of one non-empty line; any other exception
    (MemoryError and Hang included) propagates and fails the example."""
    with guarded():
        try:
            return call()
        except UserError as error:
            message = str(error)
            assert message.strip() and len(message.splitlines()) == 1, repr(message)
            return None


@dataclass(frozen=True)
class Target:
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], None]  # the property: one drawn example -> assertions


def run_target(target: Target, examples: int) -> None:
    options = settings(
        max_examples=examples,
        deadline=None,  # the alarm in guarded() bounds each example; timing on a shared machine varies
        database=None,
        derandomize=examples <= DEFAULT_EXAMPLES,  # the default suite is reproducible; the slow one explores
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    options(given(target.strategy)(target.check))()


# ------------------------------------------------------------------------------------------ strategies
sizes = st.one_of(st.integers(0, 4), st.sampled_from([-1, *HUGE_SIZES]))
shapes = st.lists(sizes, max_size=5).map(tuple)
json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 70000),
    st.sampled_from([-(2**63), *HUGE_SIZES]),
    st.floats(),
    st.text(max_size=12),
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,  # small trees: generating them is most of a config example's time
)
DTYPES = [
    "<f4", "<f8", ">f8", "<f2", "|u1", "|i1", "|b1", "<i8", ">i4", "<u8", "<c8", "<c16", "|O", "<U5", "|S3",
    "|V8", "<M8[s]", "<m8[D]", [("a", "<f4"), ("b", "<i2")], [("a", "|O")], "(2,)<f4", "<f16", "bogus", 7,
]  # fmt: skip


def npy_bytes(descr: object, fortran: object, shape: object, payload: bytes, version: int = 1) -> bytes:
    """An .npy file written by hand, so that the header may say anything."""
    header = f"{{'descr': {descr!r}, 'fortran_order': {fortran!r}, 'shape': {shape!r}, }}"
    header += " " * (-(len(header) + 11) % 64) + "\n"
    length = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode("latin-1") + payload


@st.composite
def hostile_npy(draw: st.DrawFn) -> bytes:
    """A well-formed .npy header declaring any dtype and shape (huge, negative, 0-d), then any payload."""
    descr = draw(st.sampled_from(DTYPES))
    shape = draw(st.one_of(shapes, st.sampled_from([(), [3, 2], "3", 5, ((1, 2),), None])))
    try:
        count = int(math.prod(shape)) * np.dtype(descr).itemsize  # type: ignore[arg-type, call-overload]
    except (TypeError, ValueError):
        count = -1
    exact = 0 <= count <= 4096
    payload = draw(st.binary(min_size=count, max_size=count) if exact and draw(st.booleans()) else st.binary())
    return npy_bytes(
        descr, draw(st.sampled_from([False, True, 1, "no"])), shape, payload, draw(st.sampled_from([1, 2]))
    )


array_dtypes = st.one_of(
    hnp.scalar_dtypes(), hnp.complex_number_dtypes(), st.sampled_from([np.dtype("f2"), np.dtype([("a", "f4")])])
)
arrays = hnp.arrays(array_dtypes, hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=3))


def saved_npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def image_like(values: st.SearchStrategy[float]) -> st.SearchStrategy[np.ndarray]:
    """(N, D), (N, H, W) or (N, C, H, W) arrays with enough rows to split, values from ``values``."""
    dims = st.sampled_from([(12, 3), (10, 2, 2), (11, 1, 2, 3), (20, 4)])
    return dims.flatmap(lambda shape: hnp.arrays(np.float64, shape, elements=values))


valid_npy = st.one_of(
    arrays.map(saved_npy),
    image_like(st.floats(-1e40, 1e40) | st.sampled_from([np.nan, np.inf, -1.0])).map(saved_npy),
    image_like(st.integers(0, 255).map(float)).map(lambda a: saved_npy(a.astype(np.uint8))),
    image_like(st.integers(-(2**40), 2**40).map(float)).map(lambda a: saved_npy(a.astype(np.int64))),
    image_like(st.booleans().map(float)).map(lambda a: saved_npy(a.astype(bool))),
)
member_names = st.sampled_from(
    ["x", "X", "y", "labels", "train", "valid", "test", "y_train", "y_valid", "y_test", "labels_train", "other"]
)


@st.composite
def zip_bytes(draw: st.DrawFn, contents: st.SearchStrategy[bytes]) -> bytes:
    """A zip archive of odd members: any names (with or without .npy), ``contents``, any compression."""
    buffer = io.BytesIO()
    compression = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for _ in range(draw(st.integers(0, 4))):
            name = draw(st.one_of(member_names.map(lambda n: f"{n}.npy"), member_names, st.text(min_size=1)))
            content = draw(contents)
            with contextlib.suppress(ValueError, UnicodeEncodeError, IndexError):  # a name zipfile refuses ("\x00")
                archive.writestr(name, content)
    data = bytearray(buffer.getvalue())
    for _ in range(draw(st.integers(0, 3)) if data else 0):  # a flipped flag, size or offset
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@st.composite
def npz_arrays(draw: st.DrawFn) -> bytes:
    """An .npz as numpy.savez writes it: data and labels (or per-split arrays) of matching or mismatched
    lengths, widths and types."""
    n = draw(st.integers(0, 14))
    width = draw(st.sampled_from([1, 1, 2, 3, 0]))
    labels = hnp.arrays(
        draw(st.sampled_from(["i8", "f8", "u1", "f4", "U2"])), draw(st.sampled_from([(n,), (n + 1,), (n, 2), ()]))
    )
    data = hnp.arrays(
        draw(st.sampled_from(["f4", "u1", "i4", "?", "c8"])), (n, width) if draw(st.booleans()) else (n, 1, width, 2)
    )
    keys = draw(st.lists(member_names, min_size=1, max_size=5, unique=True))
    members = {key: draw(labels if key.startswith(("y", "labels")) else data) for key in keys}
    buffer = io.BytesIO()
    (np.savez_compressed if draw(st.booleans()) else np.savez)(buffer, **members)  # type: ignore[operator]
    return buffer.getvalue()


cells = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats().map(repr),
    st.sampled_from(["", "nan", "NA", "null", "None", "inf", "-Infinity", "1e999", "9" * 400, "0x10", "1_0", " 3 "]),
    st.sampled_from(['"a,b"', '"unclosed', "a\nb", "\x00", "é", "\ufeff1"]),
    st.text(max_size=6),
)


@st.composite
def csv_text(draw: st.DrawFn) -> bytes:
    """A table: a header, rows (ragged at times), quoting of any kind, any encoding."""
    width = draw(st.integers(0, 4))
    header = draw(
        st.lists(
            st.one_of(st.sampled_from(["a", "b", "label", "y", "1"]), st.text(max_size=4)),
            min_size=width,
            max_size=width,
        )
    )
    rows = draw(st.lists(st.lists(cells, min_size=width, max_size=width) | st.lists(cells, max_size=6), max_size=14))
    if draw(st.booleans()):
        buffer = io.StringIO()
        writer = csv.writer(
            buffer, quoting=draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
        )
        with contextlib.suppress(csv.Error):
            writer.writerows([header, *rows])
        text = buffer.getvalue()
    else:
        text = "\n".join(",".join(row) for row in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16", "cp1252"]))
    return text.encode(encoding, errors="replace")


@st.composite
def numeric_csv(draw: st.DrawFn) -> bytes:
    """A table of numbers as vaelab trains on, with at times one odd cell (text, missing, huge, infinite)."""
    width, rows = draw(st.integers(1, 3)), draw(st.integers(8, 14))
    numbers = st.integers(-3, 9).map(str) | st.floats(-1e300, 1e300).map(repr)
    table = [[draw(numbers) for _ in range(width)] for _ in range(rows)]
    if draw(st.booleans()):
        table[draw(st.integers(0, rows - 1))][draw(st.integers(0, width - 1))] = draw(cells)
    header = ["a", "b", "label"][:width]
    return "\n".join(",".join(row) for row in [header, *table]).encode()


csv_bytes = st.one_of(
    numeric_csv(),
    numeric_csv(),
    csv_text(),
    st.binary(max_size=200),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


# ----------------------------------------------------------------------------------------- data files
splits = st.sampled_from(["train"] * 4 + ["valid", "test", "all", "bogus"])
kinds = st.sampled_from([None] * 5 + ["image", "table", "sequence"])


def check_data_file(suffix: str) -> Callable[[tuple[bytes, str, str | None, str | None]], None]:
    def check(example: tuple[bytes, str, str | None, str | None]) -> None:
        content, split, labels, kind = example
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"data{suffix}"
            path.write_bytes(content)
            dataset = user_error_or_success(lambda: load_dataset(str(path), split, None, labels, kind))
            if dataset is not None and len(dataset.x):  # what training relies on
                x = np.asarray(dataset.x)
                assert dataset.y is None or len(dataset.y) == len(x)
                if dataset.features is not None or dataset.levels is None:  # NaN marks a missing value, never inf
                    assert not np.isinf(x).any()
                else:
                    assert 0 <= x.min() <= x.max() < dataset.levels

    return check


def data_file(content: st.SearchStrategy[bytes], labels: st.SearchStrategy[str | None]) -> st.SearchStrategy[Any]:
    return st.tuples(content, splits, labels, kinds)


def check_detect_input(example: tuple[str, bytes, str | None]) -> None:
    suffix, content, labels = example
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"data{suffix}"
        path.write_bytes(content)
        user_error_or_success(lambda: read_detect_input(path, labels))


def check_csv_table(example: tuple[bytes, list[str], str | None]) -> None:
    content, categorical, flag = example
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        path.write_bytes(content)
        table = user_error_or_success(lambda: read_csv_table(path, categorical, flag))
        if table is not None:
            assert all(len(column.values) == len(table) for column in table.columns)


def idx_header(code: int, dims: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d % 2**32) for d in dims)


@st.composite
def idx_file(draw: st.DrawFn) -> bytes:
    """An IDX file: random bytes, or a header with any magic, type code and sizes (up to terabytes) and
    a payload of the declared size or not; gzipped at times."""
    code = draw(st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E, 0x00, 0xFF]))
    dims = draw(st.lists(st.one_of(st.integers(0, 5), st.sampled_from([28, 2**31, 2**32 - 1])), max_size=4).map(tuple))
    declared = math.prod(dims) * {0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}.get(code, 1)
    payload = b"\x01" * declared if declared <= 4096 and draw(st.booleans()) else draw(st.binary(max_size=64))
    magic = draw(st.sampled_from([b"", b"\x00\x00", b"\x01\x00"]))
    return draw(st.one_of(st.binary(max_size=64), st.just(magic + idx_header(code, dims)[len(magic) :] + payload)))


@st.composite
def idx_pair(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """Images (N, H, W) and N labels as published (labels up to 12), then at times one byte changed or the
    end cut off or extended."""
    n, h, w = draw(st.integers(0, 5)), draw(st.integers(0, 4)), draw(st.integers(0, 4))
    images = idx_header(0x08, (n, h, w)) + draw(st.binary(min_size=n * h * w, max_size=n * h * w))
    labels = idx_header(0x08, (n,)) + bytes(draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)))
    files = [images, labels]
    which = draw(st.integers(0, 1))
    mutation = draw(st.sampled_from(["none", "none", "byte", "cut", "extend"]))
    if mutation == "byte":
        position = draw(st.integers(0, min(15, len(files[which]) - 1)))
        files[which] = files[which][:position] + bytes([draw(st.integers(0, 255))]) + files[which][position + 1 :]
    elif mutation == "cut":
        files[which] = files[which][: draw(st.integers(0, len(files[which])))]
    elif mutation == "extend":
        files[which] += draw(st.binary(min_size=1, max_size=8))
    return files[0], files[1]


def check_idx(example: tuple[tuple[bytes, bytes], str, bool]) -> None:
    (images, labels), split, gz = example
    with tempfile.TemporaryDirectory() as folder:
        prefix = "t10k" if split == "test" else "train"
        suffix = ".gz" if gz else ""
        (Path(folder) / "mnist").mkdir()
        for name, content in (("images-idx3", images), ("labels-idx1", labels)):
            content = gzip.compress(content, compresslevel=1) if gz else content
            (Path(folder) / "mnist" / f"{prefix}-{name}-ubyte{suffix}").write_bytes(content)
        dataset = user_error_or_success(lambda: load_dataset("mnist", split, folder))
        if dataset is not None:
            assert dataset.x.ndim == 4 and len(dataset.y) == len(dataset.x)


# -------------------------------------------------------------------------------------------- configs
def _config_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += _config_keys(annotation, f"{prefix}{name}.")
        keys.append(f"{prefix}{name}")
    return keys


PART_OPTIONS = ("name", "hidden_dims", "components", "scale", "steps", "hierarchy", "min_scale")
CONFIG_KEYS = [
    *_config_keys(RunConfig),
    *(f"model.{part}.{option}" for part in ("network", "likelihood", "prior", "posterior") for option in PART_OPTIONS),
    *("model.hidden_dims", "model.conv_channels", "model.prior_components", "model.flow_steps", "model.gaussian_scale"),
    "train.epoch", "nope", "model.network.name.x", "",
]  # fmt: skip
config_values = st.one_of(
    json_values,
    st.sampled_from(["mlp", "conv", "gaussian", "vamp", "ladder", "auto", "adam", [16], [1, 1], {"name": "mog"}]),
)


@st.composite
def config_trees(draw: st.DrawFn) -> dict[str, Any]:
    """A nested config: real dotted keys (and a few wrong ones) set to any value, or random nesting."""
    tree: dict[str, Any] = {}
    for key in draw(st.lists(st.sampled_from(CONFIG_KEYS), max_size=4)):
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.get(part)
            node[part] = child = child if isinstance(child, dict) else {}
            node = child
        node[leaf] = copy.deepcopy(draw(config_values))  # sampled values are shared objects
    if draw(st.integers(0, 4)) == 0:
        tree.update(draw(st.dictionaries(st.text(max_size=6), json_values, max_size=3)))
    return tree


YAML_SNIPPETS = [
    "a: &a [1, 2]\nb: *a\n", "a: &a [*a]\n", "!!python/object:os.system {}\n", "a: !!binary aGk=\n", "{a: 1, a: 2}",
    "a: !!set {x, y}\n", "- 1\n- 2\n", "? [1, 2]\n: 3\n", "a: 1\n\tb: 2\n", "%YAML 1.1\n---\na: 1\n...\n---\nb: 2\n",
    "model: {latent_dim: 1e400}\n", "train: {epochs: .inf}\n", "a: 2001-12-14\n", "[" * 600, "[" * 600 + "]" * 600,
    "a:" + " {a:" * 500 + " 1" + "}" * 500 + "\n", "\x00", "a: 'unclosed\n", "model: !!omap [a: 1]\n",
    "model: {network: {name: mlp, x: &a [*a]}}\n", "model: {network: &n {name: mlp, n: *n}}\n",
]  # fmt: skip


def alias_bomb(levels: int, width: int) -> str:
    """Billion laughs: each level lists the previous one ``width`` times (width**levels leaves), as options
    of a part (which the config keeps as they are until the model is built)."""
    anchors = ["a0: &a0 [1]"] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return "model:\n  network:\n    name: mlp\n" + "".join(f"    {line}\n" for line in anchors)


yaml_bytes = st.one_of(
    config_trees().map(lambda tree: yaml.safe_dump(tree).encode()),
    config_trees().map(lambda tree: yaml.safe_dump(tree).encode()),
    st.sampled_from(YAML_SNIPPETS).map(str.encode),
    st.tuples(st.integers(1, 12), st.integers(2, 9)).map(lambda lw: alias_bomb(*lw).encode()),
    st.text(max_size=100).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=100),
)


def check_config_file(content: bytes) -> None:
    """``read_run_config`` is ``read_yaml`` then ``resolve_config``: one target fuzzes both."""
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "config.yaml").write_bytes(content)
        user_error_or_success(lambda: read_run_config(Path(folder)))


def check_resolve_config(layers: list[dict[str, Any]]) -> None:
    config = user_error_or_success(lambda: resolve_config(*layers))
    if config is not None:
        yaml.safe_dump(config.model_dump())  # what a run directory keeps


assignment = st.tuples(st.sampled_from(CONFIG_KEYS), st.one_of(st.text(max_size=12), config_values.map(json.dumps)))
assignment_text = st.one_of(
    assignment.map("=".join),
    assignment.map("=".join),
    assignment.map("=".join),
    st.sampled_from(
        ["=", "=1", "a", "a.=1", ".a=1", "a..b=1", " train.epochs = 3 ", "a=[", *(f"a={s}" for s in YAML_SNIPPETS)]
    ),
    st.text(max_size=20),
)


def check_assignments(items: list[str]) -> None:
    tree = user_error_or_success(lambda: parse_assignments(items))
    if tree is not None:
        check_resolve_config([tree])


# -------------------------------------------------------------------------------- saved models and checkpoints
@functools.cache
def saved_model() -> tuple[bytes, bytes]:
    """model.json and model.safetensors of a real tiny model."""
    with tempfile.TemporaryDirectory() as folder:
        tiny_vae().save(folder)
        return (Path(folder) / "model.json").read_bytes(), (Path(folder) / "model.safetensors").read_bytes()


@functools.cache
def saved_checkpoint() -> bytes:
    """A checkpoint as the trainer writes it after an optimizer step: weights, Adam's state, the learning-rate
    schedule, random states, progress with best weights, history."""
    objects = training_objects()
    adam = objects.optimizer.state_dict()  # Adam's state as after a step (a real step imports torch._dynamo: 2 s)
    for index, weight in enumerate(objects.model.parameters()):
        adam["state"][index] = {"step": torch.tensor(1.0), "exp_avg": weight.detach(), "exp_avg_sq": weight.detach()}
    objects.optimizer.load_state_dict(adam)
    progress = Progress(1, 3, 1.5, 1, objects.model.state_dict(), [{"epoch": 1, "loss": 2.0}], False)
    with tempfile.TemporaryDirectory() as folder:
        save_training(Path(folder) / CHECKPOINT_NAME, objects, progress)
        return (Path(folder) / CHECKPOINT_NAME).read_bytes()


def training_objects(**model: Any) -> TrainingObjects:
    """A run's objects as the trainer makes them (fp32, no discriminator), for a tiny model."""
    vae = tiny_vae(**model)
    optimizer = torch.optim.Adam(vae.parameters())
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    return TrainingObjects(
        vae, optimizer, schedule, torch.amp.GradScaler("cpu", enabled=False), torch.Generator(), None
    )


def paths_in(tree: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys and indices) into a JSON tree, the root included."""
    children: Any = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else ()
    return [prefix, *(p for key, value in children for p in paths_in(value, (*prefix, key)))]


def mutate_json(draw: st.DrawFn, tree: Any, values: st.SearchStrategy[Any]) -> Any:
    """``tree`` with one to three subtrees replaced, deleted or given a new key."""
    tree = json.loads(json.dumps(tree))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths_in(tree)))
        if not path:
            return copy.deepcopy(draw(values))  # sampled values are shared objects: never mutate one
        parent = functools.reduce(lambda node, key: node[key], path[:-1], tree)
        operation = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if operation == "replace":
            parent[path[-1]] = copy.deepcopy(draw(values))
        elif operation == "delete":
            del parent[path[-1]]
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(st.text(max_size=8))] = copy.deepcopy(draw(values))
    return tree


PART_NAMES = ["mlp", "conv", "gaussian", "logistic", "categorical", "vamp", "mog", "ladder", "iaf", "x"]
option_values = json_leaves | st.lists(st.integers(-1, 70000), max_size=4)
spec_values = st.one_of(
    json_values,
    st.sampled_from([[1, 4, 4], [1, 100000, 100000], [3, 64, 64], [2**40], [0], [-4], [16] * 4000, [65536] * 8]),
    st.fixed_dictionaries(
        {"name": st.sampled_from(PART_NAMES)}, optional={option: option_values for option in PART_OPTIONS[1:]}
    ),
)


@st.composite
def model_json(draw: st.DrawFn) -> bytes:
    header = json.loads(saved_model()[0])
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(st.binary(max_size=100))
    if choice == 1:
        return saved_model()[0][: draw(st.integers(0, len(saved_model()[0])))]
    return json.dumps(mutate_json(draw, header, spec_values)).encode()


SAFETENSORS_DTYPES = [
    "F32",
    "F16",
    "BF16",
    "F64",
    "I64",
    "I32",
    "I16",
    "I8",
    "U8",
    "BOOL",
    "F8_E4M3",
    "C64",
    "U64",
    "XX",
]
tensor_fields = st.fixed_dictionaries(
    {},
    optional={
        "dtype": st.sampled_from(SAFETENSORS_DTYPES) | json_leaves,
        "shape": shapes.map(list) | json_values,
        "data_offsets": st.lists(st.integers(-1, 5000) | st.sampled_from(HUGE_SIZES), max_size=3) | json_values,
    },
)


@st.composite
def mutated_safetensors(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` with its header's entries (dtype, shape, offsets, metadata) or its bytes mutated."""
    size = int.from_bytes(original[:8], "little")
    header, body = json.loads(original[8 : 8 + size]), original[8 + size :]
    choice = draw(st.integers(0, 5))
    if choice == 0:  # flip bytes
        content = bytearray(original)
        for _ in range(draw(st.integers(1, 8))):
            content[draw(st.integers(0, len(content) - 1))] = draw(st.integers(0, 255))
        return bytes(content)
    if choice == 1:  # truncate or extend
        return original[: draw(st.integers(0, len(original)))] + draw(st.binary(max_size=16))
    if choice == 2:  # a wrong header length
        length = draw(st.sampled_from([0, 1, size - 1, size + 1, len(original), *HUGE_SIZES[:-1]]))
        return struct.pack("<Q", length) + original[8:]
    if choice == 3:  # one tensor's entry rewritten
        name = draw(st.sampled_from(sorted(k for k in header if k != "__metadata__")))
        header[name] = {**header[name], **draw(tensor_fields)}
    elif choice == 4:  # the metadata: the checkpoint's skeleton mutated, or replaced
        metadata = header.get("__metadata__") or {}
        if "vaelab.checkpoint" in metadata and draw(st.booleans()):
            skeleton = json.loads(metadata["vaelab.checkpoint"])
            keys = st.sampled_from(sorted(k for k in header if k != "__metadata__")) | st.text(max_size=5)
            values = json_values | st.builds(lambda key: {"__tensor__": key}, keys | json_values)
            metadata["vaelab.checkpoint"] = json.dumps(mutate_json(draw, skeleton, values))
        else:
            metadata = draw(
                st.dictionaries(
                    st.sampled_from(["vaelab.checkpoint", "format", "x"]), st.text(max_size=10) | json_values
                )
            )
        header["__metadata__"] = metadata
    else:  # the whole header mutated as JSON
        header = mutate_json(draw, header, json_values | tensor_fields)
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + body


def check_model(example: tuple[bytes, bytes]) -> None:
    header, weights = example
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "model.json").write_bytes(header)
        (Path(folder) / "model.safetensors").write_bytes(weights)
        model = user_error_or_success(lambda: load(folder))
        if model is not None:
            with torch.no_grad():
                model.sample(2)


def check_checkpoint(content: bytes) -> None:
    """load_checkpoint, then (when it reads) restore_training into a fresh run of the same model, as --resume."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / CHECKPOINT_NAME
        path.write_bytes(content)
        if user_error_or_success(lambda: load_checkpoint(path)) is not None:
            user_error_or_success(lambda: restore_training(path, training_objects()))


# ------------------------------------------------------------------------------------------- the fuzzing
npy_labels = st.sampled_from([None] * 4 + ["y"])
npz_labels = st.sampled_from([None, None, "y", "labels", "nope"])
csv_labels = st.sampled_from([None, None, "label", "a", "nope"])
few_bytes = st.binary(max_size=300)
categorical = st.sampled_from([[], [], ["a"], ["b", "label"], ["zz"]])
idx_splits = st.sampled_from(["test"] * 3 + ["train", "valid"])
# the saved files are made on first use, not at import: st.deferred
weights_mutated = st.deferred(lambda: mutated_safetensors(saved_model()[1]))
TARGETS: dict[str, Target] = {
    "npy-bytes": Target(data_file(few_bytes | zip_bytes(st.binary(max_size=64)), npy_labels), check_data_file(".npy")),
    "npy-header": Target(data_file(hostile_npy(), npy_labels), check_data_file(".npy")),
    "npy-array": Target(data_file(valid_npy, npy_labels), check_data_file(".npy")),
    "npz-bytes": Target(
        data_file(few_bytes | zip_bytes(valid_npy | hostile_npy() | st.binary(max_size=64)), npz_labels),
        check_data_file(".npz"),
    ),
    "npz-arrays": Target(data_file(npz_arrays(), npz_labels), check_data_file(".npz")),
    "csv": Target(data_file(csv_bytes, csv_labels), check_data_file(".csv")),
    "csv-table": Target(st.tuples(csv_bytes, categorical, st.sampled_from([None, "--categorical"])), check_csv_table),
    "detect-input": Target(
        st.one_of(
            st.tuples(st.just(".npy"), few_bytes | hostile_npy() | valid_npy | zip_bytes(valid_npy), npy_labels),
            st.tuples(st.just(".npz"), npz_arrays() | zip_bytes(valid_npy | hostile_npy()), npz_labels),
            st.tuples(st.just(".csv"), csv_bytes, csv_labels),
        ),
        check_detect_input,
    ),
    "idx": Target(st.tuples(idx_pair() | st.tuples(idx_file(), idx_file()), idx_splits, st.booleans()), check_idx),
    "config-file": Target(yaml_bytes, check_config_file),
    "resolve-config": Target(st.lists(config_trees(), min_size=1, max_size=3), check_resolve_config),
    "set-assignments": Target(st.lists(assignment_text, max_size=4), check_assignments),
    "model-json": Target(model_json().map(lambda header: (header, saved_model()[1])), check_model),
    "model-weights": Target(weights_mutated.map(lambda weights: (saved_model()[0], weights)), check_model),
    "checkpoint": Target(st.deferred(lambda: mutated_safetensors(saved_checkpoint())), check_checkpoint),
}


@pytest.mark.parametrize("examples", [DEFAULT_EXAMPLES, pytest.param(SLOW_EXAMPLES, marks=pytest.mark.slow)])
@pytest.mark.parametrize("target", TARGETS)
def test_fuzz(target: str, examples: int) -> None:
    run_target(TARGETS[target], examples)


# ------------------------------------------------------------------------- the bugs the fuzzing found
def refused(call: Callable[[], Any]) -> str:
    """The one-line UserError message ``call()`` ends in (under the memory and time guard)."""
    with guarded(), pytest.raises(UserError) as caught:
        call()
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    return message


@pytest.mark.parametrize(
    "reader", [lambda path: load_dataset(str(path)), read_detect_input], ids=["load_dataset", "read_detect_input"]
)
def test_an_npz_archive_named_npy(tmp_path: Path, reader: Callable[[Path], Any]) -> None:
    np.savez(tmp_path / "data.npz", x=np.zeros((12, 2)))
    (tmp_path / "data.npz").rename(tmp_path / "data.npy")  # numpy.load returned the archive: AttributeError
    assert "is an .npz archive, not a single .npy array" in refused(lambda: reader(tmp_path / "data.npy"))


@pytest.mark.parametrize("shape", [(10**30,), (-1, 2**31)])
def test_an_npy_header_with_an_absurd_shape(tmp_path: Path, shape: tuple[int, ...]) -> None:
    (tmp_path / "data.npy").write_bytes(npy_bytes("<f4", False, shape, b""))  # numpy raised OverflowError
    assert "cannot read it as .npy" in refused(lambda: load_dataset(str(tmp_path / "data.npy")))


# (2**40, 8): numpy allocated the declared 64 TiB first (MemoryError); (-1, 4): a negative size must not read all
@pytest.mark.parametrize("shape", [(2**40, 8), (-1, 4)])
def test_an_npz_member_declaring_more_than_it_holds(tmp_path: Path, shape: tuple[int, ...]) -> None:
    with zipfile.ZipFile(tmp_path / "data.npz", "w") as archive:
        archive.writestr("x.npy", npy_bytes("<f8", False, shape, b"\0" * 64))
    message = refused(lambda: load_dataset(str(tmp_path / "data.npz")))
    assert "cannot read array 'x' (its header declares" in message


def test_an_encrypted_npz_member(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "data.npz", "w") as archive:
        archive.writestr("x.npy", saved_npy(np.zeros((12, 2))))
    data = bytearray((tmp_path / "data.npz").read_bytes())
    data[data.find(b"PK\x01\x02") + 8] |= 1  # the central directory's "encrypted" flag: zipfile's RuntimeError
    (tmp_path / "data.npz").write_bytes(data)
    assert "array 'x' is encrypted" in refused(lambda: load_dataset(str(tmp_path / "data.npz")))


@pytest.mark.parametrize("compression", [zipfile.ZIP_DEFLATED, zipfile.ZIP_LZMA], ids=["deflate", "lzma"])
def test_a_damaged_compressed_npz_member(tmp_path: Path, compression: int) -> None:
    with zipfile.ZipFile(tmp_path / "data.npz", "w", compression) as archive:
        archive.writestr("x.npy", saved_npy(np.arange(24.0).reshape(12, 2)))
    data = bytearray((tmp_path / "data.npz").read_bytes())
    start = data.find(b"x.npy") + 5 + 20  # inside the compressed stream, which follows the member's name
    data[start : start + 4] = b"\xff" * 4  # zlib.error, LZMAError before
    (tmp_path / "data.npz").write_bytes(data)
    assert "cannot read array 'x'" in refused(lambda: load_dataset(str(tmp_path / "data.npz")))


def test_a_gzipped_idx_file_that_expands_to_gigabytes(tmp_path: Path) -> None:
    folder = tmp_path / "mnist"
    folder.mkdir()
    (folder / "t10k-labels-idx1-ubyte").write_bytes(idx_header(0x08, (1,)) + b"\0")
    megabyte = gzip.compress(b"\0" * (1 << 20))
    bomb = gzip.compress(idx_header(0x08, (1, 1, 1)) + b"\0") + megabyte * 2048  # 2 GB from 2 MB
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(bomb)  # gzip.decompress expanded it all: MemoryError
    assert "trailing bytes" in refused(lambda: load_dataset("mnist", "test", tmp_path))


def test_a_csv_header_with_a_line_break_in_a_name(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes(b"a\x0bb,c\n1,2\n")  # the name broke the message's line
    message = refused(lambda: load_dataset(str(tmp_path / "t.csv"), labels="label"))
    assert "(columns: 'a\\x0bb', c)" in message


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[" * 1000, "nests lists or mappings too deeply"),  # RecursionError
        (alias_bomb(12, 9), "expands to more than 100,000 values"),  # 9**12 values: validation never ended
        ("model: {network: {name: mlp, x: &a [*a]}}\n", "expands to more than 100,000 values"),
    ],
)
def test_config_files_that_nest_or_expand_without_end(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "config.yaml").write_text(text, encoding="utf-8")
    assert needle in refused(lambda: read_run_config(tmp_path))


def test_set_values_that_nest_or_expand_without_end() -> None:
    assert parse_assignments(["data.name=" + "[" * 1000]) == {"data": {"name": "[" * 1000}}  # not YAML: the text
    assert "--set model.network.x expands" in refused(lambda: parse_assignments(["model.network.x=&a [*a]"]))


def test_a_layer_whose_model_is_not_a_section() -> None:
    config = resolve_config({"model": 5}, {"model": {"network": {"name": "mlp"}}})  # AttributeError before
    assert config.model.network.name == "mlp"


def damaged_spec(tmp_path: Path, **fields: Any) -> Path:
    """A saved tiny model whose spec has ``fields`` (``model_<name>`` for the spec's model section)."""
    header_bytes, weights = saved_model()
    header = json.loads(header_bytes)
    for name, value in fields.items():
        section = header["spec"]["model"] if name.startswith("model_") else header["spec"]
        section[name.removeprefix("model_")] = value
    (tmp_path / "model.json").write_text(json.dumps(header), encoding="utf-8")
    (tmp_path / "model.safetensors").write_bytes(weights)
    return tmp_path


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"model_network": {"name": "mlp", "hidden_dims": [65536] * 3}}, "describes a model of more than"),
        ({"data_shape": [1, 3000, 3000]}, "describes a model of more than"),  # 576 MB allocated, then a mismatch
        ({"data_shape": [1, 10**5, 10**5]}, "bad config value for data_shape"),
        ({"data_shape": [-1, 4, 4]}, "bad config value for data_shape.0"),  # RuntimeError from torch
        ({"num_classes": 10**12}, "bad config value for num_classes"),  # 64 TB one-hot weights
        ({"model_prior": {"name": "vamp", "components": 65536}, "data_shape": [3, 512, 512]}, "more than"),
        ({"model_network": {"name": "mlp", "hidden_dims": [16] * 20000}}, "at most 256 items"),  # 20,000 layers built
        ({"model_posterior": {"name": "iaf", "steps": 10**6}}, "less than or equal to 256"),  # never finished
        ({"model_\r": None}, "bad config value for '\\r': Extra inputs"),  # the key broke the message's line
    ],
)
def test_model_specs_that_ask_for_too_much(tmp_path: Path, fields: dict[str, Any], needle: str) -> None:
    assert needle in refused(lambda: load(damaged_spec(tmp_path, **fields)))


def test_a_checkpoint_whose_skeleton_names_missing_tensors(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.safetensors"
    for reference in ("s.nowhere", [1]):  # KeyError, TypeError (unhashable) before
        state = {"model": {"w": torch.zeros(2)}}
        save_checkpoint(path, state)
        original = path.read_bytes()
        size = int.from_bytes(original[:8], "little")
        header = json.loads(original[8 : 8 + size])
        header["__metadata__"]["vaelab.checkpoint"] = json.dumps({"model": {"w": {"__tensor__": reference}}})
        encoded = json.dumps(header).encode()
        path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + original[8 + size :])
        assert "refers to a tensor" in refused(lambda: load_checkpoint(path))


def test_resuming_with_another_model_or_a_checkpoint_lacking_a_part(tmp_path: Path) -> None:
    path = tmp_path / CHECKPOINT_NAME
    path.write_bytes(saved_checkpoint())
    other = training_objects(data_shape=(1, 5, 5))  # load_state_dict's RuntimeError, many lines, before
    assert "does not fit this run (size mismatch for" in refused(lambda: restore_training(path, other))
    save_checkpoint(path, {"model": training_objects().model.state_dict()})  # KeyError before
    assert "does not fit this run (it has no 'optimizer')" in refused(
        lambda: restore_training(path, training_objects())
    )
