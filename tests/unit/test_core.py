"""set-up and tier switch, record, exercise checks, the training loop, plots and the command line."""
from __future__ import annotations

import json
import os
import re

import matplotlib
import pytest
import torch
from torch import nn

import dlbook
from dlbook import checks, env, plot
from dlbook.record import read_records
from dlbook.run import check_claims

matplotlib.use("Agg")


# --- set-up and the tier switch ---------------------------------------------------------------

def test_tier_argument_beats_environment(monkeypatch):
    monkeypatch.setenv("DLBOOK_QUICK", "1")
    assert env.is_quick() is True
    assert env.is_quick(False) is False
    monkeypatch.setenv("DLBOOK_QUICK", "0")
    assert env.is_quick() is False and env.is_quick(True) is True
    monkeypatch.delenv("DLBOOK_QUICK")
    assert env.is_quick() is False, "a person running a notebook gets the full tier"


def test_bad_tier_values_say_what_to_do(monkeypatch):
    monkeypatch.setenv("DLBOOK_QUICK", "maybe")
    with pytest.raises(ValueError, match="use 1"):
        env.is_quick()
    with pytest.raises(TypeError):
        env.is_quick("yes")


def test_setup_seeds_everything_and_prints_one_line(capsys):
    e = dlbook.setup(seed=3, quick=True, threads=1)
    a = torch.rand(3)
    dlbook.setup(seed=3, quick=True, threads=1)
    assert torch.equal(a, torch.rand(3))
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2 and "quick tier" in out[0] and "device cpu" in out[0]
    assert e.pick(quick=1, full=2) == 1 and e.tier == "quick" and e.threads == 1
    assert matplotlib.rcParams["axes.grid"] is True


def test_setup_rejects_bad_input():
    with pytest.raises(ValueError):
        dlbook.setup(seed=-1, verbose=False)
    with pytest.raises(ValueError):
        dlbook.setup(threads=0, verbose=False)


def test_device_can_be_forced_and_cuda_refused_without_gpu(monkeypatch):
    monkeypatch.setenv("DLBOOK_DEVICE", "cpu")
    assert env.pick_device().type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            env.pick_device("cuda")


# --- record and claims ------------------------------------------------------------------------

def test_record_writes_for_the_test_suite(tmp_path, monkeypatch):
    target = tmp_path / "rec.jsonl"
    monkeypatch.setenv("DLBOOK_RECORD_FILE", str(target))
    dlbook.record("acc", torch.tensor(0.5))
    dlbook.record("ok", True)
    dlbook.record("acc", 0.75)
    assert read_records(target) == {"acc": 0.75, "ok": True}
    with pytest.raises(TypeError):
        dlbook.record("bad", [1, 2])
    with pytest.raises(ValueError):
        dlbook.record("not a name", 1)
    with pytest.raises(ValueError):
        dlbook.record("nan", float("nan"))


def test_claim_rules():
    claims = {"a": {"min": 0.9}, "b": {"equals": 4.5, "tol": 1e-6}, "c": {"max": 1},
              "d": {"in": ["cpu", "cuda"]}, "e": {"equals": True}}
    good = {"a": 0.95, "b": 4.5, "c": 0.5, "d": "cpu", "e": True, "check_ex1": True}
    assert check_claims(claims, good) == []
    bad = {"a": 0.5, "b": 4.6, "c": 2, "d": "tpu", "check_ex1": False}
    problems = check_claims(claims, bad)
    assert len(problems) == 6 and any("never recorded" in p for p in problems)


# --- exercise checks --------------------------------------------------------------------------

def test_check_hash_does_not_reveal_and_is_stable(capsys):
    digest = checks.answer_hash(2.83)
    assert "2.83" not in digest and len(digest) == 16
    assert checks.answer_hash(2.8301) == digest, "rounded to the stated decimals"
    assert checks.check_hash("ex", 2.83, digest) is True
    assert checks.check_hash("ex", 2.9, digest) is False
    assert checks.check_hash("ex", None, digest) is None
    out = capsys.readouterr().out
    assert "correct" in out and "not yet" in out and "replace the None" in out
    assert checks.answer_hash([1, 2.0]) == checks.answer_hash(torch.tensor([1.0, 2.0]))
    with pytest.raises(TypeError):
        checks.answer_hash(object())


