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
    "hue": 0.0,                 # turn the hues by up to +-hue degrees (0: off)
    "erase": 0.0,               # chance of a rectangle of noise over the photo (0: off)
    "erase_area": (0.02, 0.25),  # its share of the photo
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
    if r["hue"] or r["erase"]:
        # Drawn from a seed of their own, so that turning them on leaves the draws above as they were.
        v = tf.random.stateless_uniform([m, 6], seed + tf.constant([32, 0], tf.int64))
        if r["hue"]:
            images = turn_hue(images, (2 * v[:, 0] - 1) * (r["hue"] * math.pi / 180))
        if r["erase"]:
            images = erase(images, v[:, 1:], r["erase"], r["erase_area"],
                           seed + tf.constant([33, 0], tf.int64))
    return tf.transpose(tf.reshape(images, [m, -1]))


def turn_hue(images, angle):
    """Turn each photo's colours by ``angle`` (m,) radians about the gray axis (a hue shift).

    A colour v = g + d, g its gray (the channel mean, kept) and d its tint, becomes
    g + d cos(angle) + (k x v) sin(angle), k the unit gray axis (1, 1, 1) / sqrt(3).
    """
    r, g, b = tf.unstack(images, axis=3)
    cross = tf.stack([b - g, r - b, g - r], axis=3) / math.sqrt(3.0)
    gray = tf.reduce_mean(images, axis=3, keepdims=True)
    cos, sin = (tf.reshape(f(angle), [-1, 1, 1, 1]) for f in (tf.cos, tf.sin))
    return tf.clip_by_value(gray + (images - gray) * cos + cross * sin, 0.0, 1.0)


def erase(images, u, chance, area, seed):
    """Random erasing: with probability ``chance``, a rectangle of each photo becomes noise.

    Args:
        images: (m, height, width, channels) in [0, 1].
        u: (m, 5) uniform draws: erase or not, area, aspect ratio, centre x, centre y.
        area: (low, high) share of the photo the rectangle covers; its aspect ratio is
            between 1/2 and 2.
        seed: (2,) int64 tensor for the noise.
    """
    _, height, width, _ = images.shape.as_list()
    size = (area[0] + (area[1] - area[0]) * u[:, 1]) * height * width
    aspect = tf.exp((2 * u[:, 2] - 1) * math.log(2.0))
    half_w, half_h = tf.sqrt(size * aspect) / 2, tf.sqrt(size / aspect) / 2
    cx, cy = u[:, 3] * width, u[:, 4] * height
    yy, xx = tf.meshgrid(tf.range(height, dtype=tf.float32) + 0.5,
                         tf.range(width, dtype=tf.float32) + 0.5, indexing="ij")
    column = lambda t: tf.reshape(t, [-1, 1, 1])  # noqa: E731
    inside = ((tf.abs(xx - column(cx)) < column(half_w)) & (tf.abs(yy - column(cy)) < column(half_h))
              & column(u[:, 0] < chance))
    noise = tf.random.stateless_uniform(tf.shape(images), seed)
    return tf.where(tf.broadcast_to(inside[..., None], tf.shape(images)), noise, images)
