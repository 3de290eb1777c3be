"""Reading photos that are not SIGNS: preprocessing, augmentation, conv blocks, the photos preset."""
import json

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from conftest import balanced
from signs_model import network, runs, train
from signs_model.augment import augment
from signs_model.config import PRESETS, TrainConfig
from signs_model.data import N_X
from signs_model.errors import SignsError
from signs_model.predict import Predictor, photo_input
from tolerances import EPS, softmax_atol

SMALL = dict(num_epochs=4, minibatch_size=32, learning_rate=1e-3)


# --- augmentation: seeded, and only in training ------------------------------------------

def run_augment(X, seed):
    with tf.Graph().as_default():
        out = augment(tf.constant(X), tf.constant(seed, tf.int64))
        with tf.Session() as sess:
            return sess.run(out)


def test_augment_is_a_function_of_its_seed(signs):
    X = signs.X_train[:, :8]
    a, again, other = run_augment(X, [1, 2]), run_augment(X, [1, 2]), run_augment(X, [1, 3])
    assert a.shape == X.shape and a.min() >= 0 and a.max() <= 1
    np.testing.assert_array_equal(a, again)
    assert not np.allclose(a, X) and not np.allclose(a, other)


def logits_in_both_modes(cfg, X):
    """(eval logits, training logits twice, eval logits of the same network without augment)."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [N_X, None])
        training = tf.placeholder_with_default(False, ())
        seed = tf.constant([1, 7], tf.int64)
        params = network.create_network(cfg, N_X, 6)
        zl = network.logits(cfg, x, params, training, seed)
        plain = network.logits(cfg.replace(augment=False), x, params)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return (sess.run(zl, {x: X}), sess.run(zl, {x: X, training: True}),
                    sess.run(zl, {x: X, training: True}), sess.run(plain, {x: X}))


@pytest.mark.parametrize("conv", [(), (4,)])
def test_augmentation_is_off_at_evaluation(signs, conv):
    cfg = TrainConfig(augment=True, conv_channels=conv, hidden_units=(8,))
    evaluated, trained, trained_again, plain = logits_in_both_modes(cfg, signs.X_test[:, :16])
    np.testing.assert_array_equal(evaluated, plain)  # the same ops on the same photos
    np.testing.assert_array_equal(trained, trained_again)  # seeded: same seed, same photos
    assert not np.allclose(trained, evaluated)


@pytest.mark.parametrize("engine", ["fast", "feed"])
def test_augmented_training_repeats_and_resumes(signs, tmp_path, engine):
    X, Y = balanced(signs, 16)
    cfg = TrainConfig(augment=True, **SMALL)
    straight = train.train(cfg, X, Y, engine=engine, progress=False)["costs"]
    assert train.train(cfg, X, Y, engine=engine, progress=False)["costs"] == straight
    run = tmp_path / "run"
    train.train(cfg.replace(num_epochs=2), X, Y, run_dir=run, engine=engine, progress=False)
    resumed = train.train(train.resume_config(run, epochs=2), X, Y, run_dir=run, resume=True,
                          engine=engine, progress=False)
    assert resumed["costs"] == straight
    assert train.train(cfg.replace(augment=False), X, Y, engine=engine,
                       progress=False)["costs"] != straight
    assert train.train(cfg.replace(tf_seed=2), X, Y, engine=engine, progress=False)["costs"] != straight


def test_augmentation_is_the_same_in_both_engines(signs):
    X, Y = balanced(signs, 16)
    cfg = TrainConfig(augment=True, num_epochs=3, minibatch_size=32, learning_rate=1e-3)
    fast = train.train(cfg, X, Y, progress=False)["costs"]
    feed = train.train(cfg, X, Y, engine="feed", progress=False)["costs"]
    # Same photos, same draws; only the kernels' float32 summation order may differ.
    np.testing.assert_allclose(fast, feed, rtol=0, atol=64 * EPS)


# --- preprocessing: recorded in the run, re-applied by predict ----------------------------

def numpy_probabilities(params, X, standardize):
    """The dense network in float64 NumPy, for checking the predictor."""
    A = X.astype(np.float64)
    if standardize:
        A = (A - A.mean(0)) / np.maximum(A.std(0), 1 / np.sqrt(A.shape[0]))
    L = sum(1 for k in params if k.startswith("W"))
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        A = np.maximum(Z, 0) if l < L else Z
    e = np.exp(Z - Z.max(0))
    return e / e.sum(0), Z


@pytest.mark.parametrize("preprocess", ["none", "standardize"])
def test_preprocessing_is_recorded_and_reapplied_by_predict(signs, tmp_path, preprocess):
    X, Y = balanced(signs, 16)
    run = tmp_path / preprocess
    train.train(TrainConfig(preprocess=preprocess, **SMALL), X, Y, run_dir=run, progress=False)
    assert runs.read_params(run)["preprocess"] == preprocess
    photos = signs.X_test[:, :10]
    predictor = Predictor(run)
    got = predictor.probabilities_of(photos)
    # A darker, flatter copy of each photo: x -> 0.5 x + 0.2.
    dim = predictor.probabilities_of(0.5 * photos + 0.2)
    predictor.close()
    expected, logits = numpy_probabilities(runs.load_parameters(run), photos,
                                           preprocess == "standardize")
    np.testing.assert_allclose(got, expected, rtol=0, atol=softmax_atol(logits, N_X))
    if preprocess == "standardize":
        # Standardization removes brightness and contrast: the same probabilities, up to
        # the float32 rounding of 0.5 x + 0.2 (a few ulps per input, as in the sums).
        np.testing.assert_allclose(dim, got, rtol=0, atol=8 * softmax_atol(logits, N_X))
    else:
        assert np.abs(dim - got).max() > 1e-3


# --- conv blocks ---------------------------------------------------------------------------

def test_conv_network_trains_resumes_and_predicts(signs, tmp_path, own_images):
    X, Y = balanced(signs, 11)
    cfg = TrainConfig(conv_channels=(4, 8), hidden_units=(8,), num_epochs=2, learning_rate=1e-3)
    straight = train.train(cfg, X, Y, progress=False)
    run = tmp_path / "conv"
    train.train(cfg.replace(num_epochs=1), X, Y, run_dir=run, progress=False)
    resumed = train.train(train.resume_config(run, epochs=1), X, Y, run_dir=run, resume=True,
                          progress=False)
    assert resumed["costs"] == straight["costs"]
    params = runs.load_parameters(run)
    shapes = {k: v.shape for k, v in params.items()}
    assert shapes["conv1/W"] == (3, 3, 3, 4) and shapes["conv2/W"] == (3, 3, 4, 8)
    assert shapes["W1"] == (8, 16 * 16 * 8) and shapes["W2"] == (6, 8)  # two blocks: 64 -> 16
    predictor = Predictor(run)
    results = predictor.predict_files(own_images[:3])
    predictor.close()
    assert all(0 <= r["digit"] < 6 for r in results)


def test_conv_channels_are_checked(signs):
    assert TrainConfig().conv_channels == () and TrainConfig(conv_channels=[8]).conv_channels == (8,)
    with pytest.raises(SignsError, match=r"conv_channels must be zero or more ints in \[1, inf\)"):
        TrainConfig(conv_channels=(0,))
    with pytest.raises(SignsError, match="conv_channels needs 64x64x3 photos"):
        train.train(TrainConfig(conv_channels=(4,), num_epochs=1), signs.X_train[:100, :64],
                    signs.Y_train[:, :64], progress=False)


# --- the photos preset -----------------------------------------------------------------------

def test_preset_photos_from_the_command_line(run_cli, tmp_path):
    code, out, err = run_cli("train", "--preset", "photos", "--epochs", "1", "--out", tmp_path / "p",
                             "--no-progress")
    assert code == 0, err
    params = runs.read_params(tmp_path / "p")
    expected = {**TrainConfig(**PRESETS["photos"]).to_dict(), "num_epochs": 1}
    assert {k: params[k] for k in expected} == expected
    code, _, err = run_cli("train", "--preset", "photos", "--resume", tmp_path / "p")
    assert code == 2 and err.count("\n") == 1 and "argument --preset:" in err
    code, _, err = run_cli("train", "--preset", "photos", "--conv-channels", "", "--epochs", "1",
                           "--out", tmp_path / "dense", "--no-progress")  # flags override it
    assert code == 0, err
    assert json.loads((tmp_path / "dense" / "params.json").read_text())["conv_channels"] == []


def test_a_dropout_run_predicts_without_masks(signs, tmp_path):
    X, Y = balanced(signs, 16)
    run = tmp_path / "dropout"
    train.train(TrainConfig(keep_prob=0.7, **SMALL), X, Y, run_dir=run, progress=False)
    predictor = Predictor(run)  # an inference graph: no dropout, so no seed is needed
    got = predictor.probabilities_of(signs.X_test[:, :10])
    predictor.close()
    expected, logits = numpy_probabilities(runs.load_parameters(run), signs.X_test[:, :10], False)
    np.testing.assert_allclose(got, expected, rtol=0, atol=softmax_atol(logits, N_X))


# --- random erasing, hue, flip test-time augmentation ---------------------------------------

def test_erasing_covers_one_rectangle_and_leaves_the_other_draws_alone(signs):
    X = signs.X_train[:, :16]
    with tf.Graph().as_default():
        seed = tf.constant([1, 2], tf.int64)
        erased, plain = augment(tf.constant(X), seed, {"erase": 1.0}), augment(tf.constant(X), seed)
        with tf.Session() as sess:
            erased, plain = sess.run([erased, plain])
    for k in range(X.shape[1]):
        changed = np.any(erased[:, k].reshape(64, 64, 3) != plain[:, k].reshape(64, 64, 3), axis=2)
        rows, cols = np.nonzero(changed)
        box = changed[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        # one rectangle of noise (a noise pixel may equal the photo's by chance: rarely)
        assert box.mean() > 0.99 and 0.01 < box.size / changed.size < 0.27


def test_hue_turns_colours_about_the_gray_axis(signs):
    from signs_model.augment import turn_hue
    images = signs.X_train[:, :4].T.reshape(-1, 64, 64, 3)
    with tf.Graph().as_default(), tf.Session() as sess:
        turned = sess.run(turn_hue(tf.constant(images), tf.constant([0.0, 2 * np.pi / 3,
                                                                     -2 * np.pi / 3, 0.5])))
    np.testing.assert_allclose(turned[0], images[0], atol=8 * EPS)
    # a third of a turn moves red to green, green to blue, blue to red
    np.testing.assert_allclose(turned[1], np.roll(images[1], 1, axis=2), atol=8 * EPS)
    np.testing.assert_allclose(turned[2], np.roll(images[2], -1, axis=2), atol=8 * EPS)
    assert not np.allclose(turned[3], images[3], atol=1e-2)


def mirrored(X):
    return X.T.reshape(-1, 64, 64, 3)[:, :, ::-1].reshape(X.shape[1], -1).T.copy()


def test_flip_tta_predicts_the_mean_of_a_photo_and_its_mirror(signs, tmp_path, own_images):
    X, Y = balanced(signs, 16)
    cfg = TrainConfig(**SMALL)
    test = {"test": (signs.X_test, signs.Y_test)}
    plain = train.train(cfg, X, Y, run_dir=tmp_path / "plain", progress=False)
    flipped = train.train(cfg.replace(flip_tta=True), X, Y, eval_sets=test,
                          run_dir=tmp_path / "flip", progress=False)
    assert flipped["costs"] == plain["costs"]  # it changes evaluation, not training
    for name, value in plain["parameters"].items():
        np.testing.assert_array_equal(flipped["parameters"][name], value)

    photos = np.hstack([photo_input(path) for path in own_images])
    by_plain, by_flip = Predictor(tmp_path / "plain"), Predictor(tmp_path / "flip")
    alone = by_plain.probabilities_of(photos)
    expected = (alone + by_plain.probabilities_of(mirrored(photos))) / 2
    got = by_flip.probabilities_of(photos)
    one = by_flip.predict_photo(own_images[0])  # the path of signs predict, evaluate and the demo
    on_test = by_flip.probabilities_of(signs.X_test)
    from signs_model import demo  # the page says how it reads a photo
    assert "mirror image" in demo.describe(by_flip) and "mirror" not in demo.describe(by_plain)
    by_plain.close()
    by_flip.close()
    _, logits = numpy_probabilities(plain["parameters"], photos, False)
    np.testing.assert_allclose(got, expected, rtol=0, atol=softmax_atol(logits, N_X) + 8 * EPS)
    np.testing.assert_allclose(one["probabilities"], got[:, 0], rtol=0, atol=1e-6)
    assert np.abs(got - alone).max() > 1e-4  # the mirror image does count
    # the accuracy training reports is the flipped prediction's
    assert flipped["metrics"]["test_accuracy"] == pytest.approx(
        np.mean(np.argmax(on_test, 0) == signs.y_test.ravel()), abs=1e-6)



def test_label_smoothing_trains_towards_softened_targets():
    rng = np.random.RandomState(0)
    Z, labels = rng.randn(6, 20).astype(np.float32), rng.randint(0, 6, 20)
    Y = np.eye(6, dtype=np.float32)[:, labels]
    with tf.Graph().as_default(), tf.Session() as sess:
        plain, smoothed = sess.run([network.compute_cost(tf.constant(Z), tf.constant(Y)),
                                    network.compute_cost(tf.constant(Z), tf.constant(Y),
                                                         label_smoothing=0.1)])
    log_p = Z - Z.max(0) - np.log(np.exp(Z - Z.max(0)).sum(0))
    target = 0.9 * Y + 0.1 / 6
    np.testing.assert_allclose(smoothed, -(target * log_p).sum(0).mean(), rtol=16 * EPS)
    np.testing.assert_allclose(plain, -(Y * log_p).sum(0).mean(), rtol=16 * EPS)


def test_conv_batch_norm_normalizes_each_channel_and_predicts_with_its_averages(signs, tmp_path):
    Z = np.random.RandomState(0).randn(5, 6, 6, 3).astype(np.float32) * [1, 3, 9] + [0, 2, -4]
    with tf.Graph().as_default(), tf.Session() as sess:
        out = network._channel_batch_norm(tf.constant(Z), True, 0.9, "bn")
        sess.run(tf.global_variables_initializer())
        out = sess.run(out)  # gamma 1, beta 0 at first: each channel to mean 0, variance 1
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=(0, 1, 2)), 1, atol=1e-4)

    X, Y = balanced(signs, 11)
    cfg = TrainConfig(conv_channels=(4,), hidden_units=(8,), num_epochs=2, learning_rate=1e-3,
                      conv_batch_norm=True)
    test = {"test": (signs.X_test, signs.Y_test)}
    fast = train.train(cfg, X, Y, eval_sets=test, run_dir=tmp_path / "run", progress=False)
    feed = train.train(cfg, X, Y, engine="feed", progress=False)
    np.testing.assert_allclose(fast["costs"], feed["costs"], rtol=0, atol=64 * EPS)
    params = fast["parameters"]
    assert "conv1/b" not in params and np.abs(params["conv1/bn/moving_mean"]).max() > 0
    predictor = Predictor(tmp_path / "run")
    on_test = predictor.probabilities_of(signs.X_test)
    predictor.close()
    assert fast["metrics"]["test_accuracy"] == pytest.approx(
        np.mean(np.argmax(on_test, 0) == signs.y_test.ravel()), abs=1e-6)
