"""Data augmentation in the graph: each training photo is moved, turned, flipped and recoloured.

``augment`` runs in the training graph only (both engines call it through
``network.logits`` with ``training`` set); evaluation, prediction and the
accuracies see the photos as they are. Every draw is stateless, a function of
the seed tensor alone (the trainer passes (tf_seed, step)), so a run repeats
and a resumed run draws what an uninterrupted one would.

The ranges (``AUGMENTATION``) aim at what differs between SIGNS and photos
people take: framing and size of the hand, its tilt, which hand, the light,
the camera's colour and its darker corners.
"""
import math

import tensorflow.compat.v1 as tf

from .data import IMAGE_SHAPE

AUGMENTATION = {
    "rotation_degrees": 25.0,   # turn by up to +-25 degrees
    "scale": (0.7, 1.3),        # zoom out / in (1.3 crops the middle 77 %)
    "shift": 0.15,              # move by up to 15 % of the side, each axis
    "flip": True,               # left hand <-> right hand, with probability 1/2
    "brightness": 0.25,         # add up to +-0.25 to every channel
    "contrast": (0.5, 1.5),     # scale the deviations from the photo's mean
    "saturation": (0.0, 1.5),   # scale the deviations from each pixel's gray (0: gray)
    "vignette": 0.6,            # darken the corners by up to 60 % (a phone lens' falloff)
}


def augment(X, seed, ranges=None, image_shape=IMAGE_SHAPE):
    """Randomly transform each column of X (n_x, m), a flattened photo in [0, 1].

    Args:
        seed: int64 tensor of shape (2,): every draw is a function of it.
        ranges: dict like ``AUGMENTATION`` (default: it).
    Returns:
        (n_x, m) float32 tensor, each column one transformed photo in [0, 1].
    """
    r = dict(AUGMENTATION, **(ranges or {}))
    height, width, channels = image_shape
    images = tf.reshape(tf.transpose(X), [-1, height, width, channels])
    m = tf.shape(images)[0]
    u = tf.random.stateless_uniform([m, 9], seed, dtype=tf.float32)  # one row of draws per photo

    def between(k, low, high):
        return low + (high - low) * u[:, k]

    # Geometry: one projective transform per photo, output pixel -> input pixel.
    angle = between(0, -1.0, 1.0) * (r["rotation_degrees"] * math.pi / 180)
    scale = tf.exp(between(1, math.log(r["scale"][0]), math.log(r["scale"][1])))
    shift_x = between(2, -r["shift"], r["shift"]) * width
    shift_y = between(3, -r["shift"], r["shift"]) * height
    flip = 1.0 - 2.0 * tf.cast(u[:, 4] < 0.5, tf.float32) if r["flip"] else tf.ones([m])
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    cx, cy = (width - 1) / 2.0, (height - 1) / 2.0
    # input = R(angle) / scale @ (flip * (out - c)) + c - shift
    a0, a1 = cos * flip, -sin
    b0, b1 = sin * flip, cos
    a2 = cx - a0 * cx - a1 * cy - shift_x
    b2 = cy - b0 * cx - b1 * cy - shift_y
    zeros = tf.zeros([m])
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    images = tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=tf.constant([height, width]),
        fill_value=tf.constant(0.0), interpolation="BILINEAR", fill_mode="NEAREST")

    # Colour: brightness, contrast, saturation, per photo.
    per_photo = lambda v: tf.reshape(v, [-1, 1, 1, 1])  # noqa: E731
    images = images + per_photo(between(5, -r["brightness"], r["brightness"]))
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    images = mean + per_photo(between(6, *r["contrast"])) * (images - mean)
    gray = tf.reduce_mean(images, axis=3, keepdims=True)
    images = gray + per_photo(between(7, *r["saturation"])) * (images - gray)
    # Vignette: 1 - strength * (distance from the centre / half-diagonal)^2.
    yy, xx = tf.meshgrid(tf.range(height, dtype=tf.float32) - cy, tf.range(width, dtype=tf.float32) - cx,
                         indexing="ij")
    falloff = tf.reshape((xx ** 2 + yy ** 2) / (cx ** 2 + cy ** 2), [1, height, width, 1])
    images = images * (1.0 - per_photo(between(8, 0.0, r["vignette"])) * falloff)
    images = tf.clip_by_value(images, 0.0, 1.0)
    return tf.transpose(tf.reshape(images, [m, -1]))
