"""``signs dashboard``: a finished search's study, opened in a real browser.

A small study is written with Optuna's own API the way ``signs tune`` writes one
(dev accuracy maximized, reported every 5 epochs, pruned and failed trials among
the finished ones); ``signs dashboard DIR`` serves it in a subprocess, and
Debian's Chromium, driven by Playwright, must find its trials, its best value and
a pruned trial's curve.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
WAIT = 30_000  # ms: the longest a page element may take to appear (a busy machine's first load)
STEP = 5  # epochs between two reports of dev accuracy
DEV_SIZE = 120  # an accuracy is a multiple of 1/120, computed in float32 as TensorFlow does

# (status, dev accuracies as correct answers out of DEV_SIZE at steps 5, 10, ...)
TRIALS = [("ok", [72, 85, 94]), ("ok", [66, 79, 89]), ("pruned", [25, 40]), ("ok", [74, 90, 104]),
          ("pruned", [22]), ("ok", [60, 73, 86]), ("failed", [])]
STATES = {"ok": "COMPLETE", "pruned": "PRUNED", "failed": "FAIL"}
SHOWN_STATE = {"COMPLETE": "Complete", "PRUNED": "Pruned", "FAIL": "Fail"}  # the trial list's chips


def accuracy(correct):
    return float(np.float32(correct) / np.float32(DEV_SIZE))


def write_study(out):
    """``out/study.db`` as ``signs tune --out out`` leaves it: returns the Optuna study."""
    import optuna
    from optuna.distributions import (CategoricalDistribution, FloatDistribution,
                                      IntDistribution)
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = {"learning_rate": FloatDistribution(1e-5, 1e-1, log=True),
             "beta1": FloatDistribution(0.8, 0.999),
             "minibatch_size": CategoricalDistribution([16, 32, 64]),
             "hidden_units_1": IntDistribution(8, 64), "hidden_units_2": IntDistribution(4, 32)}
    study = optuna.create_study(storage=f"sqlite:///{out / 'study.db'}", study_name=out.name,
                                direction="maximize",
                                sampler=optuna.samplers.RandomSampler(seed=0))
    for index, (status, correct) in enumerate(TRIALS):
        trial = study.ask(space)
        curve = [accuracy(c) for c in correct]
        for k, value in enumerate(curve):
            trial.report(value, STEP * (k + 1))
        attrs = {"round": 0, "index": index, "run_dir": str(out / f"trial-{index:03d}"),
                 "status": status, "reason": "training failed" if status == "failed" else "",
                 "train_accuracy": 0.9, "final_cost": 0.3, "seconds": 1.5}
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        study.tell(trial, curve[-1] if status == "ok" else None,
                   state=getattr(TrialState, STATES[status]))
    return study


def shown(x):
    """A number as the dashboard (JavaScript) prints it: the shortest repr, as Python's."""
    return repr(x)[:-2] if float(x).is_integer() else repr(x)


@pytest.fixture(scope="module")
def search(tmp_path_factory):
    """(the search folder, its study)."""
    out = tmp_path_factory.mktemp("search")
    return out, write_study(out)


def one_error_line(code, out, err):
    """The message of a refusal: exit 2, nothing on stdout, one ``signs: error:`` line."""
    assert (code, out) == (2, ""), err
    assert err.startswith("signs: error: ") and err.count("\n") == 1, err
    return err[len("signs: error: "):-1]


def test_folder_without_study(run_cli, tmp_path):
    assert one_error_line(*run_cli("dashboard", tmp_path)) == (
        f"no study in {tmp_path} (expected {tmp_path / 'study.db'}: "
        f"run signs tune --out {tmp_path} first)")


def not_a_study(folder):
    import sqlite3

    with sqlite3.connect(folder / "other.db") as db:
        db.execute("create table results (accuracy real)")
    return f"sqlite:///{folder / 'other.db'}"


def not_sqlite(folder):
    (folder / "notes.db").write_text("not a database\n")
    return f"sqlite:///{folder / 'notes.db'}"


