"""``signs demo``: the web page in a real browser, its /predict API, and what it refuses.

The page must give a photo the answer ``signs predict`` gives with the same run,
so the runs here are tiny (a few epochs): what matters is agreement, not accuracy.
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
import pytest

from signs_model import train
from signs_model.config import TrainConfig
from signs_model.data import N_X
from signs_model.predict import Predictor, photo_input
from conftest import run_signs_subprocess
from tolerances import softmax_atol

ROOT = Path(__file__).resolve().parent.parent
RUNS = {  # a dense and a conv run; the conv one standardizes, so its preview is stretched
    "dense": (TrainConfig(num_epochs=5, learning_rate=1e-3), 1080),
    "conv": (TrainConfig(num_epochs=2, learning_rate=1e-3, conv_channels=(4,), hidden_units=(8,),
                         preprocess="standardize"), 200),
}
ROUNDING = 1e-6  # predict prints probabilities to 6 decimals: half a unit each side


@pytest.fixture(scope="module")
def trained(signs, tmp_path_factory):
    folders = {}
    for name, (cfg, m) in RUNS.items():
        folders[name] = tmp_path_factory.mktemp(name)
        train.train(cfg, signs.X_train[:, :m], signs.Y_train[:, :m], run_dir=folders[name],
                    progress=False)
    return folders


def predicted(run_cli, run, paths):
    """What ``signs predict --json`` says for each photo, as dicts."""
    code, out, err = run_cli("predict", "--run", run, "--json", *paths)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, alive, log):
    """Poll ``url`` until it answers; fail with the server's log if ``alive()`` turns False."""
    deadline = time.monotonic() + 300
    while True:
        if not alive():
            pytest.fail(f"the demo server stopped before answering:\n{log()}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"the demo server did not answer {url} within 300 s:\n{log()}")
            time.sleep(0.5)


@contextmanager
def demo_server(args, tmp_path):
    """A demo server started as ``python ARGS --port P`` in a process of its own, stopped on exit.

    Yields (url, its output file). Servers run in processes of their own: in this one,
    Gradio's logging set-up would close the stream pytest captures (absl's handler holds it).
    """
    port, out = free_port(), tmp_path / f"demo-{len(list(tmp_path.glob('demo-*')))}.log"
    env = {**os.environ, "GRADIO_TEMP_DIR": str(tmp_path / "gradio"),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    with open(out, "w") as log:
        proc = subprocess.Popen([sys.executable, *map(str, args), "--port", str(port)], cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(url, lambda: proc.poll() is None, out.read_text)
        yield url, out
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# The library's page for any folder, even one the command would refuse.
SERVE_ANY_FOLDER = ("-c", "import sys; from signs_model import demo; "
                    "page = demo.build(sys.argv[1]); demo.serve(page, port=int(sys.argv[3])); "
                    "page.block_thread()")


@pytest.fixture(scope="module")
def servers(trained, tmp_path_factory):
    """``signs demo --run RUN`` for the dense and the conv run: {kind: (url, output file)}."""
    with ExitStack() as stack:
        yield {kind: stack.enter_context(demo_server(["-m", "signs_model.cli", "demo", "--run", run],
                                                     tmp_path_factory.mktemp(f"{kind}-server")))
               for kind, run in trained.items()}


def client_for(url, tmp_path):
    from gradio_client import Client

    return Client(url, verbose=False, download_files=str(tmp_path))


def rarest_answer(answers):
    """The photo whose predicted digit the fewest photos share: a page stuck on one digit fails."""
    counts = Counter(a["digit"] for a in answers)
    return min(answers, key=lambda a: counts[a["digit"]])


def test_the_page_in_a_browser_shows_the_digit_predict_gives(trained, servers, own_images, run_cli,
                                                              tmp_path):
    from playwright.sync_api import expect, sync_playwright

    answer = rarest_answer(predicted(run_cli, trained["conv"], own_images))
    url, log = servers["conv"]
    with sync_playwright() as pw:
        assert f"on {url} " in log.read_text()  # 127.0.0.1 unless told otherwise
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--no-sandbox", "--disable-background-networking"])
        try:
            page = browser.new_page()
            page.goto(url)
            page.locator("#photo input[type=file]").set_input_files(answer["image"])
            expect(page.locator("#prediction [data-testid=label-output-value]")).to_have_text(
                str(answer["digit"]), timeout=120_000)
            expect(page.locator("#model-view img")).to_be_visible(timeout=120_000)
            # A file that is not a photo: one message naming it; the last answer is cleared.
            notes = tmp_path / "notes.jpg"
            notes.write_text("not an image")
            page.locator("#photo button[aria-label='Remove Image']").click()
            page.locator("#photo input[type=file]").set_input_files(notes)
            expect(page.get_by_text("notes.jpg: not a readable image")).to_be_visible(timeout=120_000)
            expect(page.locator("#prediction [data-testid=label-output-value]")).to_have_count(0)
        finally:
            browser.close()


@pytest.mark.parametrize("kind", list(RUNS))
def test_the_api_answers_as_predict_does(trained, servers, kind, own_images, run_cli, tmp_path):
    from gradio_client import handle_file

    run = trained[kind]
    answers = predicted(run_cli, run, own_images[:3])
    predictor = Predictor(run)
    logits = predictor.session.run(predictor.logits,
                                   {predictor.X: np.hstack([photo_input(p) for p in own_images[:3]])})
    predictor.close()
    atol = softmax_atol(logits, N_X) + ROUNDING
    client = client_for(servers[kind][0], tmp_path)
    for answer in answers:
        result = client.predict(handle_file(answer["image"]), api_name="/predict")
        assert result["label"] == str(answer["digit"])
        got = {int(c["label"]): c["confidence"] for c in result["confidences"]}
        assert sorted(got) == list(range(6))
        np.testing.assert_allclose([got[d] for d in range(6)], answer["probabilities"],
                                   rtol=0, atol=atol)


def test_the_api_names_an_unreadable_photo_and_an_unfinished_run(trained, servers, own_images,
                                                                 tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    cut = tmp_path / "cut.jpg"
    cut.write_bytes(own_images[0].read_bytes()[:200])
    with pytest.raises(AppError, match=r"^cut\.jpg: not a readable image"):
        client_for(servers["dense"][0], tmp_path).predict(handle_file(cut), api_name="/predict")
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    (unfinished / "params.json").write_text((trained["dense"] / "params.json").read_text())
    with demo_server([*SERVE_ANY_FOLDER, unfinished], tmp_path) as (url, _):
        with pytest.raises(AppError, match="the run did not finish"):
            client_for(url, tmp_path).predict(handle_file(own_images[0]), api_name="/predict")


def test_cli_demo_refuses_a_bad_run_or_port_before_serving(trained, run_cli, tmp_path):
    code, out, err = run_cli("demo", "--run", tmp_path)
    assert (code, out) == (2, "") and err.count("\n") == 1
    assert err.startswith(f"signs: error: {tmp_path}: no params.json")
    code, out, err = run_cli("demo", "--run", trained["dense"], "--port", "70000")
    assert (code, out) == (2, "")
    assert err == "signs: error: argument --port: port must be an int in [1, 65535], got 70000\n"
    with socket.socket() as taken:  # a separate process: launching starts Gradio's logging
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_signs_subprocess("demo", "--run", trained["dense"], "--port", port, cwd=ROOT)
    assert (done.returncode, done.stdout) == (2, "") and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"signs: error: argument --port: cannot listen on 127.0.0.1, "
                                  f"port {port}")