# --- training ---------------------------------------------------------------------------------

def blobs(n=200):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 2, generator=g)
    return X, (X[:, 0] + X[:, 1] > 0).long()


def test_tensor_batches_cover_the_data_once_and_shuffle_reproducibly():
    X, y = blobs(10)
    b = dlbook.TensorBatches(X, y, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(1))
    seen = torch.cat([xb for xb, _ in b])
    assert len(b) == 3 and sorted(seen[:, 0].tolist()) == sorted(X[:, 0].tolist())
    b2 = dlbook.TensorBatches(X, y, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(1))
    assert torch.equal(seen, torch.cat([xb for xb, _ in b2]))
    assert len(dlbook.TensorBatches(X, y, 4, drop_last=True)) == 2
    with pytest.raises(ValueError, match="rows"):
        dlbook.TensorBatches(X, y[:5])


def test_fit_learns_and_evaluate_leaves_no_graph():
    torch.manual_seed(0)
    X, y = blobs()
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    hist = dlbook.fit(model, (X, y), (X, y), epochs=15, opt=torch.optim.Adam(model.parameters(), 0.05),
                      batch_size=32, progress=False)
    assert len(hist) == 15 and hist["loss"][-1] < hist["loss"][0]
    assert hist.last["val_accuracy"] > 0.95
    assert set(hist.last) == {"loss", "accuracy", "val_loss", "val_accuracy", "seconds"}
    scores = dlbook.evaluate(model, (X, y))
    assert scores["accuracy"] == pytest.approx(hist.last["val_accuracy"])
    assert model.training, "evaluate restores the training mode"
    assert dlbook.predict(model, X).requires_grad is False
    assert "val_loss" in repr(hist) and "<table" in hist._repr_html_()
    with pytest.raises(KeyError, match="has no column"):
        hist["nope"]


def test_fit_accepts_a_dataloader_and_rejects_bad_pairs():
    X, y = blobs(64)
    model = nn.Linear(2, 2)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=16)
    hist = dlbook.fit(model, loader, epochs=1, opt=torch.optim.SGD(model.parameters(), 0.1),
                      progress=False)
    assert len(hist) == 1
    with pytest.raises(TypeError, match="pair of tensors"):
        dlbook.fit(model, (X.tolist(), y), epochs=1, opt=torch.optim.SGD(model.parameters(), 0.1))
    with pytest.raises(ValueError, match="epochs"):
        dlbook.fit(model, (X, y), epochs=0, opt=torch.optim.SGD(model.parameters(), 0.1))


def test_accuracy_handles_binary_logits():
    assert dlbook.accuracy(torch.tensor([[2.0], [-1.0]]), torch.tensor([[1.0], [0.0]])).item() == 1.0
    assert dlbook.accuracy(torch.tensor([[0.1, 0.9], [0.8, 0.2]]), torch.tensor([1, 1])).item() == 0.5


# --- plots ------------------------------------------------------------------------------------

def test_plots_draw_with_titles_and_labels():
    import matplotlib.pyplot as plt

    hist = dlbook.History()
    hist.append(loss=1.0, val_loss=1.2)
    hist.append(loss=0.5, val_loss=0.7)
    ax = plot.learning_curves(hist, ax=plt.figure().gca())
    assert ax.get_title() and ax.get_xlabel() == "epoch" and len(ax.lines) == 2
    fig = plot.image_grid(torch.rand(5, 1, 8, 8), labels=list("abcde"), ncols=3, title="grid")
    assert len(fig.axes) == 6
    X, y = blobs(50)
    ax = plot.decision_boundary(lambda t: (t.sum(1) > 0).long(), X, y, ax=plt.figure().gca())
    assert ax.get_title() == "Decision boundary"
    cm = plot.confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0]), 2)
    assert cm.tolist() == [[1, 0], [1, 1]]
    ax = plot.heatmap(cm, ["a", "b"], ["a", "b"], ax=plt.figure().gca(), title="cm")
    assert ax.get_title() == "cm"
    with pytest.raises(ValueError):
        plot.image_grid(torch.rand(2, 2))
    plt.close("all")


# --- command line -----------------------------------------------------------------------------