@pytest.mark.parametrize("url, expected", [
    (lambda d: "notadb://host/x", "unsupported study storage 'notadb' in "
                                  "notadb://host/x; expected sqlite:///FILE or postgresql://"),
    (lambda d: "://nothing", "not a database URL: '://nothing'; expected"),
    (lambda d: f"sqlite:///{d / 'missing.db'}", "no database file {d}/missing.db (from "),
    (not_sqlite, "{d}/notes.db is not a study database (file is not a database)"),
    (not_a_study, "{d}/other.db is an SQLite database but not an Optuna study"),
], ids=["unknown-dialect", "no-scheme", "missing-sqlite-file", "not-sqlite", "not-optuna"])
def test_bad_storage_url(run_cli, tmp_path, url, expected):
    message = one_error_line(*run_cli("dashboard", url(tmp_path)))
    assert message.startswith(expected.format(d=tmp_path)), message
    assert not (tmp_path / "missing.db").exists()  # SQLite was not left to create it


def test_password_never_shown(run_cli):
    # port 1 on this machine refuses at once (or the driver is missing): either way, one line
    message = one_error_line(*run_cli("dashboard", "postgresql://signs:s3cret@127.0.0.1:1/db"))
    assert "postgresql://signs:***@127.0.0.1:1/db" in message and "s3cret" not in message


def test_port_in_use_or_out_of_range(run_cli, search):
    out, _ = search
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert one_error_line(*run_cli("dashboard", out, "--port", port)) == (
            f"argument --port: port {port} on 127.0.0.1 is in use (pick another, or 0 for a "
            f"free one)")
    assert one_error_line(*run_cli("dashboard", out, "--port", 70000)) == (
        "argument --port: port must be at most 65535, got 70000")


def wait_for_address(process, stdout, deadline):
    """The address ``signs dashboard`` printed, once it has (it prints after binding)."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"signs dashboard exited with {process.returncode} before serving: "
                        f"{process.stderr_path.read_text()}", pytrace=False)
        line = stdout.read_text()
        if "http://" in line:
            return line.split(" on ", 1)[1].split()[0]
        time.sleep(0.2)
    pytest.fail(f"signs dashboard printed no address in {START_TIMEOUT} s", pytrace=False)


START_TIMEOUT = 120  # seconds: importing TensorFlow alone takes ~10 s on a busy machine


@pytest.fixture(scope="module")
def server(search, tmp_path_factory):
    """``signs dashboard DIR --port 0`` started in a subprocess (it serves some seconds later).

    Yields (process, stdout file). The process is always killed at the end;
    ``test_ctrl_c_stops_it`` (the last test) ends it first.
    """
    out, _ = search
    logs = tmp_path_factory.mktemp("dashboard-logs")
    stdout, stderr = logs / "stdout", logs / "stderr"
    with open(stdout, "w") as so, open(stderr, "w") as se:
        # SIGINT back to its default in the child, as a terminal's foreground job has it
        # (a runner in the background would otherwise hand it down ignored)
        process = subprocess.Popen([sys.executable, "-m", "signs_model.cli", "dashboard",
                                    str(out), "--port", "0"], cwd=ROOT, stdout=so, stderr=se,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    process.stderr_path = stderr
    try:
        yield process, stdout
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


@pytest.fixture(scope="module")
def browser_context():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (.ci/run does)",
                    pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-background-networking"])
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(WAIT)
            yield context
        finally:
            browser.close()


@pytest.fixture(scope="module")
def address(server, browser_context):
    """The address the server printed, once it answers HTTP (Chromium started meanwhile)."""
    process, stdout = server
    deadline = time.monotonic() + START_TIMEOUT
    address = wait_for_address(process, stdout, deadline)
    while True:  # bound before the address was printed: the first answer is the usual case
        try:
            with urllib.request.urlopen(address + "api/studies", timeout=10) as answer:
                assert answer.status == 200
            return address
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="module")
def page(browser_context, address, search):
    """One tab on the dashboard, on the study's page (reached from the start page, as a user
    does); each test starts from the study's History page."""
    out, _ = search
    page = browser_context.new_page()
    try:
        page.goto(address)
        page.get_by_role("link", name=out.name).click()
        yield page
    finally:
        page.close()


