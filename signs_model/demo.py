"""``signs demo``: a local web page that reads a hand sign with a trained run (Gradio).

Upload a photo or take one with the webcam: the page shows the digit, the six
probabilities, and the 64x64 picture the network reads (after EXIF rotation,
resizing and the run's preprocessing). Photos go through
``Predictor.predict_photo``, the path ``signs predict`` takes, so both give a
photo the same answer. The prediction is also an API endpoint, ``/predict``
(one image in, the label with its confidences out)::

    from gradio_client import Client, handle_file
    client = Client("http://127.0.0.1:7860/")
    client.predict(handle_file("images/sign_3_IMG_1182.jpg"), api_name="/predict")
    # {"label": "3", "confidences": [{"label": "3", "confidence": 0.91}, ...]}
"""
import html
import os
from pathlib import Path

import gradio as gr

from . import runs
from .errors import SignsError, check_int
from .images import MAX_FILE_BYTES
from .predict import Predictor

HOST = "127.0.0.1"  # this machine only, unless the caller names another interface
# System fonts: Gradio's default theme fetches Google's, and the page must work offline.
THEME = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                          font_mono=["ui-monospace", "monospace"])
# the 64x64 input drawn large, pixel for pixel
CSS = "#model-view img { image-rendering: pixelated; width: 256px; height: 256px; }"


class _Photo(gr.Image):
    """A ``gr.Image`` that hands over the uploaded file as it is.

    Gradio's own step opens the file with Pillow before the function sees it, so a
    file that is not a photo would fail there, in Pillow's words; here it reaches
    ``images.load_image`` and gets the line ``signs predict`` gives.
    """
    is_template = True  # drawn in the browser as a gr.Image

    def preprocess(self, payload):
        if payload is not None and payload.path and not (payload.url or "").startswith("data:"):
            return payload.path
        return super().preprocess(payload)


def _error(message):
    """The page's one message for a photo or run it cannot use (a modal until closed)."""
    return gr.Error(html.escape(message), duration=None, title="Cannot read this",
                    print_exception=False)


def describe(predictor):
    """One line on the run a page uses: its folder, network and SIGNS test accuracy."""
    cfg = predictor.config
    layers = "-".join(map(str, cfg.conv_channels + cfg.hidden_units))
    kind = f"ConvNet {layers}" if cfg.conv_channels else f"dense network {layers}"
    metrics = runs.read_metrics(predictor.run_dir) or {}
    accuracy = metrics.get("test_accuracy")
    tested = f", SIGNS test accuracy {accuracy:.3f}" if isinstance(accuracy, float) else ""
    mirror = " (each photo read with its mirror image)" if cfg.flip_tta else ""
    return f"Run `{predictor.run_dir}`: {kind}, preprocessing {cfg.preprocess}{mirror}{tested}."


def build(run, device="auto"):
    """The demo page for a run, as Gradio Blocks (``serve`` starts it).

    Args:
        run: a run folder, or a Predictor already loaded. A folder that is not a
            finished run still gives a page: it says why, as does every prediction.
        device: "cpu", "gpu" or "auto", as for training.
    """
    predictor, problem = run, None
    if not isinstance(run, Predictor):
        try:
            predictor = Predictor(run, device)
        except SignsError as e:
            predictor, problem = None, str(e)

    def predict(photo):
        """One photo -> its digit with the six probabilities (the page also shows the input)."""
        if photo is None:  # the photo was removed
            return None, None
        if problem:
            raise _error(problem)
        try:
            answer = predictor.predict_photo(photo)
        except SignsError as e:  # named by its own name, not by the server's copy of it
            raise _error(str(e).replace(f"{Path(photo).parent}{os.sep}", "")) from None
        return {str(d): p for d, p in enumerate(answer["probabilities"])}, answer["seen"]

    with gr.Blocks(title="signs demo", analytics_enabled=False) as page:
        gr.Markdown("## Which digit does your hand show?\nUpload a photo of a hand showing 0 "
                    "to 5 fingers, or take one with the webcam.")
        if problem:
            gr.Markdown(f"**This run cannot be used:** {html.escape(problem)}", elem_id="problem")
        else:
            gr.Markdown(html.escape(describe(predictor)), elem_id="run")
        with gr.Row():
            photo = _Photo(type="filepath", image_mode=None, label="your photo",
                           sources=["upload", "webcam", "clipboard"], height=420, elem_id="photo")
            with gr.Column():
                label = gr.Label(num_top_classes=6, label="the digit, and its six probabilities",
                                 elem_id="prediction")
                view = gr.Image(label="what the network sees: 64x64, after the run's "
                                "preprocessing", format="png", interactive=False,
                                height=300, elem_id="model-view")
        seen = gr.State()  # not part of the API: /predict answers with the label alone
        # clear the last answer first, so a photo that cannot be read leaves no stale one
        photo.change(lambda: (None, None), None, [label, view], queue=False,
                     api_visibility="private") \
            .then(predict, photo, [label, seen], api_name="predict") \
            .success(lambda image: image, seen, view, api_visibility="private")
    return page


def serve(page, host=None, port=None):
    """Start the page's web server in a thread; returns its URL.

    ``page.block_thread()`` waits until Ctrl-C, ``page.close()`` stops it.
    Args:
        host: the interface to listen on (None: HOST, 127.0.0.1, this machine only;
            0.0.0.0: every one).
        port: the TCP port (None: the first free one from 7860).
    """
    host = host or HOST
    if port is not None and check_int("port", port) > 65535:
        raise SignsError(f"port must be an int in [1, 65535], got {port}", argument="port")
    try:
        _, url, _ = page.launch(server_name=host, server_port=port, prevent_thread_lock=True,
                                share=False, quiet=True, theme=THEME, css=CSS,
                                max_file_size=MAX_FILE_BYTES, footer_links=["api"])
    except OSError as e:
        where = f"port {port}" if port else "a port from 7860"
        raise SignsError(f"cannot listen on {host}, {where} ({e}); expected a free port on "
                         f"an interface of this machine", argument="port") from None
    return url
