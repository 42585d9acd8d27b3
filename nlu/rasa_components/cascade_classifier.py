"""A cascade intent classifier for Rasa 3.6: the n-gram model answers when it is sure, the encoders the rest.

Most messages customers send are plain requests the word and character n-grams of our data already place
with high confidence; the pretrained sentence encoders (sentence_embeddings.py) earn their cost on the
rest: other people's phrasing, Arabizi, the other language's words. So this component holds two
calibrated linear SVMs (linear_classifier.py):

- the **n-gram model**, on the sparse features of the featurizers before it (n-gram counts, regexes);
- the **full model**, on the same sparse features plus the encoders' sentence vectors (each L2-normalised
  times its `scale`), the model `config.yml` used alone before.

A message is answered by the n-gram model when its top confidence is at least `confident`; otherwise (and
for every message when `confident` is above 1) the encoders read it and the full model answers. The
encoders are this component's own (not featurizers of the pipeline), so a confident message never pays
for them. `confident` was chosen on held-out data (README, Performance). The parse result carries
`cascade`: which model answered and the n-gram model's top intent and confidence, so the share of
encoded messages can be measured and a threshold compared without retraining.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.calibration import CalibratedClassifierCV

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH

from nlu.rasa_components.linear_classifier import balanced_weights, calibrated_svm
from nlu.rasa_components.sentence_embeddings import Embedder, validate_encoder

logger = logging.getLogger(__name__)

CASCADE = "cascade"
MODEL_FILE = "cascade.npz"
MODELS = ("ngrams", "full")
WEIGHTINGS = ("counts", "tfidf")
GATHER_ROWS = 64  # up to this many messages at once, the decision gathers the weights it needs (CalibratedLinear)


@dataclass(frozen=True)
class CalibratedLinear:
    """What a fitted CalibratedClassifierCV(LinearSVC, sigmoid, ensemble=False) computes, as arrays.

    scikit-learn's predict_proba validates its input and asks one calibrator object per intent: ~3 ms
    a message on this machine, for a product of a sparse row with a weight matrix and 27 sigmoids. The
    same arithmetic on the saved arrays takes a few hundredths of that (tested to agree with sklearn).
    """

    weights: np.ndarray  # (rows, features) float32: one row per intent, one in all for two intents
    intercept: np.ndarray  # (rows,)
    slope: np.ndarray  # (rows,) the sigmoid of each row: p = 1 / (1 + exp(slope * d + offset))
    offset: np.ndarray  # (rows,)
    classes: np.ndarray  # (n,) the label index of each probability column

    @classmethod
    def from_sklearn(cls, model: CalibratedClassifierCV) -> "CalibratedLinear":
        (calibrated,) = model.calibrated_classifiers_
        svm = getattr(calibrated, "base_estimator", None) or calibrated.estimator
        return cls(
            weights=np.asarray(svm.coef_, dtype=np.float32),
            intercept=np.asarray(svm.intercept_, dtype=np.float64),
            slope=np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64),
            offset=np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64),
            classes=np.asarray(model.classes_),
        )

    def predict_proba(self, features: csr_matrix, dense: Optional[np.ndarray] = None) -> np.ndarray:
        """Probabilities of the rows `features`; with `dense`, the rows are `features` followed by the
        columns of `dense` (the full model's sentence vector and nearest-example features)."""
        decision = self._decision(features, dense) + self.intercept
        sigmoid = 1.0 / (1.0 + np.exp(self.slope * decision + self.offset))
        if len(self.classes) == 2:  # one row: the second class's probability
            proba = np.hstack([1.0 - sigmoid, sigmoid])
        else:
            total = sigmoid.sum(axis=1, keepdims=True)
            proba = np.divide(sigmoid, total, out=np.full_like(sigmoid, 1 / len(self.classes)), where=total != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba

    def _decision(self, features: csr_matrix, dense: Optional[np.ndarray] = None) -> np.ndarray:
        """[features | dense] @ weights.T in float64. scipy would first convert the whole float32 weight
        matrix to float64 (27 × ~77,000: a 16 MB copy, ~1.5 ms, for every parse); a parse has ~100
        non-zero features, so for a few messages only the weights of those are gathered (the same
        products), and the dense columns are one small product with the last columns of the weights
        (instead of scipy building a sparse matrix of them and stacking it beside `features`: ~1 ms of
        scipy's per-call overhead on one row). Large batches (training, evaluation) amortise the copy and
        take scipy's way."""
        if not isinstance(features, csr_matrix):
            features = csr_matrix(features)
        rows, sparse_width = features.shape
        width = sparse_width + (0 if dense is None else dense.shape[1])
        if width != self.weights.shape[1]:
            raise ValueError(f"{width} features for a model of {self.weights.shape[1]}")
        if dense is not None and dense.shape[0] != rows:
            raise ValueError(f"{dense.shape[0]} dense rows beside {rows} sparse ones")
        if rows > GATHER_ROWS:
            if dense is not None:
                features = hstack([features, csr_matrix(dense)], format="csr")
            return np.asarray(features @ self.weights.T, dtype=np.float64)
        products = self.weights[:, features.indices].T.astype(np.float64) * features.data[:, None]
        decision = np.zeros((rows, self.weights.shape[0]), dtype=np.float64)
        bounds = features.indptr
        for row in range(rows):
            decision[row] = products[bounds[row]:bounds[row + 1]].sum(axis=0)
        if dense is not None:
            decision += np.asarray(dense, dtype=np.float64) @ self.weights[:, sparse_width:].T.astype(np.float64)
        return decision

    def arrays(self, prefix: str) -> Dict[str, np.ndarray]:
        return {f"{prefix}.{name}": getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_arrays(cls, arrays: Any, prefix: str) -> "CalibratedLinear":
        return cls(**{name: arrays[f"{prefix}.{name}"] for name in cls.__dataclass_fields__})


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class CascadeIntentClassifier(IntentClassifier, GraphComponent):
    """An n-gram SVM that answers above `confident`, else an SVM on n-grams plus sentence encoders."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [Featurizer]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "C": 0.05,
            "calibration_folds": 3,
            "max_iter": 5000,
            "random_state": 42,
            # Classes are weighed inversely to their number of examples (sklearn's "balanced"), each
            # times its factor here ({intent: factor}; 1 where not given).
            "class_weights": {},
            # The n-gram model's top confidence from which its answer stands (above 1: always encode).
            "confident": 0.9,
            # The encoders of the full model, each with its weight beside the n-gram features.
            "encoders": [{"encoder": "use", "scale": 6.0}],
            # How the featurizers' sparse sentence features are weighed: "counts" as they come, or
            # "tfidf": per featurizer, 1 + log(count) times the n-gram's inverse document frequency in the
            # training examples, each message's row scaled to length 1, times that featurizer's weight
            # in `block_weights` (in pipeline order; 1 where not given).
            "weighting": "counts",
            "block_weights": [],
            # Nearest examples, for the full model: per intent, the mean cosine similarity of the message's
            # sentence vector to its `prototype_k` most similar training examples of that intent, times
            # `prototype_scale`, as features beside the others (0: none). The training examples' vectors are
            # kept with the model; in training each example is compared with the others, not itself.
            "prototype_k": 0,
            "prototype_scale": 0.6,
            "batch_size": 64,
            "max_chars": 1000,
            RANKING_LENGTH: LABEL_RANKING_LENGTH,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        name: Text,
        model_storage: ModelStorage,
        resource: Resource,
        models: Optional[Dict[str, CalibratedLinear]] = None,
        labels: Optional[List[str]] = None,
        idf: Optional[List[np.ndarray]] = None,
        prototypes: Optional[Tuple[np.ndarray, np.ndarray]] = None,
    ) -> None:
        self.name = name
        self.config = {**self.get_default_config(), **config}
        self.models = models or {}
        self.labels = labels or []
        # Per featurizer block, the inverse document frequencies ("tfidf" weighting; set by train or load).
        self.idf: List[np.ndarray] = idf or []
        # The training examples' sentence vectors (unit length) and intents, for the prototype features
        # (set by _set_prototypes: grouped by intent, see there).
        self.prototypes: Optional[Tuple[np.ndarray, np.ndarray]] = None
        self._known_t = np.zeros((0, 0), dtype=np.float32)
        self._bounds = np.zeros(1, dtype=np.int64)
        self._position = np.zeros(0, dtype=np.int64)
        self._padded: Optional[np.ndarray] = None
        if prototypes is not None:
            self._set_prototypes(*prototypes)
        self._model_storage = model_storage
        self._resource = resource
        # Loaded now, not on the first uncertain message (seconds for e5).
        self.embedders = [
            (Embedder(e["encoder"], int(self.config["batch_size"]), int(self.config["max_chars"])),
             float(e.get("scale", 1.0)))
            for e in self.config["encoders"]
        ]

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if float(config.get("C", 1.0)) <= 0:
            raise ValueError("CascadeIntentClassifier: C must be positive")
        if int(config.get("calibration_folds", 3)) < 2:
            raise ValueError("CascadeIntentClassifier: calibration_folds must be at least 2")
        if config.get("weighting", "counts") not in WEIGHTINGS:
            raise ValueError(f"CascadeIntentClassifier: weighting must be one of {', '.join(WEIGHTINGS)}")
        if int(config.get("prototype_k", 0)) < 0 or float(config.get("prototype_scale", 0.6)) < 0:
            raise ValueError("CascadeIntentClassifier: prototype_k and prototype_scale must not be negative")
        if any(float(f) <= 0 for f in (config.get("class_weights") or {}).values()):
            raise ValueError("CascadeIntentClassifier: class_weights' factors must be positive")
        if any(float(w) < 0 for w in config.get("block_weights", [])):
            raise ValueError("CascadeIntentClassifier: block_weights must not be negative")
        if not 0 < float(config.get("confident", 0.75)):
            raise ValueError("CascadeIntentClassifier: confident must be positive (above 1: always encode)")
        encoders = config.get("encoders", cls.get_default_config()["encoders"])
        if not encoders:
            raise ValueError("CascadeIntentClassifier: name at least one encoder")
        for entry in encoders:
            validate_encoder({**entry, **{k: config[k] for k in ("batch_size", "max_chars") if k in config}},
                             "CascadeIntentClassifier")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CascadeIntentClassifier":
        cls.validate_config(config)
        return cls(config, execution_context.node_name, model_storage, resource)

    # -- features ------------------------------------------------------------------------------------

    @staticmethod
    def _blocks(messages: List[Message]) -> List[csr_matrix]:
        """Per featurizer (in pipeline order), its sentence-level sparse features of every message (Rasa's
        get_sparse_features would also combine the token-level ones: 4 ms a message)."""
        per_message = [_sentence_sparse(message) for message in messages]
        count = len(per_message[0]) if per_message else 0
        if any(len(parts) != count for parts in per_message):
            raise ValueError("CascadeIntentClassifier: messages with different featurizers' features")
        return [vstack([parts[i] for parts in per_message], format="csr") for i in range(count)]

    def _sparse(self, messages: List[Message], fit: bool = False) -> csr_matrix:
        """The sparse features of each message side by side, weighed as configured (fit: learn the
        inverse document frequencies from these, the training examples)."""
        if len(messages) == 1 and not fit and self.config["weighting"] == "tfidf":
            return self._sparse_one(messages[0])
        blocks = self._blocks(messages)
        if not blocks:
            return csr_matrix((len(messages), 0))
        if self.config["weighting"] == "tfidf":
            if fit:
                self.idf = [_idf(block) for block in blocks]
            weights = self._block_weights(len(blocks))
            blocks = [_tfidf(block, idf, float(weight)) for block, idf, weight in zip(blocks, self.idf, weights)]
        return hstack(blocks, format="csr")

    def _block_weights(self, count: int) -> List[float]:
        """The configured weight of each of `count` featurizer blocks (1 for those not given), checked
        against the blocks the model was trained with."""
        if len(self.idf) != count:
            raise ValueError("CascadeIntentClassifier: the model was trained with other featurizers")
        weights = [float(weight) for weight in self.config["block_weights"]]
        return weights + [1.0] * (count - len(weights))

    def _sparse_one(self, message: Message) -> csr_matrix:
        """What `_sparse` gives for one message (a parse), in numpy on the few non-zero entries: scipy's
        vstack, tf-idf and hstack on 1-row matrices cost ~2 ms a parse in per-call overhead."""
        blocks = _sentence_sparse(message)
        if not blocks:
            return csr_matrix((1, 0))
        weights = self._block_weights(len(blocks))
        columns: List[np.ndarray] = []
        values: List[np.ndarray] = []
        width = 0
        for block, idf, weight in zip(blocks, self.idf, weights):
            entries = block.tocoo()
            found, where = np.unique(entries.col, return_inverse=True)  # sorted columns, duplicates summed
            counts = np.bincount(where, weights=entries.data.astype(np.float64), minlength=len(found))
            kept = counts != 0
            found, counts = found[kept], counts[kept]
            weighed = (1.0 + np.log(np.maximum(counts, 1e-12))) * idf[found]
            length = float(np.sqrt(np.dot(weighed, weighed)))
            if length > 0:
                weighed *= float(weight) / length
            columns.append(found.astype(np.int32) + width)
            values.append(weighed)
            width += block.shape[1]
        data = np.concatenate(values) if values else np.zeros(0)
        return csr_matrix((data, np.concatenate(columns) if columns else np.zeros(0, np.int32),
                           np.array([0, len(data)], dtype=np.int32)), shape=(1, width))

    def _dense(self, texts: List[str], training: bool = False) -> np.ndarray:
        parts = [
            (embedder.training_vectors(texts) if training else embedder.vectors(texts)) * scale
            for embedder, scale in self.embedders
        ]
        return np.hstack(parts).astype(np.float32)

    # -- training and use ------------------------------------------------------------------------------

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug("CascadeIntentClassifier: no intent examples, nothing to train")
            return self._resource
        self.labels = sorted({e.get(INTENT) for e in examples})
        index = {label: i for i, label in enumerate(self.labels)}
        # Integer targets: sklearn 1.1's calibration miscounts string classes per fold.
        y = np.array([index[e.get(INTENT)] for e in examples])
        sparse = self._sparse(examples, fit=True)
        dense = self._dense([e.get(TEXT) for e in examples], training=True)
        weights = balanced_weights(y, self.labels, self.config["class_weights"])

        def fit(features: csr_matrix) -> CalibratedLinear:
            return CalibratedLinear.from_sklearn(
                calibrated_svm(self.config, ensemble=False, class_weight=weights).fit(features, y)
            )

        full = [sparse, csr_matrix(dense)]
        if int(self.config["prototype_k"]) > 0:
            vectors = _unit(dense)
            self._set_prototypes(vectors, y.astype(np.int32))
            full.append(csr_matrix(self._nearest(vectors, leave_out_self=True)))
        self.models = {"ngrams": fit(sparse), "full": fit(hstack(full, format="csr"))}
        self.persist()
        return self._resource

    def _set_prototypes(self, vectors: np.ndarray, intents: np.ndarray) -> None:
        """Keep the training examples' vectors grouped by intent (stable) and transposed, contiguous.

        A parse compares one vector with all of them, a product that reads the whole matrix (17k x 512
        float32, ~36 MB) from memory: as a contiguous (512, n) matrix BLAS streams it in order (~1.2 ms on
        one core, against ~2.3 ms through the transposed view of an (n, 512) one), and each intent's
        similarities are then one slice, not a gather of its columns. `prototypes` stays the
        (n, 512) vectors and their intents, in this order (a view: nothing is held twice).
        """
        order = np.argsort(intents, kind="stable")
        self._known_t = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32)[order].T)
        grouped = np.asarray(intents)[order]
        self.prototypes = (self._known_t.T, grouped)
        self._bounds = np.searchsorted(grouped, np.arange(len(self.labels) + 1), side="left")
        self._position = np.empty(len(order), dtype=np.int64)  # where the i-th vector given went
        self._position[order] = np.arange(len(order))
        # For a few messages (a parse): each intent's columns as one row of a (labels, widest) index, the
        # gaps pointing past the end at a -inf column, so one partition finds every intent's nearest
        # (27 partitions of one row cost ~0.5 ms in numpy's per-call overhead). Only when every intent
        # has prototype_k examples; otherwise the loop (a -inf would enter a mean).
        sizes = np.diff(self._bounds)
        k = int(self.config["prototype_k"])
        self._padded = None
        if len(sizes) and k > 0 and sizes.min() >= k:
            self._padded = np.full((len(sizes), int(sizes.max())), len(order), dtype=np.int64)
            for label, (start, size) in enumerate(zip(self._bounds[:-1], sizes)):
                self._padded[label, :size] = np.arange(start, start + size)

    def _nearest(self, vectors: np.ndarray, leave_out_self: bool = False, chunk: int = 2048) -> np.ndarray:
        """Per message and intent, the mean cosine similarity to the `prototype_k` most similar training
        examples of that intent, times `prototype_scale` (leave_out_self: `vectors` are the training
        examples themselves, in the order given to _set_prototypes, and none is compared with itself)."""
        assert self.prototypes is not None
        k = int(self.config["prototype_k"])
        if len(vectors) <= GATHER_ROWS and self._padded is not None and not leave_out_self:
            similarity = vectors @ self._known_t
            beside = np.concatenate([similarity, np.full((len(vectors), 1), -np.inf, dtype=similarity.dtype)], axis=1)
            nearest = np.partition(beside[:, self._padded], -k, axis=2)[:, :, -k:].mean(axis=2)
            return nearest.astype(np.float32) * float(self.config["prototype_scale"])
        bounds = self._bounds
        features = np.zeros((len(vectors), len(self.labels)), dtype=np.float32)
        for start in range(0, len(vectors), chunk):
            similarity = vectors[start:start + chunk] @ self._known_t
            if leave_out_self:
                rows = np.arange(similarity.shape[0])
                similarity[rows, self._position[rows + start]] = -1.0
            for label in range(len(self.labels)):
                of_intent = similarity[:, bounds[label]:bounds[label + 1]]
                if of_intent.shape[1] == 0:
                    continue
                take = min(k, of_intent.shape[1])
                features[start:start + chunk, label] = np.partition(of_intent, -take, axis=1)[:, -take:].mean(axis=1)
        return features * float(self.config["prototype_scale"])

    def _ranking(self, model: CalibratedLinear, row: np.ndarray) -> List[Dict[str, Any]]:
        return sorted(
            ({"name": self.labels[int(c)], "confidence": float(p)} for c, p in zip(model.classes, row)),
            key=lambda item: -item["confidence"],
        )

    def process(self, messages: List[Message]) -> List[Message]:
        if not self.models or not messages:
            return messages
        sparse = self._sparse(messages)
        fast = self.models["ngrams"].predict_proba(sparse)
        confident = float(self.config["confident"])
        unsure = [i for i, row in enumerate(fast) if row.max() < confident]
        full: Dict[int, np.ndarray] = {}
        if unsure:
            dense = self._dense([messages[i].get(TEXT) or "" for i in unsure])
            if self.prototypes is not None:
                dense = np.hstack([dense, self._nearest(_unit(dense))])
            rows = sparse if len(unsure) == len(messages) else sparse[unsure]
            full = dict(zip(unsure, self.models["full"].predict_proba(rows, dense)))
        length = self.config[RANKING_LENGTH]
        for i, message in enumerate(messages):
            fast_ranking = self._ranking(self.models["ngrams"], fast[i])
            ranking = self._ranking(self.models["full"], full[i]) if i in full else fast_ranking
            message.set("intent", ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking[:length] if length > 0 else ranking, add_to_output=True)
            message.set(
                CASCADE,
                {"answered_by": "encoders" if i in full else "ngrams", "ngrams": fast_ranking[0]},
                add_to_output=True,
            )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Nothing after this component in training reads the intent it predicts.
        return training_data

    def persist(self) -> None:
        # Plain arrays (numpy's own format, no pickle): loading a model runs no code from it.
        arrays = {"labels": np.array(self.labels, dtype=str)}
        arrays.update({f"idf_{i}": idf for i, idf in enumerate(self.idf)})
        if self.prototypes is not None:
            arrays["prototype_vectors"] = self.prototypes[0].astype(np.float16)  # half the size; cosines to ~1e-3
            arrays["prototype_intents"] = self.prototypes[1]
        for name, model in self.models.items():
            arrays.update(model.arrays(name))
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez(model_dir / MODEL_FILE, **arrays)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "CascadeIntentClassifier":
        try:
            with model_storage.read_from(resource) as model_dir:
                with np.load(model_dir / MODEL_FILE, allow_pickle=False) as saved:
                    models = {name: CalibratedLinear.from_arrays(saved, name) for name in MODELS}
                    labels = [str(label) for label in saved["labels"]]
                    idf = [saved[f"idf_{i}"] for i in range(len([k for k in saved.files if k.startswith("idf_")]))]
                    prototypes = (
                        (saved["prototype_vectors"].astype(np.float32), saved["prototype_intents"])
                        if "prototype_vectors" in saved.files else None
                    )
        except ValueError:
            # Nothing was trained (no intent examples): an untrained classifier predicts nothing.
            logger.debug(f"CascadeIntentClassifier: no saved models in '{resource.name}'")
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, execution_context.node_name, model_storage, resource, models=models, labels=labels, idf=idf,
                   prototypes=prototypes)


def _sentence_sparse(message: Message) -> List[csr_matrix]:
    """The message's sentence-level sparse features of each featurizer, in pipeline order."""
    return [f.features for f in message.features
            if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE and f.is_sparse()]


def _idf(counts: csr_matrix) -> np.ndarray:
    """Smoothed inverse document frequency of each column (as scikit-learn's TfidfTransformer)."""
    counts = counts.tocsr(copy=True)
    counts.sum_duplicates()
    counts.eliminate_zeros()
    documents = counts.shape[0]
    frequency = np.bincount(counts.indices, minlength=counts.shape[1])
    return (np.log((1.0 + documents) / (1.0 + frequency)) + 1.0).astype(np.float64)


def _tfidf(counts: csr_matrix, idf: np.ndarray, weight: float) -> csr_matrix:
    """1 + log(count), times idf, each row scaled to length `weight` (an empty row stays empty)."""
    weighed = counts.astype(np.float64, copy=True).tocsr()
    weighed.sum_duplicates()
    weighed.eliminate_zeros()
    weighed.data = (1.0 + np.log(np.maximum(weighed.data, 1e-12))) * idf[weighed.indices]
    lengths = np.sqrt(np.asarray(weighed.multiply(weighed).sum(axis=1)).ravel())
    lengths[lengths == 0] = 1.0
    scale = weight / lengths
    weighed.data *= np.repeat(scale, np.diff(weighed.indptr))
    return weighed


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (a zero row stays zero)."""
    lengths = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(lengths == 0, 1.0, lengths)).astype(np.float32)
