"""Prediction: the course helper's ``predict`` and predicting photos with a trained run."""

import numpy as np
import tensorflow.compat.v1 as tf

from . import device as devices
from . import network, runs
from .data import N_X, flatten
from .errors import SignsError, check_int
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


def check_batch_size(batch_size):
    """Refuse a batch size that is not a positive int (0 would never advance, -1 predicts nothing)."""
    check_int("batch_size", batch_size)


class Predictor:
    """A trained run loaded for inference: its network in a graph of its own, one open session.

    Args:
        run_dir: a folder written by ``signs train`` (params.json + parameters.npz).
        device: "cpu", "gpu" or "auto", as for training.
        checkpoint: "final" (a finished run's parameters; a run that did not finish
            is refused) or "last" (its newest checkpoint): ``runs.load_parameters``.
    """

    def __init__(self, run_dir, device="auto", checkpoint="final"):
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
            variables = tf.global_variables()
            self.session = tf.Session(config=devices.session_config(device))
            for v in variables:
                name = v.op.name
                if name not in values or values[name].shape != tuple(v.shape.as_list()):
                    found = values[name].shape if name in values else "nothing"
                    raise SignsError(f"{source} holds {found} for {name}; expected "
                                     f"{tuple(v.shape.as_list())}, the network in params.json")
                v.load(values[name], self.session)

    def probabilities_of(self, X):
        """(n_x, m) float inputs in [0, 1] -> (n_y, m) softmax probabilities, in one session run."""
        if np.shape(X)[1] == 1:
            # One column takes TensorFlow's matrix-vector kernel, whose float32 sums
            # round differently (up to ~5e-6 in a probability once batch norm scales
            # them up); two copies take the matrix-matrix kernel a batch takes, so an
            # image alone gets the probabilities it gets inside a batch.
            return self.session.run(self.probabilities,
                                    feed_dict={self.X: np.repeat(X, 2, axis=1)})[:, :1]
        return self.session.run(self.probabilities, feed_dict={self.X: X})

    def predict_files(self, paths, batch_size=256):
        """Predict image files in batches of ``batch_size`` (one session run per batch).

        Returns:
            one dict per path, in order: {image, digit, probabilities} or {image, error}.
        """
        check_batch_size(batch_size)
        results = []
        for start in range(0, len(paths), batch_size):
            chunk, images = [], []
            for path in paths[start:start + batch_size]:
                try:
                    images.append(load_image(path))
                    chunk.append({"image": str(path)})
                except SignsError as e:
                    chunk.append({"image": str(path), "error": str(e)})
            if images:
                probs = self.probabilities_of(flatten(np.stack(images))).T
                ok = iter(probs)
                for r in chunk:
                    if "error" not in r:
                        p = next(ok)
                        r["digit"] = int(np.argmax(p))
                        r["probabilities"] = [round(float(q), 6) for q in p]
            results.extend(chunk)
        return results

    def close(self):
        self.session.close()
