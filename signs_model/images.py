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
    palette images are converted to RGB (16-bit and float grayscale scaled down
    to 8 bits), and the photo is resized to size x size (squashed, as the
    course's ``imresize`` did).
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
            ImageOps.exif_transpose(im, in_place=True)  # in place: keeps the TIFF tags read below
            if im.mode in ("I", "F") or im.mode.startswith("I;16"):
                im = _gray_to_8_bits(im)
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


def labelled_images(folder):
    """The labelled photos in ``folder``, as [(path, label)] sorted by path.

    A photo's label is its class subfolder (``3/IMG_5012.jpg``, at any depth
    below ``3/``) or, for a file directly in ``folder``, a ``<digit>_`` name
    prefix (``3_IMG_5012.jpg``, also ``sign_3_IMG_5012.jpg``: the first
    all-digit ``_``-separated part before the last). Other files are skipped,
    and so are hidden ones (``.DS_Store``, ``.ipynb_checkpoints/``). Whether a
    labelled file is an image is only known when it is read.
    """
    folder = Path(folder)
    if not folder.is_dir():
        what = "it is a file" if folder.exists() else "it does not exist"
        raise SignsError(f"{folder}: not a folder ({what}); expected a folder of photos named "
                         f"<digit>_*.jpg or in class subfolders 0/ 1/ ...")
    items = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        tokens = rel.parts[:1] if len(rel.parts) > 1 else path.stem.split("_")[:-1]
        # ASCII only: "³".isdigit() is True, but int() refuses it
        label = next((t for t in tokens if t.isascii() and t.isdigit()), None)
        if label is not None:
            items.append((path, int(label)))
    if not items:
        raise SignsError(f"{folder}: no labelled images; expected files named <digit>_*.jpg "
                         f"or class subfolders 0/ 1/ ...")
    return items


def _gray_to_8_bits(im):
    """A high-bit-depth grayscale image ("I;16", "I", "F") as 8-bit "L", scaled.

    Pillow's convert("RGB") clips these modes at 255, so a 16-bit photo would
    read as nearly all white. Integer samples keep their top 8 bits, as Pillow
    does itself for 16-bit RGB PNGs; "I" holds 16-bit samples (PNG, PGM) unless
    a TIFF says otherwise. Float samples are taken as [0, 1].
    """
    from PIL import Image

    a = np.asarray(im)
    if im.mode == "F":
        a = np.round(np.clip(np.nan_to_num(a), 0, 1) * 255)
    else:
        bits = 16
        if im.mode == "I" and hasattr(im, "tag_v2"):  # TIFF BitsPerSample, one or one per sample
            # "I" is signed 32-bit: a 32-bit TIFF's non-negative samples span 31 bits
            bits = min(31, max(8, int(np.max(im.tag_v2.get(258, 16)))))
        a = np.clip(a.astype(np.int64), 0, 2**bits - 1) >> (bits - 8)
    return Image.fromarray(a.astype(np.uint8))  # 2-D uint8: mode "L"
