"""Rasa's CRF entity extractor, saved as the trained CRF instead of trained again at every server start.

Rasa 3.6's CRFEntityExtractor persists its training set (crf_dataset.json, 32 MB for our data) and
trains the CRF again from it whenever a model is loaded: every server start then costs ~40 s of CPU
and ~100 MB of resident memory that is never given back. This subclass is the same extractor (same
features, same training, same predictions) but persists what training produced, the CRFsuite model of
each tagger (a few MB, CRFsuite's own binary format), and loads it into a CRFsuite tagger from memory.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor, CRFToken
import rasa.shared.utils.io

logger = logging.getLogger(__name__)

ORDER_FILE = "crf_order.json"


def _model_file(model_dir: Path, tag_name: str) -> Path:
    return model_dir / f"crf_{tag_name}.crfsuite"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class StoredCRFEntityExtractor(CRFEntityExtractor):
    """CRFEntityExtractor that loads its trained CRFs instead of training them again."""

    def persist(self, dataset: List[List[CRFToken]]) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            for tag_name, tagger in (self.entity_taggers or {}).items():
                # sklearn-crfsuite keeps the model CRFsuite wrote while training in a file of its own.
                _model_file(model_dir, tag_name).write_bytes(Path(tagger.modelfile.name).read_bytes())
            rasa.shared.utils.io.dump_obj_as_json_to_file(model_dir / ORDER_FILE, self.crf_order)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "StoredCRFEntityExtractor":
        import pycrfsuite
        import sklearn_crfsuite

        try:
            with model_storage.read_from(resource) as model_dir:
                crf_order = rasa.shared.utils.io.read_json_file(model_dir / ORDER_FILE)
                taggers: "OrderedDict[str, sklearn_crfsuite.CRF]" = OrderedDict()
                for tag_name in crf_order:
                    model = _model_file(model_dir, tag_name).read_bytes()
                    tagger = pycrfsuite.Tagger()
                    tagger.open_inmemory(model)
                    crf = sklearn_crfsuite.CRF()
                    crf._tagger = tagger  # what CRF.tagger_ opens from its model file otherwise
                    # CRFsuite reads the model where it lies, without a copy: it must live as long as the tagger.
                    crf._model_bytes = model
                    taggers[tag_name] = crf
        except ValueError:
            # Nothing was trained (no entity examples): an extractor that finds nothing.
            logger.debug(f"{cls.__name__}: no saved CRF in '{resource.name}'")
            return cls(config, model_storage, resource)
        extractor = cls(config, model_storage, resource, taggers)
        extractor.crf_order = crf_order
        return extractor
