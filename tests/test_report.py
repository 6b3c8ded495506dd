"""The HTML report (``vaelab report``), latent traversals (``vaelab traverse``) and their mathematics, and a
check that a real browser (headless Chromium) renders the report with every image decoded."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from matplotlib import image as mpimg
from torch import nn
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

from helpers import tiny_vae
from vaelab.applications.traversal import order_by_kl, traversal_codes, traverse
from vaelab.cli.main import main
from vaelab.config.build import build_model, model_spec
from vaelab.config.schema import ModelConfig
from vaelab.data.batch import Batch
from vaelab.data.dataset import ArrayDataset
from vaelab.errors import UserError
from vaelab.report.analysis import mean_kl_per_dimension, project_2d
from vaelab.report.build import write_report
from vaelab.report.html import Image, Page, Section, Table, render
from vaelab.report.pictures import latent_grid_images
from vaelab.report.run_files import best_epoch
from vaelab.report.run_sections import format_value

FAST = ["--epochs", "2", "--hidden-dims", "32", "--no-progress"]
DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
SECTIONS = (
    "training",
    "metrics",
    "reconstructions",
    "samples",
    "interpolations",
    "inpainting",
    "latent",
    "kl",
    "traversals",
    "elbo",
)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str] | None = None) -> tuple[int, str, str]:
    """Run ``vaelab ARGS`` in-process through the real entry point; return (exit code, stdout, stderr)."""
    code = 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["vaelab", *args])
        try:
            main()
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    if capsys is None:
        return code, "", ""
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-D latent digits run trained through ``vaelab train``, which writes the report at the end."""
    run_dir = tmp_path_factory.mktemp("runs") / "digits"
    code, _, _ = run_cli(["train", *FAST, "--latent-dim", "2", "--kl-schedule", "linear", "--out", str(run_dir)])
    assert code == 0
    return run_dir


