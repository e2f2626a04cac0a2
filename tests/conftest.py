"""Shared test setup: Qt offscreen, deterministic torch, small thread counts, and isolation.

Isolation (several copies of the suite may run at once on one machine, and a run must not
touch the checkout or the user's own editor settings):
* the whole run gets its own temporary home for Qt settings, Qt's standard paths (autosave) and
  Hypothesis (no `.hypothesis/` in the checkout; no example database, so runs are reproducible);
* every test gets fresh, empty settings and data directories (`XDG_CONFIG_HOME`, `XDG_DATA_HOME`,
  `QSettings.setPath`), also inherited by the subprocesses a test starts.
"""

import atexit
import gc
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

# One private directory per test run (not per machine, not in the checkout); set before anything
# reads the environment (Qt resolves its paths on first use).
RUN_DIR = tempfile.mkdtemp(prefix="tcp-editor-tests-")
atexit.register(shutil.rmtree, RUN_DIR, True)
for _var, _sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"), ("XDG_STATE_HOME", "state")):
    os.environ[_var] = os.path.join(RUN_DIR, _sub)
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = os.path.join(RUN_DIR, "hypothesis")

import pytest  # noqa: E402

try:  # PySide6 6.12 on Python 3.11 lowers None's reference count on every void Qt call and True's on every
    # signal emit: long runs aborted with "none_dealloc" / "bool_dealloc" (tcp_editor.pyside_fix; the editor applies
    # it itself too)
    from tcp_editor.pyside_fix import protect_leaked_singletons
except ImportError:
    pass
else:
    try:
        protect_leaked_singletons()
    except ImportError:  # no PySide6: nothing to protect
        pass

try:
    from hypothesis import settings as _hyp_settings
    from hypothesis.configuration import set_hypothesis_home_dir
except ImportError:  # the GUI-only environment has no hypothesis
    pass
else:
    set_hypothesis_home_dir(os.environ["HYPOTHESIS_STORAGE_DIRECTORY"])
    _hyp_settings.register_profile("tcp-isolated", database=None, derandomize=True)
    _hyp_settings.load_profile("tcp-isolated")


@pytest.fixture(autouse=True)
def _private_settings_and_data(tmp_path_factory, monkeypatch):
    """Fresh settings/data directories for every test (the editor's QSettings, autosave, recent
    files); subprocesses inherit them through the environment."""
    d = tmp_path_factory.mktemp("env")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(d / var.lower()))
    try:
        from PySide6.QtCore import QSettings
    except ImportError:
        yield d
        return
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(d / "xdg_config_home"))
    yield d


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """No automatic cyclic collection while a test runs; one collection after it.

    Windows and widgets built by a test live on in reference cycles (slots that capture `self`)
    after it ends. An automatic collection fires wherever the allocation count happens to cross
    the threshold: inside the Qt event processing pytest-qt does around each test, or on a
    worker thread, and destroying a Qt object there is a segmentation fault that only shows under
    CPU load. Collecting between tests, when no event is being dispatched and no worker runs, is
    safe. (The editor itself runs the collector from a GUI-thread timer: tcp_editor.main_thread_gc.)"""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return (yield)
    finally:
        if was_enabled:
            gc.enable()
        gc.collect()


# What Qt says when an object is used from a thread it does not belong to. The damage shows later and
# elsewhere: a QTimer stopped from another thread (a plain callable connected to a worker signal runs
# on the worker thread: pytest-qt's waitSignal stops its timeout timer there) stays registered after
# it is deleted, and the process dies in the GUI thread's event loop when it fires, tests later
# (docs/RELIABILITY.md). Tests listen to `service.signals`, the worker's signals on the GUI thread.
CROSS_THREAD_WARNINGS = ("from another thread", "in a different thread",
                         "can only be used with threads started with QThread")


@pytest.fixture(autouse=True)
def _no_qt_calls_from_the_wrong_thread(request):
    """A Qt test fails when Qt reported a call from the wrong thread while it ran (see CROSS_THREAD_WARNINGS)."""
    if "qtbot" not in request.fixturenames:
        yield
        return
    log = request.getfixturevalue("qtlog")
    yield
    bad = sorted({r.message for r in log.records if any(w in r.message for w in CROSS_THREAD_WARNINGS)})
    assert not bad, f"Qt was called from the wrong thread: {bad}"


@pytest.fixture(autouse=True)
def _seed_everything():
    import random

    import numpy as np

    random.seed(0)
    np.random.seed(0)
    try:
        import torch
    except ImportError:  # GUI-only environments
        return
    torch.manual_seed(0)


# ---------------------------------------------------------------------------------------------
# shared fixtures: the tiny untrained model and its weights file (each test module gets its own
# objects and files; what a test writes goes to its own tmp_path)


@pytest.fixture(scope="module")
def tiny_net():
    """The untrained tiny TCPNet (seed 0, eval mode), one per test module: read it, never train it."""
    torch = pytest.importorskip("torch")
    from tcp_core.base.config import model_preset
    from tcp_core.networks.model import TCPNet

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return TCPNet(model_preset("tiny")).eval()


@pytest.fixture(scope="module")
def tiny_model():
    """`TCPModel.from_config("tiny", device="cpu", seed=0)` (the same weights as `tiny_net`), one per
    test module (its caches are shared by that module's tests)."""
    inference = pytest.importorskip("tcp_core.editing.inference")
    return inference.TCPModel.from_config("tiny", device="cpu", seed=0)


@pytest.fixture(scope="module")
def tiny_weights(tiny_net, tmp_path_factory):
    """A weights file of `tiny_net` in a folder of its own (per test module; an input: tests read it
    and write their outputs elsewhere)."""
    from tcp_core.networks.checkpoint import save_model

    p = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_model(p, tiny_net)
    return p
