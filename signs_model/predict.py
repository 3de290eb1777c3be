"""Prediction: the course helper's ``predict`` and predicting photos with a trained run.

Every photo is read by ``photo_input`` (``signs predict``, ``signs evaluate``,
``signs demo`` and the notebooks), so all of them give one photo the same answer.
"""

from pathlib import Path

import numpy as np
import tensorflow.compat.v1 as tf

from . import devices
from . import network, runs
from .data import IMAGE_SHAPE, N_X, flatten
from .errors import SignsError
from .settings import DEFAULTS, check
from .images import load_image
from .runs import load_parameters  # noqa: F401  (the course-era name, used by notebooks and tests)


def forward_propagation_for_predict(X, parameters):
    """LINEAR -> RELU -> ... -> LINEAR with fixed parameters (NumPy arrays or tensors); returns ZL."""
    params = {k: tf.convert_to_tensor(v, dtype=tf.float32) for k, v in parameters.items()}
    return network.forward_propagation(X, params)


def predict(X, parameters):
    """The course helper: class index for each column of X (n_x, m), or for one image column (n_x,).

    Builds into the default graph and runs its own session, as the course did.
    Returns:
        (m,) int64 array of predicted classes.
    """
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 1:
        X = X[:, None]
    x = tf.placeholder(tf.float32, [X.shape[0], None])
    p = tf.argmax(forward_propagation_for_predict(x, parameters))
    with tf.Session() as sess:
        return sess.run(p, feed_dict={x: X})


def photo_input(source):
    """A photo as the network reads it: a (12288, 1) float32 column in [0, 1].

    Args:
        source: an image file (read by ``images.load_image``: EXIF rotation, RGB,
            squashed to 64x64) or a (64, 64, 3) uint8 array already read.
    """
    image = source if isinstance(source, np.ndarray) else load_image(source)
    if image.shape != IMAGE_SHAPE or image.dtype != np.uint8:
        raise SignsError(f"image must be a {IMAGE_SHAPE} uint8 array, got {image.shape} "
                         f"{image.dtype}", argument="source")
    return flatten(image[np.newaxis])


def model_view(column, stretch=False):
    """An input column (n_x = 12288, 1) as the (64, 64, 3) uint8 picture it stands for.

    Args:
        stretch: map the lowest value to black and the highest to white, for an
            input after standardization (zero mean, unit variance: not in [0, 1]).
    """
    x = np.asarray(column, dtype=np.float64).reshape(IMAGE_SHAPE)
    if stretch:
        span = x.max() - x.min()
        x = (x - x.min()) / span if span > 0 else np.zeros_like(x)
    return np.round(np.clip(x, 0, 1) * 255).astype(np.uint8)


def _answer(probabilities):
    """One photo's (n_y,) probabilities as {digit, probabilities}, rounded as predict prints them."""
    return {"digit": int(np.argmax(probabilities)),
            "probabilities": [round(float(q), 6) for q in probabilities]}


class Predictor:
    """A trained run loaded for inference: its network in a graph of its own, one open session.

    Args:
        run_dir: a folder written by ``signs train`` (params.json + parameters.npz).
        device: "cpu", "gpu" or "auto", as for training.
        checkpoint: "final" (a finished run's parameters; a run that did not finish
            is refused) or "last" (its newest checkpoint): ``runs.load_parameters``.
    """

    def __init__(self, run_dir, device="auto", checkpoint="final"):
        self.run_dir = Path(run_dir)
        self.config = runs.load_config(run_dir)
        values = runs.load_parameters(run_dir, checkpoint)
        source = f"{run_dir}/" + (runs.PARAMETERS if checkpoint == "final" else "checkpoints")
        last = f"W{len(self.config.hidden_units) + 1}"
        if last not in values:
            raise SignsError(f"{source} lacks {last}; expected the "
                             f"parameters of the network in params.json")
        # a dense network's input size is its W1's (any feature count); conv blocks take photos
        n_x = N_X if self.config.conv_channels else values.get("W1", np.zeros((0, N_X))).shape[1]
        n_y = values[last].shape[0]
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.X = tf.placeholder(tf.float32, [n_x, None], name="X")
            params = network.create_network(self.config, n_x, n_y)
            # ZL (n_y, m), with the run's preprocessing (params.json holds it); no augmentation
            self.logits = network.logits(self.config, self.X, params)
            self.probabilities = tf.nn.softmax(self.logits, axis=0)
            # the input after the run's preprocessing: what the first layer reads (demo's preview)
            self.seen = network.preprocess(self.config, self.X)
            variables = tf.global_variables()
            self.session = tf.Session(config=devices.session_config(device))
            for v in variables:
                name = v.op.name
                if name not in values or values[name].shape != tuple(v.shape.as_list()):
                    found = values[name].shape if name in values else "nothing"
                    raise SignsError(f"{source} holds {found} for {name}; expected "
                                     f"{tuple(v.shape.as_list())}, the network in params.json")
                v.load(values[name], self.session)

    def probabilities_of(self, X, seen=False):
        """(n_x, m) float inputs in [0, 1] -> (n_y, m) softmax probabilities, in one session run.

        With ``seen``, returns (probabilities, the (n_x, m) inputs after the run's preprocessing).
        """
        fetches = (self.probabilities, self.seen) if seen else self.probabilities
        if np.shape(X)[1] == 1:
            # One column takes TensorFlow's matrix-vector kernel, whose float32 sums
            # round differently (up to ~5e-6 in a probability once batch norm scales
            # them up); two copies take the matrix-matrix kernel a batch takes, so an
            # image alone gets the probabilities it gets inside a batch.
            out = self.session.run(fetches, feed_dict={self.X: np.repeat(X, 2, axis=1)})
            return tuple(o[:, :1] for o in out) if seen else out[:, :1]
        return self.session.run(fetches, feed_dict={self.X: X})

    def predict_files(self, paths, batch_size=DEFAULTS["batch_size"]):
        """Predict image files in batches of ``batch_size`` (one session run per batch).

        Returns:
            one dict per path, in order: {image, digit, probabilities} or {image, error}.
        """
        check("batch_size", batch_size)
        results = []
        for start in range(0, len(paths), batch_size):
            chunk, columns = [], []
            for path in paths[start:start + batch_size]:
                try:
                    columns.append(photo_input(path))
                    chunk.append({"image": str(path)})
                except SignsError as e:
                    chunk.append({"image": str(path), "error": str(e)})
            if columns:
                ok = iter(self.probabilities_of(np.hstack(columns)).T)
                for r in chunk:
                    if "error" not in r:
                        r.update(_answer(next(ok)))
            results.extend(chunk)
        return results

    def predict_photo(self, source):
        """One photo (a file or a (64, 64, 3) uint8 array, as ``photo_input`` takes it).

        Returns:
            {digit, probabilities, seen}: ``predict_files``' answer for the photo, and
            seen, the network's input after the run's preprocessing as a (64, 64, 3)
            uint8 picture (``model_view``; stretched to black..white if the run
            standardizes). A photo that cannot be read raises SignsError.
        """
        probabilities, seen = self.probabilities_of(photo_input(source), seen=True)
        stretch = self.config.preprocess != "none"
        return {**_answer(probabilities[:, 0]), "seen": model_view(seen, stretch)}

    def close(self):
        self.session.close()