@pytest.fixture(scope="module")
def table_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run on a labelled table (not images) with a 3-D latent space."""
    folder = tmp_path_factory.mktemp("table")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=300)
    x = (rng.normal(size=(300, 6)) + y[:, None]).astype(np.float32)
    np.savez(folder / "table.npz", x=x, y=y)
    run_dir = folder / "run"
    code, _, _ = run_cli(
        ["train", *FAST, "--latent-dim", "3", "--data", str(folder / "table.npz"), "--out", str(run_dir)]
    )
    assert code == 0
    return run_dir


def decoded_images(html: str) -> list[np.ndarray]:
    """Every inline image of the page, decoded from its base64 PNG."""
    return [mpimg.imread(io.BytesIO(base64.b64decode(data)), format="png") for data in DATA_URI.findall(html)]


# ------------------------------------------------------------------------------------------ mathematics
def test_traversal_codes_vary_one_dimension_and_keep_the_rest() -> None:
    base = torch.tensor([0.5, -1.0, 2.0, 0.0])
    values = torch.linspace(-3, 3, 7)
    codes = traversal_codes(base, [2, 0], values)
    assert codes.shape == (2, 7, 4)
    assert torch.equal(codes[0, :, 2], values) and torch.equal(codes[1, :, 0], values)
    for row, d in enumerate([2, 0]):
        others = [k for k in range(4) if k != d]
        assert torch.equal(codes[row][:, others], base[others].expand(7, 3))
    assert torch.equal(base, torch.tensor([0.5, -1.0, 2.0, 0.0]))  # the base code is not modified


def test_traversal_rejects_bad_dimensions_and_bases() -> None:
    with pytest.raises(UserError, match="dimension 4 does not exist"):
        traversal_codes(torch.zeros(4), [1, 4], torch.zeros(3))
    with pytest.raises(UserError, match="one latent vector"):
        traversal_codes(torch.zeros(2, 4), [0], torch.zeros(3))


def test_traverse_decodes_exactly_the_traversal_codes() -> None:
    torch.manual_seed(0)
    model = tiny_vae().eval()
    base, values = torch.randn(3), torch.linspace(-2, 2, 5)
    images = traverse(model, base, [1, 2], values)
    assert images.shape == (2, 5, 1, 4, 4)
    expected = model.decode(traversal_codes(base, [1, 2], values).reshape(-1, 3)).mean.reshape(2, 5, 1, 4, 4)
    torch.testing.assert_close(images, expected)


def test_traverse_conditions_every_picture_on_the_given_label() -> None:
    torch.manual_seed(0)
    model = tiny_vae(num_classes=3).eval()
    base, values, label = torch.randn(3), torch.linspace(-1, 1, 4), torch.tensor([2])
    images = traverse(model, base, [0], values, label)
    codes = traversal_codes(base, [0], values)[0]
    torch.testing.assert_close(images[0], model.decode(codes, label.expand(4)).mean)


def test_order_by_kl_is_decreasing_and_stable() -> None:
    assert order_by_kl(torch.tensor([0.1, 2.0, 0.1, 3.0, 0.0])) == [3, 1, 0, 2, 4]


def test_mean_kl_per_dimension_matches_the_gaussian_closed_form() -> None:
    """KL(N(μ, σ²) ‖ N(0, 1)) = (μ² + σ² - 1 - log σ²) / 2 per dimension, averaged over examples; the
    dimensions sum to the ELBO's KL term."""
    torch.manual_seed(0)
    model = tiny_vae().eval()
    x = torch.bernoulli(torch.full((40, 1, 4, 4), 0.3))
    with torch.no_grad():
        q_z = model.encode(x)
        mu, var = q_z.mean, q_z.variance
        expected = (0.5 * (mu**2 + var - 1 - var.log())).mean(0)
        kl = mean_kl_per_dimension(model, x)
        assert kl is not None
        torch.testing.assert_close(kl.float(), expected, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(kl.sum().float(), model(Batch(x)).kl().mean(), rtol=1e-5, atol=1e-6)


def test_mean_kl_per_dimension_is_none_for_a_prior_that_does_not_factorise() -> None:
    class MixturePrior(nn.Module):
        def forward(self) -> MixtureSameFamily:
            components = Independent(Normal(torch.tensor([[-1.0] * 3, [1.0] * 3]), torch.ones(2, 3)), 1)
            return MixtureSameFamily(Categorical(logits=torch.zeros(2)), components)

    model = tiny_vae().eval()
    model.prior = MixturePrior()
    assert mean_kl_per_dimension(model, torch.zeros(5, 1, 4, 4)) is None


def test_project_2d_keeps_2d_codes_and_finds_the_principal_axes() -> None:
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(500, 2))
    points, labels = project_2d(codes)
    assert points is codes and labels == ("z0", "z1")
    # Variance 9 along (1, 1, 0, 0)/√2 and 1 along (0, 0, 1, 0); tiny noise elsewhere.
    a, b = 3 * rng.normal(size=500), rng.normal(size=500)
    codes = np.stack([a / np.sqrt(2), a / np.sqrt(2), b, 0.01 * rng.normal(size=500)], axis=1) + 5.0
    points, labels = project_2d(codes)
    assert abs(np.corrcoef(points[:, 0], a)[0, 1]) > 0.999 and abs(np.corrcoef(points[:, 1], b)[0, 1]) > 0.999
    assert labels[0].startswith("PC1 (9") and labels[1].startswith("PC2 (")  # about 90% of the variance
    with pytest.raises(ValueError):
        project_2d(np.zeros((10, 1)))


