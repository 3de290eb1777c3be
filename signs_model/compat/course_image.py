"""The course's "test with your own image" cell on today's SciPy: ``imread`` and ``imresize``.

SciPy 1.2 removed ``scipy.ndimage.imread`` and ``scipy.misc.imresize``, which the
cell used::

    image = np.array(ndimage.imread(fname, flatten=False))
    my_image = scipy.misc.imresize(image, size=(64,64)).reshape((1, 64*64*3)).T

With ``from signs_model.course_image import imread, imresize`` the same two
lines read ``imread(fname, flatten=False)`` and ``imresize(image, size=(64,64))``
and give what SciPy gave: both were Pillow underneath, and these call
Pillow the same way. Like SciPy's, ``imread`` does not apply EXIF rotation
(``signs predict`` and `signs_model.images.load_image` do).
"""
import numbers

import numpy as np

from ..errors import SignsError

# SciPy's names for Pillow's filters
FILTERS = {"nearest": 0, "lanczos": 1, "bilinear": 2, "bicubic": 3, "cubic": 3}


def imread(fname, flatten=False, mode=None):
    """An image file as an array: (h, w) for grayscale, (h, w, 3) RGB, (h, w, 4) RGBA; uint8.

    Args:
        flatten: one gray layer as float32 (L = 0.299 R + 0.587 G + 0.114 B), as SciPy's.
        mode: a Pillow mode to convert to first ("RGB", "L", ...).
    """
    from PIL import Image

    with Image.open(fname) as im:
        im.load()
        return _to_array(im, flatten, mode)


def imresize(arr, size, interp="bilinear", mode=None):
    """``arr`` resized, as uint8 (float32 for mode "F"), the way ``scipy.misc.imresize`` did.

    Args:
        arr: (h, w) or an image with 3 or 4 channels (the first axis of size 3, else
            of size 4, is the channel axis). Arrays that are not uint8 are stretched to
            0..255 from their own min and max first (SciPy's ``bytescale``: an image in
            [0, 1] comes out as 0..255, one in [0.2, 0.4] too).
        size: (rows, cols); an int: a percentage of the size; a float: a fraction of it.
        interp: "nearest", "lanczos", "bilinear" (default), "bicubic" or "cubic".
        mode: the Pillow mode to resize in: "L" or "F" (float) for (h, w) arrays,
            "RGB" or "RGBA" for color ones; default from the shape.
    """
    from PIL import Image

    if interp not in FILTERS:
        raise SignsError(f"interp must be one of {', '.join(FILTERS)}, got {interp!r}",
                         argument="interp")
    im = _to_image(np.asarray(arr), mode)
    if isinstance(size, numbers.Integral):
        new_size = tuple((np.array(im.size) * size / 100.0).astype(int))
    elif isinstance(size, numbers.Real):
        new_size = tuple((np.array(im.size) * size).astype(int))
    else:
        new_size = (size[1], size[0])  # Pillow counts columns first
    return _to_array(im.resize(new_size, resample=Image.Resampling(FILTERS[interp])))


def _to_array(im, flatten=False, mode=None):
    """SciPy's ``fromimage``: palette images as RGB(A), 1-bit as 0/255 "L"; flatten: float32 gray."""
    if mode is not None:
        im = im.convert(mode) if mode != im.mode else im
    elif im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if flatten:
        im = im.convert("F")
    elif im.mode == "1":
        im = im.convert("L")
    return np.array(im)


def _bytescale(a):
    """SciPy's ``bytescale``: uint8 unchanged; anything else mapped from [min, max] onto 0..255."""
    if a.dtype == np.uint8:
        return a
    low, high = a.min(), a.max()
    scale = 255.0 / float((high - low) or 1)  # a Python float, as SciPy's: float32 stays float32
    return (((a - low) * scale).clip(0, 255) + 0.5).astype(np.uint8)


def _to_image(a, mode):
    """SciPy's ``toimage`` for the shapes and modes ``imresize`` meets."""
    from PIL import Image

    if np.iscomplexobj(a):
        raise SignsError("imresize needs a real image, got complex values", argument="arr")
    if a.ndim == 2:
        if mode == "F":
            return Image.fromarray(a.astype(np.float32))  # mode "F"
        if mode in (None, "L"):
            return Image.fromarray(_bytescale(a))  # mode "L"
        raise SignsError(f"mode for a (h, w) array must be L or F, got {mode!r}", argument="mode")
    channels = [k for k, n in enumerate(a.shape) if n == 3] or [k for k, n in enumerate(a.shape) if n == 4]
    if a.ndim != 3 or not channels:
        raise SignsError(f"imresize needs an (h, w) array or one with 3 or 4 channels, got shape "
                         f"{a.shape}", argument="arr")
    a = np.moveaxis(_bytescale(a), channels[0], -1)
    mode = mode or ("RGB" if a.shape[-1] == 3 else "RGBA")
    if {"RGB": 3, "RGBA": 4}.get(mode) != a.shape[-1]:
        raise SignsError(f"mode {mode!r} does not fit an image of {a.shape[-1]} channels; expected "
                         f"RGB for 3 or RGBA for 4", argument="mode")
    return Image.fromarray(np.ascontiguousarray(a))  # mode "RGB" or "RGBA"
