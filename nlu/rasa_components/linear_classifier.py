"""A linear SVM intent classifier with calibrated confidences, for Rasa 3.6.

Why not Rasa's LogisticRegressionClassifier: its regularisation strength is fixed (C=1), which overfits
our ~8k examples of sparse word and character n-gram counts; a strongly regularised linear SVM scored
higher on cross-validation and the whole pipeline trains faster with it (README, Performance).
Confidences come from sigmoid calibration on internal folds, so FallbackClassifier's threshold keeps
its meaning.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Union

import numpy as np
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import LinearSVC
from sklearn.utils.class_weight import compute_class_weight

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from rasa.utils.tensorflow.constants import RANKING_LENGTH

logger = logging.getLogger(__name__)


def calibrated_svm(
    config: Dict[Text, Any], ensemble: bool = True, class_weight: Any = "balanced"
) -> CalibratedClassifierCV:
    """The class-balanced LinearSVC of `config` (C, max_iter, random_state), sigmoid-calibrated on
    `calibration_folds` internal folds. ensemble=True keeps one SVM per fold and averages them (what this
    classifier always did); ensemble=False trains one SVM on all examples and fits its sigmoid on the
    folds' predictions (a third of the memory and time per message; the cascade's choice).
    `class_weight`: "balanced", or a weight per class (see `balanced_weights`)."""
    svm = LinearSVC(
        C=float(config["C"]),
        class_weight=class_weight,
        max_iter=int(config["max_iter"]),
        random_state=int(config["random_state"]),
    )
    return CalibratedClassifierCV(
        svm, method="sigmoid", cv=int(config["calibration_folds"]), ensemble=ensemble
    )


def balanced_weights(y: np.ndarray, labels: List[str], factors: Dict[str, float]) -> Union[str, Dict[int, float]]:
    """scikit-learn's "balanced" class weights of the integer targets `y` (indices into `labels`), each
    multiplied by its label's factor in `factors` (1 where not given). No factors: "balanced" itself
    (sklearn then weighs each calibration fold by its own counts, as it always did)."""
    if not factors:
        return "balanced"
    unknown = set(factors) - set(labels)
    if unknown:
        logger.warning("class_weights: no examples of %s in this training data", ", ".join(sorted(unknown)))
    classes = np.unique(y)
    weights = compute_class_weight("balanced", classes=classes, y=y)
    return {int(c): float(w) * float(factors.get(labels[int(c)], 1.0)) for c, w in zip(classes, weights)}


# The only types a saved model may contain besides sklearn's public estimators, numpy and builtins.
_TRUSTED_PRIVATE_TYPES = {
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(IntentClassifier, GraphComponent):
    """Class-balanced LinearSVC on the sentence features, sigmoid-calibrated on `calibration_folds`."""

    @classmethod
    def required_components(cls) -> List[type]:
        return [Featurizer]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn", "skops"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "C": 0.05,
            "calibration_folds": 3,
            "max_iter": 5000,
            "random_state": 42,
            RANKING_LENGTH: LABEL_RANKING_LENGTH,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        name: Text,
        model_storage: ModelStorage,
        resource: Resource,
        classifier: Optional[CalibratedClassifierCV] = None,
        labels: Optional[List[str]] = None,
    ) -> None:
        self.name = name
        self.config = {**self.get_default_config(), **config}
        self.classifier = classifier
        self.labels = labels or []
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if float(config.get("C", 1.0)) <= 0:
            raise ValueError("LinearIntentClassifier: C must be positive")
        if int(config.get("calibration_folds", 3)) < 2:
            raise ValueError("LinearIntentClassifier: calibration_folds must be at least 2")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LinearIntentClassifier":
        cls.validate_config(config)
        return cls(config, execution_context.node_name, model_storage, resource)

    @staticmethod
    def _features(messages: List[Message]) -> csr_matrix:
        rows = []
        for message in messages:
            sparse = message.get_sparse_features(attribute=TEXT)[1]  # sentence-level features
            dense = message.get_dense_features(attribute=TEXT)[1]
            rows.append(
                hstack(
                    [
                        csr_matrix(sparse.features if sparse else []),
                        csr_matrix(dense.features if dense else []),
                    ]
                )
            )
        return vstack(rows).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug("LinearIntentClassifier: no intent examples, nothing to train")
            return self._resource
        self.labels = sorted({e.get(INTENT) for e in examples})
        index = {label: i for i, label in enumerate(self.labels)}
        # Integer targets: sklearn 1.1's calibration miscounts string classes per fold.
        y = np.array([index[e.get(INTENT)] for e in examples])
        self.classifier = calibrated_svm(self.config)
        self.classifier.fit(self._features(examples), y)
        self.persist()
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        if self.classifier is None or not messages:
            return messages
        probabilities = self.classifier.predict_proba(self._features(messages))
        for message, row in zip(messages, probabilities):
            ranking = sorted(
                ({"name": self.labels[int(c)], "confidence": float(p)} for c, p in zip(self.classifier.classes_, row)),
                key=lambda item: -item["confidence"],
            )
            message.set("intent", ranking[0], add_to_output=True)
            length = self.config[RANKING_LENGTH]
            message.set("intent_ranking", ranking[:length] if length > 0 else ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def persist(self) -> None:
        import skops.io as sio

        with self._model_storage.write_to(self._resource) as model_dir:
            sio.dump({"classifier": self.classifier, "labels": self.labels}, model_dir / "classifier.skops")

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LinearIntentClassifier":
        import skops.io as sio

        try:
            with model_storage.read_from(resource) as model_dir:
                path = model_dir / "classifier.skops"
                untrusted = set(sio.get_untrusted_types(file=path))
                unexpected = untrusted - _TRUSTED_PRIVATE_TYPES
                if unexpected:
                    raise ValueError(f"refusing to load {path}: unexpected types {sorted(unexpected)}")
                saved = sio.load(path, trusted=sorted(untrusted))
        except ValueError as error:
            if "unexpected types" in str(error):
                raise
            # Nothing was trained (no intent examples): an untrained classifier predicts nothing.
            logger.debug(f"LinearIntentClassifier: no saved classifier in '{resource.name}'")
            return cls.create(config, model_storage, resource, execution_context)
        return cls(
            config,
            execution_context.node_name,
            model_storage,
            resource,
            classifier=saved["classifier"],
            labels=list(saved["labels"]),
        )
