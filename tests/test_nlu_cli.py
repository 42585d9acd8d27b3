"""`dealerbot nlu train|serve|parse|eval|stop` as a person runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nlu.commands import free_port
from nlu.rasa import RasaProject, combined_training_file
from nlu.trainingdata import load, write

pytestmark = pytest.mark.slow

DEALERBOT = str(Path(sys.executable).with_name("dealerbot"))


def dealerbot(*args: str, rasa_url: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RASA_URL": rasa_url, "LOG_FORMAT": "json"}
    return subprocess.run([DEALERBOT, *args], capture_output=True, text=True, env=env, timeout=timeout, check=False)


def test_train_is_skipped_when_config_and_data_are_unchanged(rasa_server):
    done = dealerbot("nlu", "train", rasa_url=rasa_server)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"models/{RasaProject().model_path().name}: up to date, not retrained"


def test_the_model_name_follows_the_content_of_config_and_data(tmp_path):
    root = RasaProject().root
    copy = tmp_path / "project"
    (copy / "nlu").mkdir(parents=True)
    shutil.copy(root / "config.yml", copy / "config.yml")
    shutil.copy(root / "nlu" / "requirements-rasa.txt", copy / "nlu" / "requirements-rasa.txt")
    shutil.copytree(root / "nlu" / "data", copy / "nlu" / "data")
    shutil.copytree(root / "nlu" / "rasa_components", copy / "nlu" / "rasa_components",
                    ignore=shutil.ignore_patterns("__pycache__"))
    project = RasaProject(copy)
    assert project.content_hash() == RasaProject().content_hash()
    data_file = copy / "nlu" / "data" / "intents" / "book_service.yml"
    data_file.write_text(data_file.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert project.content_hash() != RasaProject().content_hash()
    # The custom components are part of the model too.
    data_file.write_text(data_file.read_text(encoding="utf-8")[:-1], encoding="utf-8")
    assert project.content_hash() == RasaProject().content_hash()
    component = copy / "nlu" / "rasa_components" / "linear_classifier.py"
    component.write_text(component.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert project.content_hash() != RasaProject().content_hash()


def test_the_training_file_is_the_same_however_the_data_is_split_into_files(tmp_path):
    """Rasa trains on one file written in a fixed order, so moving examples between files (by intent,
    by area, one big file) cannot change the model."""
    root = RasaProject().root
    data = load(root / "nlu" / "data")
    # Another layout: the same examples in one file, intents in reverse name order (within an intent
    # the order written is kept).
    other = tmp_path / "other"
    (other / "nlu" / "data").mkdir(parents=True)
    order = {intent: i for i, intent in enumerate(reversed(data.intents))}
    reordered = sorted(data.examples, key=lambda example: order[example.intent])
    assert reordered != data.examples
    write(other / "nlu" / "data" / "everything.yml", reordered, data.other_sections)
    first = combined_training_file(RasaProject(root), tmp_path / "first.yml").read_text(encoding="utf-8")
    second = combined_training_file(RasaProject(other), tmp_path / "second.yml").read_text(encoding="utf-8")
    assert first == second
    assert load(tmp_path / "first.yml").examples == sorted(data.examples, key=lambda example: example.intent)


def test_parse_prints_intent_confidence_and_entities(rasa_server):
    done = dealerbot("nlu", "parse", "any news on my complaint C-12?", rasa_url=rasa_server)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("intent: case_status  confidence: ")
    assert "entity: ticket_id = 'C-12'" in done.stdout


def test_parse_without_a_server_says_it_is_degraded():
    done = dealerbot("nlu", "parse", "hello", rasa_url=f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 0
    assert "intent: nlu_fallback" in done.stdout
    assert "degraded: unavailable" in done.stdout


def test_eval_prints_per_intent_scores_languages_confusions_and_entities(rasa_server, tmp_path):
    held_out = tmp_path / "held_out.yml"
    held_out.write_text(
        'version: "3.1"\nnlu:\n'
        "- intent: book_service\n  examples: |\n"
        '    - I need an [oil change]{"entity": "service_type", "value": "oil_change"} on Saturday\n'
        "    - ابي احجز موعد للسيارة يوم الأحد\n"
        "- intent: case_status\n  examples: |\n"
        "    - whats happening with [C-44](ticket_id)\n"
        "    - وين وصلت الشكوى [C-9](ticket_id)\n",
        encoding="utf-8",
    )
    done = dealerbot("nlu", "eval", str(held_out), "--errors", rasa_url=rasa_server)
    assert done.returncode == 0, done.stderr
    for expected in ("precision", "book_service", "case_status", "macro F1", "Arabic script", "Latin script",
                     "entities            F1", "  ticket_id ", "entities not found as annotated"):
        assert expected in done.stdout
    as_json = dealerbot("nlu", "eval", str(held_out), "--json", rasa_url=rasa_server)
    report = json.loads(as_json.stdout)
    assert report["n"] == 4
    assert set(report["accuracy_by_script"]) == {"latin", "arabic"}
    assert 0 <= report["macro_f1"] <= 1


def test_eval_refuses_a_fold_that_does_not_exist_or_without_cv(tmp_path):
    held_out = tmp_path / "h.yml"
    held_out.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n', encoding="utf-8")
    url = f"http://127.0.0.1:{free_port()}"
    for args, message in (
        (("--cv", "5", "--fold", "6"), "--fold must be between 1 and 5"),
        (("--cv", "5", "--fold", "0"), "--fold must be between 1 and 5"),
        ((str(held_out), "--fold", "1"), "--config, --fold and --predictions apply to --cv only"),
        ((str(held_out), "--predictions", str(tmp_path / "p.jsonl")), "apply to --cv only"),
    ):
        done = dealerbot("nlu", "eval", *args, rasa_url=url)
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)


def test_eval_without_a_server_fails_with_a_clear_message(tmp_path):
    held_out = tmp_path / "h.yml"
    held_out.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hi\n', encoding="utf-8")
    done = dealerbot("nlu", "eval", str(held_out), rasa_url=f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 1
    assert "no Rasa server answers" in done.stderr


def test_serve_detached_answers_and_stop_stops_it_and_a_client_degrades(rasa_server):
    import asyncio

    from nlu.client import NluClient

    url = f"http://127.0.0.1:{free_port()}"
    started = dealerbot("nlu", "serve", "--detach", rasa_url=url)

    async def parse(nlu: NluClient, text: str):
        return await nlu.parse(text)

    loop = asyncio.new_event_loop()
    # A client of the app's, open while the server goes away (one server start serves both checks).
    nlu = NluClient(url, timeout=2, retries=1, backoff=0.05)
    try:
        assert started.returncode == 0, started.stderr
        assert f"Rasa server ready at {url}" in started.stdout
        again = dealerbot("nlu", "serve", "--detach", rasa_url=url)
        assert "already answers" in again.stdout
        parsed = dealerbot("nlu", "parse", "hello there", rasa_url=url)
        assert "intent: greet" in parsed.stdout
        assert loop.run_until_complete(parse(nlu, "hello")).degraded is None
    finally:
        stopped = dealerbot("nlu", "stop", rasa_url=url)
    try:
        assert stopped.stdout.strip() == "Rasa server stopped"
        after = dealerbot("nlu", "parse", "hello", rasa_url=url)
        assert "degraded: unavailable" in after.stdout
        degraded = loop.run_until_complete(parse(nlu, "I want to book a service"))
        assert (degraded.intent, degraded.degraded) == ("nlu_fallback", "unavailable")
        assert degraded.text == "I want to book a service"  # nothing the customer wrote is lost
    finally:
        loop.run_until_complete(nlu.aclose())
        loop.close()
