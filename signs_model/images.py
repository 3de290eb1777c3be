"""Reading "your own image": any common photo to the 64x64 RGB array the network was trained on."""
import os
from pathlib import Path

import numpy as np

from .errors import SignsError

MAX_FILE_BYTES = 50 * 2**20  # a phone photo is a few MB; refuse anything absurd before decoding
MAX_PIXELS = 50_000_000


def load_image(path, size=64):
    """Load a JPEG/PNG/... photo as (size, size, 3) uint8 RGB.

    EXIF rotation is applied, alpha is composited on white, grayscale and
    palette images are converted to RGB, and the photo is resized to
    size x size (squashed, as the course's ``imresize`` did).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise SignsError(f"{path}: no such image file")
    nbytes = os.path.getsize(path)
    if nbytes > MAX_FILE_BYTES:
        raise SignsError(f"{path}: file is {nbytes / 2**20:.0f} MB; expected a photo under "
                         f"{MAX_FILE_BYTES // 2**20} MB")
    try:
        with Image.open(path) as im:
            if im.width * im.height > MAX_PIXELS:
                raise SignsError(f"{path}: image is {im.width}x{im.height} pixels; expected at most "
                                 f"{MAX_PIXELS // 1_000_000} megapixels")
            im = ImageOps.exif_transpose(im)
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
                rgba = im.convert("RGBA")
                im = Image.new("RGB", rgba.size, (255, 255, 255))
                im.paste(rgba, mask=rgba.getchannel("A"))
            im = im.convert("RGB").resize((size, size), Image.BILINEAR)
            return np.asarray(im, dtype=np.uint8)
    except SignsError:
        raise
    except Image.DecompressionBombError:
        raise SignsError(f"{path}: image is too large to decode safely; expected at most "
                         f"{MAX_PIXELS // 1_000_000} megapixels") from None
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise SignsError(f"{path}: not a readable image ({type(e).__name__}); "
                         f"expected a JPEG, PNG or other common photo format") from None