def test_doctor_reports_device_cache_and_missing_data(capsys, tmp_path, monkeypatch):
    from dlbook.cli import main

    monkeypatch.setenv("DLBOOK_DATA", str(tmp_path))
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for word in ("torch", "device", str(tmp_path), "mnist", "cifar10", "missing", "DLBOOK_QUICK=1"):
        assert word in out


def test_cli_errors_are_one_clear_line(capsys):
    from dlbook.cli import main

    assert main(["fetch", "imagenet"]) == 2
    err = capsys.readouterr().err
    assert "no data set called 'imagenet'" in err and "Traceback" not in err


def test_data_list(capsys):
    from dlbook.cli import main

    assert main(["data"]) == 0
    assert "licence" in capsys.readouterr().out


def test_history_json_friendly():
    hist = dlbook.History()
    hist.append(loss=1.0)
    assert json.loads(json.dumps(hist.rows)) == [{"loss": 1.0}]


def test_record_glues_small_numbers_with_significant_digits(monkeypatch):
    import myst_nb

    seen = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: seen.update({name: value}))
    dlbook.record("tiny", 1.234567e-8)
    assert seen["tiny"] == pytest.approx(1.235e-8)


def test_random_crop_flip_moves_each_image_on_its_own():
    from dlbook.augment import random_crop_flip

    ramp = torch.arange(32.0).expand(64, 1, 32, 32).clone()  # each pixel holds its column
    out = random_crop_flip(ramp, generator=torch.Generator().manual_seed(0))
    assert out.shape == ramp.shape
    mirrored = out[:, 0, 0, 17] < out[:, 0, 0, 16]
    assert 0 < mirrored.sum() < 64, "about half the images are mirrored"
    plain = torch.where(mirrored[:, None], out[:, 0, 0].flip(-1), out[:, 0, 0])
    offsets = (plain[:, 16] - 16).unique()
    assert len(offsets) > 3 and offsets.abs().max() <= 4, "each image gets its own window"
    again = random_crop_flip(ramp, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    with pytest.raises(ValueError):
        random_crop_flip(ramp[0])


def test_fit_steps_a_per_batch_scheduler():
    X, y = blobs(64)
    model = nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=4 * 2)
    dlbook.fit(model, (X, y), epochs=2, opt=opt, batch_size=16, scheduler=sched,
               scheduler_step="batch", progress=False)
    assert sched.last_epoch == 8
    with pytest.raises(ValueError, match="scheduler_step"):
        dlbook.fit(model, (X, y), epochs=1, opt=opt, scheduler_step="step")


def test_explore_runs_once_with_defaults_when_headless(monkeypatch):
    from ipywidgets import FloatSlider

    calls = []
    monkeypatch.setenv("DLBOOK_HEADLESS", "1")

    @dlbook.explore(lr=FloatSlider(value=0.3, min=0, max=1), name=["a", "b"])
    def show(lr, name):
        calls.append((lr, name))

    assert calls == [(0.3, "a")]
    assert dlbook.widgets.headless()
    monkeypatch.setenv("DLBOOK_HEADLESS", "0")
    assert not dlbook.widgets.headless()