def test_latent_grid_decodes_normal_quantiles_in_reading_order() -> None:
    torch.manual_seed(0)
    config = ModelConfig(likelihood="bernoulli", latent_dim=2, hidden_dims=[16], network="mlp")
    model = build_model(model_spec(config, ArrayDataset(np.zeros((2, 1, 4, 4), np.uint8), None, 2, "tiny"))).eval()
    images, cols = latent_grid_images(model, n=5)
    assert cols == 5 and images.shape == (25, 1, 4, 4)
    q = torch.special.ndtri(torch.tensor([0.1, 0.9]))  # the outermost quantiles of a 5-point grid
    top_left, bottom_right = torch.tensor([[q[0], q[1]]]), torch.tensor([[q[1], q[0]]])
    np.testing.assert_allclose(images[0], model.decode(top_left).mean[0].detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(images[-1], model.decode(bottom_right).mean[0].detach().numpy(), rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------------------- report pieces
def test_best_epoch_is_the_first_with_the_highest_validation_elbo() -> None:
    history = [{"epoch": e, "valid": {"elbo": v}, "train": {"elbo": 0.0}} for e, v in [(1, -5.0), (2, -3.0), (3, -3.0)]]
    assert best_epoch(history) == 2
    assert best_epoch([{"epoch": 1, "train": {"elbo": 1.0}}, {"epoch": 2, "train": {"elbo": 0.5}}]) == 1
    assert best_epoch([]) is None


def test_format_value_is_short_and_readable() -> None:
    assert format_value(-85.123456) == "-85.123"
    assert format_value(12) == "12" and format_value(True) == "yes" and format_value(None) == "—"
    assert format_value(float("nan")) == "—"
    assert format_value([1.0, 2.0]) == "[1, 2]"
    assert format_value(list(range(10))).endswith("(10 values)")


def test_render_escapes_text_and_embeds_images_without_scripts_or_network() -> None:
    page = Page(
        title="<run>",
        subtitle="a & b",
        summary=[("dataset", "<digits>")],
        sections=[Section("s", "Title", "lead with `code`", [Table(["k"], [["<v>"]]), Image(b"\x89PNG", "alt")])],
        footer="footer",
    )
    html = render(page)
    assert "&lt;run&gt;" in html and "&lt;digits&gt;" in html and "&lt;v&gt;" in html and "<code>code</code>" in html
    assert "<script" not in html and "http://" not in html and "https://" not in html
    assert 'src="data:image/png;base64,iVBORw==' in html


# --------------------------------------------------------------------------------------- whole reports
def test_train_writes_a_self_contained_report(digits_run: Path) -> None:
    html = (digits_run / "report.html").read_text(encoding="utf-8")
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in html, anchor
    assert "<script" not in html and not re.search(r'(src|href)="(https?:)?//', html)  # nothing from the network
    images = decoded_images(html)
    assert (
        len(images) == 15
    )  # 1 curves, 2 reconstructions, 1 samples, 2 interpolations, 1 inpainting, 2 latent, 1 KL, 4 traversal, 1 ELBO
    assert all(image.shape[0] >= 16 and image.shape[1] >= 16 for image in images)
    assert 'alt="decoded latent grid"' in html  # a 2-D latent space gets the decoded grid
    assert "coloured by label" in html and "digits" in html


def test_report_renders_eval_results_generically(digits_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(digits_run, run_dir)
    result = {"split": "test", "elbo": -80.5, "elbo_stderr": 0.25, "frechet_distance": 12.25, "kl_per_dim": [0.5, 1.5]}
    (run_dir / "eval-test.json").write_text(json.dumps({**result, "warnings": ["posterior collapse: few units"]}))
    html = write_report(run_dir).read_text(encoding="utf-8")
    assert "<td>frechet_distance</td><td>12.25</td>" in html
    assert "<td>elbo</td><td>-80.5 ± 0.25</td>" in html
    assert "test: posterior collapse: few units" in html
    assert "From eval-test.json." in html  # the KL bars use it; traversals keep the KL of the report's examples
    assert "z0 · KL" in html and "z1 · KL" in html


def test_report_on_tabular_data_skips_pictures_and_says_so(table_run: Path) -> None:
    html = (table_run / "report.html").read_text(encoding="utf-8")
    assert "The data are not images" in html
    for anchor in ("training", "metrics", "latent", "kl", "elbo"):
        assert f'<section id="{anchor}">' in html, anchor
    assert '<section id="samples">' not in html and 'alt="decoded latent grid"' not in html
    assert "first two principal components, coloured by label" in html
    assert len(decoded_images(html)) == 4  # curves, latent map, KL bars, ELBO histogram


def test_report_without_its_data_keeps_the_sections_that_need_none(digits_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(digits_run, run_dir)
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    config["data"]["name"] = str(tmp_path / "moved.npy")
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    html = write_report(run_dir, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "could not be loaded" in html and "no such file" in html
    assert '<section id="samples">' in html and 'alt="decoded latent grid"' in html


# ------------------------------------------------------------------------------------------------- CLI
def test_help_lists_report_and_traverse(capsys) -> None:  # type: ignore[no-untyped-def]
    code, stdout, _ = run_cli(["--help"], capsys)
    assert code == 0 and "report" in stdout and "traverse" in stdout


def test_report_command_writes_the_page_and_rejects_bad_input(digits_run: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "page.html"
    code, stdout, err = run_cli(
        ["report", str(digits_run), "--out", str(out), "--max-examples", "50", "--json"], capsys
    )
    assert code == 0, err
    assert json.loads(stdout) == {"report": str(out)}
    assert "50 examples of the valid split" in out.read_text(encoding="utf-8")
    for args, message in [
        (["report", str(tmp_path / "missing")], "no such run directory"),
        (["report", str(digits_run), "--out", str(tmp_path / "x.pdf")], "--out must end in .html"),
        (["report", str(digits_run), "--max-examples", "0"], "(--max-examples) must be at least 1"),
    ]:
        code, _, err = run_cli(args, capsys)
        assert code == 1 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_train_without_report_writes_no_page(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    assert (
        run_cli(
            ["train", "--epochs", "1", "--hidden-dims", "16", "--no-progress", "--no-report", "--out", str(run_dir)]
        )[0]
        == 0
    )
    assert not (run_dir / "report.html").exists() and not (run_dir / "images").exists()


def test_traverse_writes_rows_ordered_by_kl(digits_run: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code, stdout, err = run_cli(["traverse", str(digits_run), "--out", str(tmp_path / "t.png"), "--json"], capsys)
    assert code == 0, err
    result = json.loads(stdout)
    assert sorted(result["dims"]) == [0, 1] and result["kl"] == sorted(result["kl"], reverse=True)
    assert len(result["values"]) == 11 and result["values"][0] == -3.0 and result["values"][-1] == 3.0
    picture = mpimg.imread(tmp_path / "t.png")
    assert picture.shape[1] > 5 * picture.shape[0]  # 2 rows of 11 pictures: a wide strip

    code, _, err = run_cli(
        [
            "traverse",
            str(digits_run),
            "--dims",
            "1",
            "--steps",
            "4",
            "--base",
            "prior",
            "--out",
            str(tmp_path / "t.npy"),
        ],
        capsys,
    )
    assert code == 0, err
    array = np.load(tmp_path / "t.npy")
    assert array.shape == (1, 4, 1, 8, 8)
    assert not np.allclose(array[0, 0], array[0, -1])  # the varied dimension changes the picture


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dims", "0,7"], "dimension 7 does not exist"),
        (["--dims", "a"], "--dims expects comma-separated integers"),
        (["--steps", "1"], "--steps must be at least 2"),
        (["--order", "size"], "--order must be one of kl, index"),
        (["--index", "100000"], "--index must be in 0.."),
        (["--label", "1"], "--label needs a class-conditional model"),
        (["--out", "t.gif"], "--out must end in .png, .npy, .csv, .smi or .txt"),
    ],
)
def test_traverse_rejects_bad_input_in_one_line(digits_run: Path, capsys, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run_cli(["traverse", str(digits_run), *args], capsys)
    assert code == 1 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


# -------------------------------------------------------------------------------------- a real browser
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
# Added to a copy of the report only (the report itself has no scripts): after the page has loaded,
# record every image's decoded size; an image the browser could not decode has naturalWidth 0.
SIZE_PROBE = (
    "<script>addEventListener('load', () => { document.body.dataset.sizes = [...document.images]"
    ".map(i => (i.complete ? i.naturalWidth : 0) + 'x' + (i.complete ? i.naturalHeight : 0)).join(' '); });</script>"
)
BROKEN_IMAGE = '<img alt="control" src="data:image/png;base64,iVBORw0KGgoAAAAA">'  # a truncated PNG


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("needs chromium: run scripts/install-test-browser")
    command = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_chromium_decodes_every_image_of_the_report(digits_run: Path, tmp_path: Path) -> None:
    html = (digits_run / "report.html").read_text(encoding="utf-8")
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace("</body>", BROKEN_IMAGE + SIZE_PROBE + "</body>"), encoding="utf-8")
    result = chromium(tmp_path / "profile", "--virtual-time-budget=10000", "--dump-dom", probe.as_uri())
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.search(r'data-sizes="([^"]*)"', result.stdout)
    assert found, "the page did not finish loading in the browser"
    sizes = [tuple(int(v) for v in size.split("x")) for size in found.group(1).split()]
    *report_sizes, control = sizes
    assert control == (0, 0)  # the probe does tell a broken image from a decoded one
    expected = [(image.shape[1], image.shape[0]) for image in decoded_images(html)]
    assert report_sizes == expected and len(expected) == 15


def test_chromium_screenshot_of_the_report_is_not_blank(digits_run: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    result = chromium(
        tmp_path / "profile", "--window-size=1280,2400", f"--screenshot={shot}", (digits_run / "report.html").as_uri()
    )
    assert result.returncode == 0 and shot.is_file(), result.stderr[-2000:]
    pixels = mpimg.imread(shot)[..., :3]  # (2400, 1280, 3) in [0, 1]
    assert pixels.shape[:2] == (2400, 1280)
    header, body = pixels[:150], pixels[600:]
    assert header.mean() < 0.5  # the dark header band is drawn
    rgb = (body * 255).astype(np.int64)
    colours = np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2])
    assert body.std() > 0.1 and len(colours) > 50  # pictures and charts, not an empty page


REPORT_PROBE = """
import sys
from vaelab.report.build import write_report
write_report(sys.argv[1])
print(sorted(m for m in ("torch", "sklearn") if m in sys.modules))
"""


def test_a_report_of_an_unchanged_model_reuses_its_figures_without_torch(digits_run: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(digits_run, run_dir)
    drawn = write_report(run_dir).read_text(encoding="utf-8")  # the memo now holds this report's figures
    (run_dir / "eval-test.json").write_text(json.dumps({"split": "test", "nll": 91.25}))
    done = subprocess.run(
        [sys.executable, "-c", REPORT_PROBE, str(run_dir)], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"  # neither the model nor its figures were loaded or drawn again
    reused = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "<td>nll</td><td>91.25</td>" in reused  # what the eval changed is shown
    assert [a.tobytes() for a in decoded_images(reused)] == [b.tobytes() for b in decoded_images(drawn)]
    redrawn = write_report(run_dir, redraw=True).read_text(encoding="utf-8")
    assert [image.tobytes() for image in decoded_images(redrawn)] == [
        image.tobytes() for image in decoded_images(reused)
    ]


def test_a_changed_model_or_a_damaged_memo_redraws_the_figures(digits_run: Path, tmp_path: Path) -> None:
    from vaelab.models.load import load
    from vaelab.report.memo import MEMO_NAME

    run_dir = tmp_path / "run"
    shutil.copytree(digits_run, run_dir)
    before = decoded_images((run_dir / "report.html").read_text(encoding="utf-8"))
    model = load(run_dir)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.5)
    model.save(run_dir)
    after = decoded_images(write_report(run_dir).read_text(encoding="utf-8"))
    assert len(after) == len(before) and any(a.tobytes() != b.tobytes() for a, b in zip(after, before, strict=True))
    (run_dir / MEMO_NAME).write_text("{not json")
    assert len(decoded_images(write_report(run_dir).read_text(encoding="utf-8"))) == len(before)
    memo = json.loads((run_dir / MEMO_NAME).read_text())  # rewritten whole
    for name in ("figures", "training", "kl"):  # entries whose key matches but whose content does not read
        memo[name]["value"] = {"before_kl": [{"blocks": "x"}]} if name == "figures" else [{"anchor": 1}]
    (run_dir / MEMO_NAME).write_text(json.dumps(memo))
    assert len(decoded_images(write_report(run_dir).read_text(encoding="utf-8"))) == len(before)


def test_memo_sections_round_trip_through_json() -> None:
    from vaelab.report.html import Gallery, LabelledRows, Note
    from vaelab.report.memo import sections_from_json, sections_to_json

    image = Image(b"\x89PNG\r\n\x1a\nbytes", "alt", "caption")
    sections = [
        Section(
            "a",
            "A",
            "lead",
            [
                image,
                Gallery([image, image]),
                LabelledRows([("z0", image)], "rows"),
                Table(["h"], [["1"]], "t"),
                Note("n"),
            ],
        )
    ]
    restored = sections_from_json(json.loads(json.dumps(sections_to_json(sections))))
    assert render(Page("t", "s", [], restored, "f")) == render(Page("t", "s", [], sections, "f"))