@pytest.fixture
def study_page(page):
    page.get_by_role("link", name="History", exact=True).click()
    page.get_by_role("heading", name="History", exact=True).wait_for()
    return page


def trials_list(page):
    """Go to "Trials (List)": its title, and {trial number: the texts of its chips}."""
    page.get_by_role("link", name="Trials (List)").click()
    items = page.get_by_role("button").filter(has_text=re.compile(r"^Trial \d+"))
    expect(items).to_have_count(len(TRIALS), timeout=WAIT)
    chips = {}
    for text in items.all_inner_texts():
        name, *shown_chips = text.split("\n")
        chips[int(name.split()[1])] = [c for c in shown_chips if c.strip()]
    return page.get_by_text(re.compile(r"^\d+ Trials$")).inner_text(), chips


def test_trials_listed_with_their_states(study_page, search):
    _, study = search
    title, chips = trials_list(study_page)
    assert title == f"{len(TRIALS)} Trials"
    best = study.best_trial.number
    assert chips == {t.number: [SHOWN_STATE[t.state.name]] + (["Best Trial"] if t.number == best
                                                              else [])
                     for t in study.trials}
    assert sorted(SHOWN_STATE[STATES[s]] for s, _ in TRIALS) == sorted(c[0] for c in chips.values())


def test_best_value(study_page, search):
    _, study = search
    assert study.best_value == accuracy(max(c[-1] for s, c in TRIALS if s == "ok"))
    card = study_page.locator(".MuiCard-root", has=study_page.get_by_role(
        "heading", name=f"Best Trial (number={study.best_trial.number})", exact=True))
    expect(card.get_by_role("heading", name=shown(study.best_value), exact=True)).to_have_count(1, timeout=WAIT)


def test_pruned_trial_curve(study_page, search):
    _, study = search
    pruned = [t for t in study.trials if t.state.name == "PRUNED"]
    assert len(pruned) == 2
    trial = max(pruned, key=lambda t: len(t.intermediate_values))  # the longer curve: 2 points
    steps, values = zip(*sorted(trial.intermediate_values.items()))
    assert steps == (STEP, 2 * STEP)
    name = f"trial #{trial.number}"

    # the study's "Intermediate values" plot draws it as one line among the others
    plot = study_page.locator(".MuiCard-root", has=study_page.get_by_role(
        "heading", name="Intermediate values", exact=True)).locator(".js-plotly-plot")
    expect(plot.locator(".legendtext").filter(has_text=re.compile(rf"^{name}\s*$"))) \
        .to_have_count(1, timeout=WAIT)
    drawn = plot.evaluate("""(plot, name) => {
        const i = plot.data.findIndex(t => t.name.trim() === name);
        const trace = plot.querySelectorAll('.scatterlayer .trace')[i];
        return {x: plot.data[i].x, y: plot.data[i].y, points: trace.querySelectorAll('.point').length};
    }""", name)
    assert drawn == {"x": list(steps), "y": list(values), "points": len(steps)}

    # its own page (picked in the trial list) shows the values it reported
    trials_list(study_page)
    study_page.get_by_role("button").filter(has_text=re.compile(rf"^Trial {trial.number}(?!\d)")) \
        .click()
    study_page.get_by_role("heading", name=re.compile(rf"^Trial {trial.number} \(")).wait_for()
    box = study_page.get_by_text("Intermediate Values", exact=True).locator("xpath=..")
    expect(box.locator("p")).to_have_text(
        ["Intermediate Values"] + [f"{s} {shown(v)}" for s, v in zip(steps, values)], timeout=WAIT)


def test_ctrl_c_stops_it(server, address, search):
    """Last: it ends the module's server. One line of output, then a clean exit on Ctrl-C."""
    process, stdout = server
    out, _ = search
    assert stdout.read_text() == f"dashboard of {out} on {address} (Ctrl-C to stop)\n"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    assert process.stderr_path.read_text() == ""