def test_random_crop_flip_draws_on_the_batch_device():
    """On an accelerator no op may touch the host: every tensor of every op stays on the batch's
    device ('meta' stands in for CUDA here; the 2017-style CPU draw + copy would show 'cpu')."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    from dlbook.augment import random_crop_flip

    class DeviceLog(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.devices = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            self.devices |= {(str(func), t.device.type) for t in tree_leaves((args, kwargs, out))
                             if isinstance(t, torch.Tensor)}
            return out

    batch = torch.zeros(8, 3, 32, 32, device="meta")
    with DeviceLog() as log:
        random_crop_flip(batch)
    assert log.devices and {d for _, d in log.devices} == {"meta"}, sorted(log.devices)
    with pytest.raises(ValueError, match="torch.Generator\\(device='meta'\\)"):
        random_crop_flip(batch, generator=torch.Generator())


def test_check_duration_prints_and_stops_long_cpu_runs(capsys, monkeypatch):
    monkeypatch.delenv("DLBOOK_ALLOW_LONG", raising=False)
    dlbook.check_duration(5, "cpu")
    assert capsys.readouterr().out == ""  # short runs say nothing
    dlbook.check_duration(600, "cpu", "the CNN")
    assert "the CNN: about 10 min on cpu" in capsys.readouterr().out
    with pytest.raises(dlbook.LongRunError, match="QUICK = True.*GPU.*DLBOOK_ALLOW_LONG=1"):
        dlbook.check_duration(3 * 3600, "cpu")
    dlbook.check_duration(3 * 3600, "cuda")  # a GPU is the way out: it only reports
    assert "3.0 h on cuda" in capsys.readouterr().out
    monkeypatch.setenv("DLBOOK_ALLOW_LONG", "1")
    dlbook.check_duration(3 * 3600, "cpu")


def test_fit_estimates_its_duration_before_a_long_cpu_run(monkeypatch):
    """fit times its first batches and stops a CPU run that would exceed the limit."""
    import dlbook.train as train

    monkeypatch.delenv("DLBOOK_ALLOW_LONG", raising=False)
    monkeypatch.setattr(train, "LONG_RUN_MINUTES", 1e-6)
    seen = []
    real = train.check_duration
    monkeypatch.setattr(train, "check_duration",
                        lambda s, d, w="x", limit_minutes=1e-6: (seen.append(s), real(s, d, w, 1e-6)))
    X, y = blobs(64)
    model = nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(dlbook.LongRunError):
        dlbook.fit(model, (X, y), epochs=10, opt=opt, batch_size=4, progress=False)
    assert len(seen) == 1 and seen[0] > 0
    seen.clear()  # a short run (few batches) is not probed at all
    dlbook.fit(model, (X, y), epochs=1, opt=opt, batch_size=16, progress=False)
    assert seen == []


def test_summary_prints_recorded_numbers(capsys):
    dlbook.record("summary_acc", 0.912345)
    dlbook.record("summary_ok", True)
    dlbook.summary("summary_acc", "summary_ok")
    assert capsys.readouterr().out.splitlines() == ["summary_acc  0.9123", "summary_ok   True"]
    with pytest.raises(KeyError, match="record"):
        dlbook.summary("never_recorded")


def test_seed_environment_overrides_the_notebook_seed(monkeypatch, capsys):
    monkeypatch.setenv("DLBOOK_SEED", "7")
    env = dlbook.setup(seed=0, quick=True)
    assert env.seed == 7 and "seed 7" in capsys.readouterr().out
    a = torch.rand(3)
    dlbook.seed_everything(7)
    assert torch.equal(a, torch.rand(3))
    monkeypatch.setenv("DLBOOK_SEED", "seven")
    with pytest.raises(ValueError, match="DLBOOK_SEED"):
        dlbook.setup(quick=True)


def test_only_the_quick_tier_has_a_cell_time_limit(monkeypatch, tmp_path):
    """A full-tier run (dlbook run --full, make book FULL=1) never kills a long training cell."""
    import papermill

    from dlbook import run

    seen = []
    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda src, dst, **kw: seen.append((kw["execution_timeout"],
                                                            kw["parameters"], dict(os.environ))))
    nb = tmp_path / "nb.ipynb"
    nb.write_text(json.dumps({"cells": [], "metadata": {}}))
    run.execute(nb, tmp_path / "out.ipynb", quick=True)
    run.execute(nb, tmp_path / "out.ipynb", quick=False)
    run.execute(nb, tmp_path / "out.ipynb", quick=False, sample=True, seed=3,
                parameters={"num_epochs": 1})
    assert [t for t, _, _ in seen] == [run.QUICK_CELL_TIMEOUT, None, None]
    _, params, environ = seen[2]
    assert params == {"QUICK": False, "num_epochs": 1}
    assert environ["DLBOOK_SAMPLE"] == "1" and environ["DLBOOK_SEED"] == "3"
    assert "DLBOOK_SEED" not in seen[1][2]
    with pytest.raises(ValueError, match="quick=False"):
        run.execute(nb, tmp_path / "out.ipynb", quick=True, sample=True)


def test_notebook_cpu_time_is_measured_on_the_kernel(tmp_path):
    """Budgets use the CPU seconds of the notebook's kernel: a busy-wait cell shows up in them."""
    import nbformat

    from dlbook import run

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("QUICK = None", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("import time\nt = time.process_time()\n"
                                          "while time.process_time() - t < 1.5: pass")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "busy.ipynb"
    nbformat.write(nb, path)
    result = run.execute(path, tmp_path / "out.ipynb", quick=True)
    assert result.error is None, result.error
    assert 1.5 <= result.cpu_seconds <= result.seconds + 1.0


def test_class_check_prints_a_pass_fail_table(monkeypatch, capsys, tmp_path):
    from pathlib import Path

    from dlbook import cli, run

    nbs = [Path("notebooks/a/01_x.ipynb"), Path("notebooks/a/02_y.ipynb")]
    monkeypatch.setattr(run, "toc_notebooks", lambda root: nbs)
    monkeypatch.setattr(run, "project_root", lambda: tmp_path)
    fake = [run.RunResult(str(nbs[0]), tmp_path, 12.0, 10.0),
            run.RunResult(str(nbs[1]), tmp_path, 30.0, 20.0, problems=["acc = 0.1, expected >= 0.5"])]
    monkeypatch.setattr(run, "run_many", lambda *a, **k: fake)
    assert cli.main(["check"]) == 1
    out = capsys.readouterr().out
    assert "== environment ==" in out and "device" in out
    assert re.search(r"01_x.ipynb\s+pass\s+12.0\s+10.0\s+60", out)
    assert re.search(r"02_y.ipynb\s+FAIL", out) and "expected >= 0.5" in out
    assert "1 of 2 notebooks pass" in out


def _exercise_notebook(check_src: str, wrong: dict) -> dict:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("QUICK = None", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("import dlbook\nanswer_1 = None"),
        nbformat.v4.new_code_cell(check_src),
        nbformat.v4.new_code_cell("# Solution\nanswer_1 = 42\n" + check_src,
                                  metadata={"tags": ["solution"]}),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["dlbook"] = {"claims": {}, "wrong_answers": wrong}
    return nb


def test_wrong_answers_run_through_the_exercise_check(tmp_path):
    """A self-check must refuse the declared wrong answers; a loose one is caught."""
    import nbformat

    from dlbook import run

    strict = 'dlbook.check("exercise_1", answer_1 == 42) if answer_1 is not None else None'
    loose = 'dlbook.check("exercise_1", answer_1 > 40) if answer_1 is not None else None'
    probe = run.with_wrong_answers(_exercise_notebook(strict, {"exercise_1": ["answer_1 = 41"]}))
    assert probe["cells"][-1]["source"].startswith("answer_1 = 41\n")
    assert '"wrong_exercise_1_0"' in probe["cells"][-1]["source"]
    for src, ok in ((strict, True), (loose, False)):
        path = tmp_path / "ex.ipynb"
        nbformat.write(_exercise_notebook(src, {"exercise_1": ["answer_1 = 41", "answer_1 = 0"]}),
                       path)
        result = run.execute(path, tmp_path / "out" / "ex.ipynb", quick=True)
        assert result.error is None, result.error
        assert result.records["check_exercise_1"] is True
        assert result.records["check_wrong_exercise_1_1"] is False
        assert (not result.problems) is ok, result.problems
        executed = json.loads((tmp_path / "out" / "ex.ipynb").read_text())
        tags = [c["metadata"].get("tags", []) for c in executed["cells"]]
        assert len(tags) == 5 and ["injected-parameters"] in tags  # papermill adds one cell
        assert not any("wrong-answer" in t for t in tags), "probe cells left in the executed copy"
    assert "accepted a wrong answer" in result.problems[0]
    # a check cell that resets the answer would silently skip the probe: that is an error too
    resetting = 'answer_1 = None\n' + strict
    nbformat.write(_exercise_notebook(resetting, {"exercise_1": ["answer_1 = 41"]}), path)
    result = run.execute(path, tmp_path / "out" / "ex.ipynb", quick=True)
    assert any("never reached its self-check" in p for p in result.problems), result.problems
    with pytest.raises(KeyError, match="exercise_9"):
        run.with_wrong_answers(_exercise_notebook(strict, {"exercise_9": ["x = 1"]}))


def test_seed_table_counts_each_claim_on_its_own():
    from pathlib import Path

    from dlbook.run import RunResult, seed_table

    runs = [RunResult("nb", Path("."), 1.0, records={"gain": g, "check_exercise_1": ok})
            for g, ok in ((0.05, True), (0.01, False))]
    table = seed_table(runs, [0, 1], {"gain": {"min": 0.02}})
    assert "0.05" in table and "0.01" in table and '{"min": 0.02} 1/2' in table
