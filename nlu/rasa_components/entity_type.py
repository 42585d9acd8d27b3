"""Which of two entity types a span is, by what the message asks: a part or a service (Rasa 3.6).

The same words name a part and a service: "the AC" is a `component` in a complaint or a warranty claim
and a `service_type` in a booking or a history question; tyres, brakes and batteries likewise. The CRF
sees a window of one word each side and not the request, so it finds the span but often gives it the
other type (a third of its entity errors in cross-validation were such swaps). This component runs after
the intent classifier and the synonym mapper: for a value the training examples of the predicted intent
annotate mostly (`min_share`, at least `min_count` times) as the other of the two types, it gives the
span that type. Spans, values and every other entity are left as found.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
import rasa.shared.utils.io

logger = logging.getLogger(__name__)

TABLE_FILE = "entity_types.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class EntityTypeByIntent(GraphComponent):
    """Relabels a span between two entity types by the types the predicted intent's examples use."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"types": ["component", "service_type"], "min_share": 0.75, "min_count": 3}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        table: Optional[Dict[str, Dict[str, str]]] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self.table = table or {}  # intent -> value -> entity type
        self.types = frozenset(self.config["types"])
        self._model_storage = model_storage
        self._resource = resource

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if len(config.get("types", cls.get_default_config()["types"])) != 2:
            raise ValueError("EntityTypeByIntent: name exactly two entity types")
        if not 0.5 < float(config.get("min_share", 0.75)) <= 1:
            raise ValueError("EntityTypeByIntent: min_share must be above 0.5 and at most 1")

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EntityTypeByIntent":
        cls.validate_config(config)
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        # An annotation without a value ("[AC](service_type)") is mapped at parse time by the synonym
        # mapper before this component sees it: the same here.
        synonyms = {str(k).lower(): str(v) for k, v in (training_data.entity_synonyms or {}).items()}
        counts: Dict[str, Dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
        for example in training_data.training_examples:
            intent = example.get(INTENT)
            for entity in example.get(ENTITIES) or []:
                if intent and entity.get("entity") in self.types:
                    value = str(entity.get("value", ""))
                    counts[intent][synonyms.get(value.lower(), value).lower()][entity["entity"]] += 1
        self.table = {}
        for intent, values in counts.items():
            for value, by_type in values.items():
                kind, count = by_type.most_common(1)[0]
                total = sum(by_type.values())
                if total >= int(self.config["min_count"]) and count / total >= float(self.config["min_share"]):
                    self.table.setdefault(intent, {})[value] = kind
        with self._model_storage.write_to(self._resource) as model_dir:
            rasa.shared.utils.io.dump_obj_as_json_to_file(model_dir / TABLE_FILE, self.table)
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name")
            known = self.table.get(intent or "")
            if not known:
                continue
            for entity in message.get(ENTITIES) or []:
                kind = known.get(str(entity.get("value", "")).lower())
                if entity.get("entity") in self.types and kind is not None and kind != entity["entity"]:
                    entity["entity"] = kind
                    entity.setdefault("processors", []).append(self.__class__.__name__)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "EntityTypeByIntent":
        try:
            with model_storage.read_from(resource) as model_dir:
                table = rasa.shared.utils.io.read_json_file(model_dir / TABLE_FILE)
        except ValueError:
            logger.debug(f"{cls.__name__}: nothing trained in '{resource.name}'")
            table = {}
        return cls(config, model_storage, resource, table)
