"""The custom Rasa components of config.yml, run inside .venv-rasa (the app's environment has no Rasa)."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from nlu.rasa import RasaProject, rasa_env

pytestmark = [pytest.mark.slow, pytest.mark.rasa]

PRELUDE = """
import json, sys
import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from nlu.rasa_components.sentence_embeddings import SentenceEmbeddingFeaturizer

def featurizer(tmp, **config):
    storage = LocalModelStorage(tmp)
    return SentenceEmbeddingFeaturizer.create(
        {**SentenceEmbeddingFeaturizer.get_default_config(), **config},
        storage, Resource("f"), ExecutionContext(None, node_name=config.get("alias") or "f"))

def sentence(message):
    seq, sent = message.get_dense_features("text")
    return None if sent is None else sent.features[0]
"""


def run_in_rasa(code: str, tmp_path: Path, **env: str) -> dict:
    project = RasaProject()
    script = PRELUDE + textwrap.dedent(code)
    done = subprocess.run(
        [str(project.root / ".venv-rasa" / "bin" / "python"), "-c", script, str(tmp_path)],
        capture_output=True, text=True, timeout=300, check=False,
        env={**rasa_env(project), **env},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("encoder, dimension", [("e5", 384), ("use", 512)])
def test_each_encoder_adds_one_scaled_sentence_vector_and_nothing_per_token(tmp_path, encoder, dimension):
    result = run_in_rasa(f"""
        f = featurizer(__import__("pathlib").Path(sys.argv[1]), encoder="{encoder}", scale=3)
        messages = [Message(data={{"text": "my AC is blowing hot air"}}), Message(data={{"text": "   "}}),
                    Message(data={{"text": ""}})]
        f.process(messages)
        vectors = [sentence(m) for m in messages]
        seq, _ = messages[0].get_dense_features("text")
        print(json.dumps({{"shapes": [list(v.shape) for v in vectors],
                          "norms": [float(np.linalg.norm(v)) for v in vectors],
                          "sequence": seq is not None}}))
    """, tmp_path)
    assert result["shapes"] == [[dimension]] * 3
    assert result["norms"][0] == pytest.approx(3.0, abs=1e-3)
    assert result["norms"][1:] == [0.0, 0.0]  # blank text: zeros, same width, no crash
    assert result["sequence"] is False


@pytest.mark.parametrize("encoder", ["e5", "use"])
def test_the_encoders_place_the_same_request_in_both_languages_near_each_other(tmp_path, encoder):
    result = run_in_rasa(f"""
        f = featurizer(__import__("pathlib").Path(sys.argv[1]), encoder="{encoder}")
        v = f.vectors(["I want to book a service for my car", "ابي احجز موعد صيانة لسيارتي",
                       "who won the football match yesterday"])
        print(json.dumps({{"same": float(v[0] @ v[1]), "other": float(v[0] @ v[2])}}))
    """, tmp_path)
    assert result["same"] > result["other"] + 0.1


def test_training_vectors_are_cached_and_only_new_texts_are_encoded(tmp_path):
    cache = tmp_path / "cache"
    result = run_in_rasa("""
        import pathlib
        tmp = pathlib.Path(sys.argv[1])
        calls = []
        real = featurizer(tmp, encoder="e5")._encode
        def counting(texts):
            calls.append(list(texts))
            return real(texts)
        def train(texts):
            f = SentenceEmbeddingFeaturizer({"encoder": "e5", "scale": 2, "alias": "e5"}, "e5", encode=counting)
            data = TrainingData([Message(data={"text": t, "intent": "x"}) for t in texts])
            f.process_training_data(data)
            return [sentence(m) for m in data.training_examples]
        first = train(["book a service", "cancel my booking"])
        second = train(["book a service", "cancel my booking", "where is your Sharjah branch"])
        direct = SentenceEmbeddingFeaturizer({"encoder": "e5", "scale": 2}, "e5").vectors(["cancel my booking"])[0] * 2
        print(json.dumps({"calls": calls, "same": bool(np.allclose(second[1], direct, atol=1e-5)),
                          "files": sorted(p.name for p in (tmp / "cache").iterdir())}))
    """, tmp_path, DEALERBOT_EMBEDDING_CACHE=str(cache))
    assert result["calls"] == [["book a service", "cancel my booking"], ["where is your Sharjah branch"]]
    assert result["same"] is True
    # named by the encoder's package version: a checkout with another release never reads these vectors
    assert result["files"] == ["e5-0.3.0.keys.npy", "e5-0.3.0.vectors.npy"]


def test_an_unknown_encoder_or_a_bad_scale_is_refused(tmp_path):
    result = run_in_rasa("""
        errors = []
        for config in ({"encoder": "bert"}, {"encoder": "e5", "scale": 0}):
            try:
                SentenceEmbeddingFeaturizer.validate_config(config)
            except ValueError as error:
                errors.append(str(error))
        print(json.dumps(errors))
    """, tmp_path)
    assert len(result) == 2
    assert "encoder must be one of ['e5', 'use']" in result[0]
    assert "scale must be positive" in result[1]


def test_codes_are_left_out_of_what_the_encoders_read_and_long_texts_are_cut(tmp_path):
    result = run_in_rasa("""
        f = featurizer(__import__("pathlib").Path(sys.argv[1]), encoder="use", max_chars=20)
        print(json.dumps([f.prepare(t) for t in (
            "ابي اغير موعدي BK-HNQXPW", "VIN JTMHV05J504123456 recall?", "my X-Trail and RAV4",
            "sayarti 5arbana", "ticket C-77", "a  b " * 30)]))
    """, tmp_path)
    assert result[:5] == ["ابي اغير موعدي", "VIN recall?", "my X-Trail and RAV4", "sayarti 5arbana", "ticket C-77"]
    assert len(result[5]) == 20


def test_the_embedding_cache_is_the_users_so_every_checkout_shares_it(monkeypatch, tmp_path):
    from nlu import rasa

    monkeypatch.delenv("DEALERBOT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert rasa.rasa_env()["DEALERBOT_EMBEDDING_CACHE"] == str(tmp_path / "dealerbot" / "embedding-cache")
    monkeypatch.setenv("DEALERBOT_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert rasa.rasa_env()["DEALERBOT_EMBEDDING_CACHE"] == str(tmp_path / "elsewhere" / "embedding-cache")
