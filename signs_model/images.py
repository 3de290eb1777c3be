"""Reading "your own image": any common photo to the 64x64 RGB array the network was trained on."""
import os
import re
import warnings
from pathlib import Path

import numpy as np

from .errors import SignsError

MAX_FILE_BYTES = 50 * 2**20  # a phone photo is a few MB; refuse anything absurd before decoding
MAX_PIXELS = 50_000_000
# A flat file's label: a leading "<digit>_" ("3_hand.jpg"; "sign_3_IMG_1182.jpg" as images/ names
# them). Nothing later in a name counts: IMG_0004_edit.jpg holds a camera's counter, not a label.
FLAT_LABEL = re.compile(r"(?:sign_)?([0-9])_")
CLASS_FOLDER = re.compile(r"[0-9]")  # a class folder is one digit: 0/ ... 9/
RULE = "named <digit>_*.jpg (3_hand.jpg) or in class folders 0/ ... 9/"


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
        if path.is_symlink():
            raise SignsError(f"{path}: a broken link (to {os.readlink(path)}); expected a photo file")
        raise SignsError(f"{path}: no such image file")
    nbytes = os.path.getsize(path)
    if nbytes > MAX_FILE_BYTES:
        raise SignsError(f"{path}: file is {nbytes / 2**20:.0f} MB; expected a photo under "
                         f"{MAX_FILE_BYTES // 2**20} MB")
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own limit; ours is lower and refuses them with their size
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
        with im:
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
    except Image.DecompressionBombError as e:
        pixels = re.search(r"\((\d+) pixels\)", str(e))
        size = f"{int(pixels.group(1)) / 1e6:.0f} megapixels" if pixels else "too many pixels"
        raise SignsError(f"{path}: image is {size}, over the pixel limit for decoding safely; "
                         f"expected at most {MAX_PIXELS // 1_000_000} megapixels") from None
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise SignsError(f"{path}: not a readable image ({type(e).__name__}); "
                         f"expected a JPEG, PNG or other common photo format") from None


def labelled_images(folder):
    """The labelled photos in ``folder``, as [(path, label)] sorted by path (``scan_photos``)."""
    return scan_photos(folder)[0]


def scan_photos(folder):
    """The photos in ``folder``: those with a label and those without, each sorted by path.

    One rule: a photo's label is its class folder, one digit (``3/IMG_5012.jpg``,
    at any depth below ``3/``) or, for a file directly in ``folder``, a leading
    ``<digit>_`` (``3_hand.jpg``; ``sign_3_IMG_1182.jpg`` as images/ names them).
    A camera's name (``IMG_0004_edit.jpg``, ``IMG_20240501_123456.jpg``) has no
    label: such photos are returned as skipped, never guessed. Unlabelled files
    that are not photos by their extension (``LICENSE``, ``notes.txt``) and
    hidden ones (``.DS_Store``, ``.ipynb_checkpoints/``) are passed over. Linked
    folders are followed (each real folder once, so a link loop ends); a broken
    link is kept as a photo and named as unreadable when it is read, as is any
    labelled file that turns out not to be an image. A folder that cannot be
    listed is refused, not left out.

    Returns:
        ([(path, label)], [path of each photo without a label]).
    """
    from PIL import Image

    folder = Path(folder)
    if not folder.is_dir():
        what = "it is a file" if folder.exists() else "it does not exist"
        raise SignsError(f"{folder}: not a folder ({what}); expected a folder of photos {RULE}")
    photo_suffixes = {*Image.registered_extensions(), ".heic", ".heif"}
    labelled, skipped, seen = [], [], set()
    for top, dirs, names in os.walk(folder, onerror=_unlistable, followlinks=True):
        real = os.stat(top)
        if (real.st_dev, real.st_ino) in seen:  # a linked folder met before: a loop or a twin
            dirs[:] = []
            continue
        seen.add((real.st_dev, real.st_ino))
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # the same walk every time
        for name in names:
            path = Path(top) / name
            rel = path.relative_to(folder)
            if name.startswith("."):
                continue
            if len(rel.parts) > 1:
                label = rel.parts[0] if CLASS_FOLDER.fullmatch(rel.parts[0]) else None
            else:
                label = m.group(1) if (m := FLAT_LABEL.match(name)) else None
            if label is not None:
                labelled.append((path, int(label)))
            elif path.suffix.lower() in photo_suffixes:
                skipped.append(path)
    if not labelled:
        raise SignsError(f"{folder}: no labelled images" + (
            f" ({len(skipped)} photos without a label, first: {sorted(skipped)[0].name})"
            if skipped else "") + f"; expected photos {RULE}")
    return sorted(labelled), sorted(skipped)


def _unlistable(error):
    raise SignsError(f"{error.filename}: cannot list the folder ({error.strerror}); expected a "
                     f"folder of photos this user can read")


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
