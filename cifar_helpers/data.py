"""Load CIFAR-10 as uint8 NHWC arrays, from a local copy or the official download."""

import hashlib
import os
import pickle
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from .settings import current

CLASS_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
OFFICIAL_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
OFFICIAL_NAME = "cifar-10-python.tar.gz"
BATCHES_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
EXPECTED_COUNTS = (50_000, 10_000)
ENV_VAR = "CIFAR10_DATA"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")

HOW_TO_FIX = (
    f"Point the helpers at a local copy: set the environment variable {ENV_VAR} "
    f"(or pass source=...) to the official {OFFICIAL_NAME}, its extracted "
    f"{BATCHES_DIR}/ folder, or an image-folder tree with train/<class>/ and "
    "test/<class>/ sub-folders."
)


class DataError(RuntimeError):
    """CIFAR-10 could not be found, read or validated; the message says how to fix it."""


@dataclass(frozen=True)
class Cifar10:
    """The CIFAR-10 train and test sets: uint8 NHWC images and int64 labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple = CLASS_NAMES
    source: str = ""


def cache_dir() -> Path:
    """Where decoded copies and downloads are kept (Keras' own cache folder)."""
    return current().keras_home / "datasets"


def load_cifar10(source=None) -> Cifar10:
    """Load CIFAR-10 from `source`, else $CIFAR10_DATA, else Keras' cache or download.

    Introduced in notebook 00.
    """
    source = source or current().data or None
    if source is None:
        path, label = download_official(), "official download"
        (x_train, y_train), (x_test, y_test) = read_batches_folder(path)
    else:
        path = Path(source).expanduser()
        (x_train, y_train), (x_test, y_test) = read_local(path)
        label = source_label(path)
    data = Cifar10(x_train, y_train, x_test, y_test, source=label)
    validate(data)
    return data


def source_label(path: Path) -> str:
    """How a local copy is named in records and notebooks:
    the official files, or an image-folder copy and its format.
    """
    if path.is_dir() and ((path / "train").is_dir() or (path / "test").is_dir()):
        first = next((f for d in sorted((path / "train").glob("*")) if d.is_dir() for f in image_files(d)), None)
        kind = "JPEG" if first is not None and first.suffix.lower() in (".jpg", ".jpeg") else "image"
        return f"{kind} image-folder copy"
    return "official files (local copy)"


def is_jpeg_copy(source: str) -> bool:
    """True for the JPEG re-encoding, whose accuracies run below the official files'."""
    return source.startswith("JPEG")


def data_note(source: str) -> str:
    """One line naming the data a run used, with the JPEG copy's measured cost where it applies.

    Introduced in notebook 09.
    """
    from .references import AIRBENCH94_JPEG_RUNS, AIRBENCH94_OFFICIAL, JPEG_COPY_PENALTY

    line = f"Data: CIFAR-10, {source or 'source not recorded'}."
    if is_jpeg_copy(source):
        runs = " / ".join(f"{value:.2f}%" for value in AIRBENCH94_JPEG_RUNS)
        line += (
            f" Accuracies on it run about {JPEG_COPY_PENALTY} points below the official files at the top end"
            f" (airbench94: {AIRBENCH94_OFFICIAL:.2f}% official, {runs} on this copy)."
        )
    return line


def download_official() -> Path:
    """Fetch and unpack the official archive through keras.utils.get_file (hash-checked)."""
    import keras

    try:
        archive = keras.utils.get_file(
            OFFICIAL_NAME,
            origin=OFFICIAL_URL,
            file_hash=OFFICIAL_SHA256,
            cache_dir=str(cache_dir().parent),
            cache_subdir="datasets",
        )
    except Exception as error:  # network down, proxy, hash mismatch ...
        raise DataError(
            f"CIFAR-10 is not in Keras' cache and the download from {OFFICIAL_URL} "
            f"failed ({type(error).__name__}: {error}). {HOW_TO_FIX}"
        ) from error
    return extract_official(Path(archive), verify_hash=False)


def read_local(path: Path):
    """Read whichever local layout `path` is: official archive, batches folder or image tree."""
    if not path.exists():
        raise DataError(f"{ENV_VAR}/source points at {path}, which does not exist. {HOW_TO_FIX}")
    if path.is_file():
        if not path.name.endswith(".tar.gz"):
            raise DataError(
                f"{path.name} is not a layout the helpers read. If it is the JPEG copy "
                f"(.tar.xz), unpack it first: tar -xJf {path.name} -C DIR and point "
                f"{ENV_VAR} at DIR. {HOW_TO_FIX}"
            )
        return read_batches_folder(extract_official(path, verify_hash=True))
    if (path / BATCHES_DIR).is_dir():
        path = path / BATCHES_DIR
    if (path / "data_batch_1").exists() or (path / "test_batch").exists():
        return read_batches_folder(path)
    if (path / "train").is_dir() or (path / "test").is_dir():
        return read_image_tree_cached(path)
    raise DataError(f"{path} holds neither CIFAR-10 batches nor train/ and test/ image folders. {HOW_TO_FIX}")


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def extract_official(archive: Path, verify_hash: bool, expected_sha256: str = OFFICIAL_SHA256) -> Path:
    """Unpack the official archive into the cache once; return its batches folder."""
    target = cache_dir() / f"{BATCHES_DIR}-{expected_sha256[:12]}"
    if (target / BATCHES_DIR / "test_batch").exists():
        return target / BATCHES_DIR
    if verify_hash and sha256_of(archive) != expected_sha256:
        raise DataError(
            f"{archive} is not the official CIFAR-10 archive (its SHA-256 differs from "
            f"{expected_sha256}); it is probably truncated or corrupt. Download it again "
            f"from {OFFICIAL_URL}, or unset {ENV_VAR} to let Keras fetch it."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".extract-"))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(staging, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise DataError(f"{archive} could not be unpacked ({error}); it is corrupt. {HOW_TO_FIX}") from error
    os.replace(staging, target)
    return target / BATCHES_DIR


def read_batch(path: Path):
    """Read one pickled CIFAR-10 batch as (uint8 NHWC images, int64 labels)."""
    try:
        with open(path, "rb") as handle:
            batch = pickle.load(handle, encoding="bytes")
        flat = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except FileNotFoundError as error:
        raise DataError(
            f"{path.name} is missing from {path.parent}; the batches folder is incomplete. {HOW_TO_FIX}"
        ) from error
    except Exception as error:
        raise DataError(f"{path} is not a readable CIFAR-10 batch ({error}). {HOW_TO_FIX}") from error
    return flat.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def read_batches_folder(folder: Path):
    """Read the five training batches and the test batch of a cifar-10-batches-py folder."""
    parts = [read_batch(folder / name) for name in TRAIN_BATCHES]
    x_train = np.concatenate([x for x, _ in parts])
    y_train = np.concatenate([y for _, y in parts])
    return (x_train, y_train), read_batch(folder / "test_batch")


def image_files(folder: Path):
    """The image files directly inside `folder`, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def decode_image(path: Path) -> np.ndarray:
    """One image file as a uint8 height x width x 3 (RGB) array."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def read_image_split(folder: Path, expected_count: int):
    """Decode <folder>/<class>/* into uint8 NHWC arrays, checking classes and count."""
    if not folder.is_dir():
        raise DataError(f"{folder} is missing: an image-folder copy needs train/ and test/. {HOW_TO_FIX}")
    present = {p.name for p in folder.iterdir() if p.is_dir()}
    missing = [name for name in CLASS_NAMES if name not in present]
    unknown = sorted(present - set(CLASS_NAMES))
    if missing or unknown:
        raise DataError(
            f"{folder} must hold exactly the ten class folders {', '.join(CLASS_NAMES)}; "
            f"missing: {missing or 'none'}, unexpected: {unknown or 'none'}. "
            "Re-extract the archive into an empty folder."
        )
    files = [(label, path) for label, name in enumerate(CLASS_NAMES) for path in image_files(folder / name)]
    if len(files) != expected_count:
        counts = {name: len(image_files(folder / name)) for name in CLASS_NAMES}
        raise DataError(
            f"{folder} holds {len(files)} images, CIFAR-10 has {expected_count} "
            f"(per class: {counts}). The copy is incomplete: re-extract it."
        )
    images = np.empty((len(files), 32, 32, 3), dtype=np.uint8)
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:  # Pillow decodes outside the GIL
        for i, ((_, path), pixels) in enumerate(zip(files, pool.map(decode_image, [path for _, path in files]))):
            if pixels.shape != (32, 32, 3):
                raise DataError(f"{path} is {pixels.shape[1]}x{pixels.shape[0]}, not 32x32: not a CIFAR-10 image.")
            images[i] = pixels
    labels = np.array([label for label, _ in files], dtype=np.int64)
    return images, labels


def read_image_tree(root: Path, expected=EXPECTED_COUNTS):
    """Decode an image-folder copy: root/train/<class>/* and root/test/<class>/*."""
    return read_image_split(root / "train", expected[0]), read_image_split(root / "test", expected[1])


def tree_fingerprint(root: Path) -> str:
    """A short key that changes when the image tree's files change."""
    digest = hashlib.sha256(str(root.resolve()).encode())
    for split in ("train", "test"):
        for class_dir in sorted((root / split).glob("*")):
            stat = class_dir.stat()
            digest.update(f"{class_dir.name}:{len(list(class_dir.iterdir()))}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def read_image_tree_cached(root: Path, expected=EXPECTED_COUNTS):
    """Decode an image tree once and keep the arrays as .npz in the cache, so reloads take seconds."""
    cached = cache_dir() / f"cifar10-images-{tree_fingerprint(root)}.npz"
    if cached.exists():
        with np.load(cached) as arrays:
            return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
    (x_train, y_train), (x_test, y_test) = read_image_tree(root, expected)
    cached.parent.mkdir(parents=True, exist_ok=True)
    staging = cached.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(staging, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    os.replace(staging, cached)
    return (x_train, y_train), (x_test, y_test)


def validate(data: Cifar10, expected=EXPECTED_COUNTS) -> None:
    """Check counts, image shape, dtype and labels; raise DataError naming what is wrong."""
    for name, images, labels, count in (
        ("train", data.x_train, data.y_train, expected[0]),
        ("test", data.x_test, data.y_test, expected[1]),
    ):
        if images.shape != (count, 32, 32, 3) or images.dtype != np.uint8:
            raise DataError(
                f"{name} images are {images.dtype} {images.shape}; expected uint8 {(count, 32, 32, 3)}. {HOW_TO_FIX}"
            )
        if labels.shape != (count,):
            raise DataError(f"{name} labels have shape {labels.shape}; expected ({count},).")
        if labels.min() < 0 or labels.max() > 9:
            raise DataError(f"{name} labels run {labels.min()}..{labels.max()}; expected 0..9.")
        absent = sorted(set(range(10)) - set(np.unique(labels).tolist()))
        if absent:
            raise DataError(f"{name} set has no images of class(es) {[CLASS_NAMES[i] for i in absent]}.")
