"""Reading Rasa's training format, folds for cross-validation, and the evaluation figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlu.client import Entity, Parse
from nlu.evaluation import render, score
from nlu.rasa import RasaProject
from nlu.trainingdata import Example, _synonyms, entity_lookups, load, parse_annotated, stratified_folds, write

DESIGN_INTENTS = {
    "greet", "goodbye", "thanks", "affirm", "deny", "book_service", "reschedule_appointment",
    "cancel_appointment", "check_appointment", "warranty_coverage", "warranty_claim", "complaint",
    "case_status", "maintenance_due", "service_history", "recall_check", "trade_in", "finance",
    "roadside_assistance", "parts_order", "dealership_info", "human_agent", "feedback",
    "stop_notifications", "report_mileage", "car_advice", "out_of_scope",
}
ENTITY_VALUES = {
    "service_type": {"oil_change", "minor_service", "major_service", "air_conditioning", "brakes", "tyres",
                     "battery", "wheel_alignment", "inspection", "diagnostics", "detailing", "car_wash"},
    "component": {"engine", "transmission", "electrical", "air_conditioning", "cooling", "fuel_system", "steering",
                  "suspension", "brakes", "turbo", "infotainment", "tyres", "battery", "bodywork", "glass",
                  "upholstery"},
    "branch": {"dubai", "abu-dhabi", "sharjah"},
}


def test_annotations_become_text_and_entities_with_offsets():
    text, entities = parse_annotated(
        'fix my [aircon]{"entity": "component", "value": "air_conditioning"} at [Sharjah](branch) re [C-12](ticket_id)'
    )
    assert text == "fix my aircon at Sharjah re C-12"
    assert [(e.name, e.value, text[e.start : e.end]) for e in entities] == [
        ("component", "air_conditioning", "aircon"),
        ("branch", "Sharjah", "Sharjah"),
        ("ticket_id", "C-12", "C-12"),
    ]


def test_the_training_data_has_every_design_intent_with_enough_examples_in_both_languages():
    data = load(RasaProject().data_dir)
    assert set(data.intents) == DESIGN_INTENTS
    for intent in DESIGN_INTENTS:
        examples = [e for e in data.examples if e.intent == intent]
        latin = sum(e.script == "latin" for e in examples)
        arabic = sum(e.script == "arabic" for e in examples)
        assert latin >= 40 and arabic >= 25, (intent, latin, arabic)
    texts = [e.text.strip().lower() for e in data.examples]
    assert len(texts) == len(set(texts)), "an example appears twice"


def test_entity_values_in_the_training_data_are_the_codes_the_app_uses():
    data = load(RasaProject().data_dir)
    for example in data.examples:
        for entity in example.entities:
            if entity.name in ENTITY_VALUES:
                assert entity.value in ENTITY_VALUES[entity.name], (example.raw, entity)


def test_folds_are_stratified_disjoint_and_complete():
    data = load(RasaProject().data_dir)
    folds = stratified_folds(data.examples, 5)
    assert sum(len(f) for f in folds) == len(data.examples)
    assert len({id(e) for f in folds for e in f}) == len(data.examples)
    for intent in ("greet", "complaint"):
        sizes = [sum(e.intent == intent for e in f) for f in folds]
        assert max(sizes) - min(sizes) <= 1
    assert folds == stratified_folds(data.examples, 5)  # deterministic
    with pytest.raises(ValueError):
        stratified_folds(data.examples, 1)


def test_written_folds_read_back_identically(tmp_path: Path):
    data = load(RasaProject().data_dir)
    sample = data.examples[::50]
    write(tmp_path / "fold.yml", sample, data.other_sections)
    again = load(tmp_path / "fold.yml")
    def key(e):
        return (e.intent, e.text)

    assert [(e.text, e.intent, e.entities) for e in sorted(again.examples, key=key)] == [
        (e.text, e.intent, e.entities) for e in sorted(sample, key=key)
    ]


def _parse(intent: str, *entities: tuple[str, str]) -> Parse:
    return Parse(intent, 0.9, tuple(Entity(n, v, v, 0, len(v)) for n, v in entities))


def test_scores_per_intent_macro_f1_per_script_confusions_and_entities(tmp_path: Path):
    (tmp_path / "gold.yml").write_text(
        'version: "3.1"\nnlu:\n'
        "- intent: complaint\n  examples: |\n    - rude staff\n    - الموظف وقح\n"
        "- intent: feedback\n  examples: |\n    - great service\n    - خدمة ممتازة\n"
        "- intent: case_status\n  examples: |\n    - update on [C-1](ticket_id)\n",
        encoding="utf-8",
    )
    gold = load(tmp_path / "gold.yml").examples
    predicted = [
        _parse("complaint"),
        _parse("feedback"),  # wrong: Arabic complaint taken for feedback
        _parse("feedback"),
        _parse("feedback"),
        _parse("case_status", ("ticket_id", "C-1"), ("ticket_id", "C-2")),
    ]
    report = score(gold, predicted)
    by_intent = {s.intent: s for s in report.intents}
    assert (by_intent["complaint"].precision, by_intent["complaint"].recall) == (1.0, 0.5)
    assert by_intent["feedback"].precision == pytest.approx(2 / 3)
    assert report.accuracy == pytest.approx(0.8)
    assert report.by_script["arabic"] == (0.5, 2)
    assert report.by_script["latin"] == (1.0, 3)
    assert report.confused == [("complaint", "feedback", 1)]
    assert (report.entity_precision, report.entity_recall) == (0.5, 1.0)
    (ticket,) = report.entities
    assert (ticket.entity, ticket.precision, ticket.recall, ticket.support) == ("ticket_id", 0.5, 1.0, 1)
    ((example, found),) = report.entity_errors
    assert example.text == "update on C-1" and found == (("ticket_id", "c-1"), ("ticket_id", "c-2"))
    assert report.macro_f1 == pytest.approx((2 / 3 + 0.8 + 1.0) / 3)
    text = render(report, "test")
    assert "complaint -> feedback: 1" in text and "Arabic script" in text
    assert "ticket_id" in text and "precision 0.500" in text


@pytest.mark.parametrize(
    "text, language",
    [
        ("abi a7jiz maw3ed bachir", "arabizi"),
        ("sayarti 5arbana", "arabizi"),
        ("shlon el dawam", "arabizi"),
        ("ابي احجز موعد", "arabic"),
        ("my 2nd service at 9am in Al Quoz", "english"),
        ("rav4 and x5 prices", "english"),
        ("VIN JTMHV05J504123456 recall?", "english"),
    ],
)
def test_arabizi_is_told_from_english_by_its_spelling(text, language):
    assert Example(text, "greet", (), text).language == language


def test_scores_per_language_count_arabizi_as_arabic(tmp_path: Path):
    (tmp_path / "gold.yml").write_text(
        'version: "3.1"\nnlu:\n'
        "- intent: complaint\n  examples: |\n    - rude staff\n    - el mowa6af ma 3indah adab\n"
        "    - الموظف وقح\n",
        encoding="utf-8",
    )
    gold = load(tmp_path / "gold.yml").examples
    report = score(gold, [_parse("complaint"), _parse("feedback"), _parse("complaint")])
    assert report.by_language["english"] == (1.0, 1.0, 1)
    assert report.by_language["arabizi"][0] == 0.0 and report.by_language["arabizi"][2] == 1
    assert report.by_language["arabic"][0] == pytest.approx(0.5) and report.by_language["arabic"][2] == 2
    assert report.by_script["latin"] == (0.5, 2)
    text = render(report, "test")
    assert "English" in text and "Arabic (+Arabizi)" in text and "of it Arabizi" in text


EVAL_FILE = Path(__file__).resolve().parents[1] / "nlu" / "eval" / "realistic.yml"


def test_the_realistic_evaluation_set_covers_every_intent_in_both_scripts_and_is_never_trained_on():
    evaluation = load(EVAL_FILE)
    assert set(evaluation.intents) == DESIGN_INTENTS
    assert len(evaluation.examples) >= 300
    assert {e.script for e in evaluation.examples} >= {"latin", "arabic"}
    for example in evaluation.examples:
        for entity in example.entities:
            if entity.name in ENTITY_VALUES:
                assert entity.value in ENTITY_VALUES[entity.name], (example.raw, entity)
    # nlu/eval/ is outside nlu/data/, which is all training reads; and no message was copied into it
    training = {" ".join(e.text.lower().split()) for e in load(RasaProject().data_dir).examples}
    assert not RasaProject().data_dir in EVAL_FILE.parents
    copied = [e.text for e in evaluation.examples if " ".join(e.text.lower().split()) in training]
    assert not copied, copied


def test_the_general_assistant_evaluation_set_is_never_trained_on_and_is_mostly_unrelated_requests():
    """nlu/eval/general_assistant.yml: queries in the style people write to a general assistant, most of
    them out of scope (issue 13's public-set check, estimated on a set of our own)."""
    evaluation = load(EVAL_FILE.with_name("general_assistant.yml"))
    assert set(evaluation.intents) <= DESIGN_INTENTS and "out_of_scope" in evaluation.intents
    assert len(evaluation.examples) >= 350
    assert sum(e.intent == "out_of_scope" for e in evaluation.examples) >= len(evaluation.examples) / 2
    training = {" ".join(e.text.lower().split()) for e in load(RasaProject().data_dir).examples}
    copied = [e.text for e in evaluation.examples if " ".join(e.text.lower().split()) in training]
    assert not copied, copied


def test_lookup_tables_are_derived_from_the_synonyms_of_values_the_examples_annotate(tmp_path):
    source = tmp_path / "data.yml"
    source.write_text(
        'version: "3.1"\nnlu:\n'
        "- intent: book_service\n  examples: |\n"
        '    - book at [Sharjah](branch)\n'
        '    - new [tyres]{"entity": "service_type", "value": "tyres"} please\n'
        "- intent: complaint\n  examples: |\n"
        '    - the [tyre]{"entity": "component", "value": "tyres"} you fitted is flat\n'
        "- synonym: sharjah\n  examples: |\n    - Sharja\n    - الشارقة\n"
        "- synonym: tyres\n  examples: |\n    - tyre\n    - tawayer\n"
        "- synonym: battery\n  examples: |\n    - betariya\n",
        encoding="utf-8",
    )
    data = load(source)
    tables = {
        t["lookup"]: t["examples"].split("\n")[:-1] for t in entity_lookups(data.examples, _synonyms(data.other_sections))
    }
    # a value annotated as two entities is in both tables; a value no example annotates (battery) in none
    assert tables == {
        "branch_words": ["- sharja", "- sharjah", "- الشارقة"],
        "component_words": ["- tawayer", "- tyre", "- tyres"],
        "service_type_words": ["- tawayer", "- tyre", "- tyres"],
    }
    # written with the training file, and replaced (not repeated) when a written file is written again
    write(tmp_path / "once.yml", data.examples, data.other_sections)
    again = load(tmp_path / "once.yml")
    write(tmp_path / "twice.yml", again.examples, again.other_sections)
    assert (tmp_path / "once.yml").read_text(encoding="utf-8") == (tmp_path / "twice.yml").read_text(encoding="utf-8")
    assert (tmp_path / "once.yml").read_text(encoding="utf-8").count("lookup: branch_words") == 1



def test_every_mention_of_a_known_value_in_the_training_data_is_annotated():
    """One convention for the CRF (nlu/consistency.py): a place, part or service customers write is an
    entity wherever it appears. The message shows each bare mention annotated as it should be."""
    from nlu.consistency import Convention, annotated

    data = load(RasaProject().data_dir)
    convention = Convention(data.examples, _synonyms(data.other_sections))
    bare = [(e, convention.mentions(e)) for e in data.examples]
    fixes = [f"{e.intent}: {annotated(m)}" for e, m in bare if m]
    assert not fixes, "annotate these mentions:\n" + "\n".join(fixes[:50])


def test_the_convention_finds_bare_mentions_by_the_intent_s_own_use_and_skips_ambiguous_words():
    from nlu.consistency import Convention, annotated

    synonyms = {"engine": "engine", "المكينة": "engine", "oil": "oil_change", "cooling": "cooling", "sharja": "sharjah"}

    def example(intent: str, raw: str) -> Example:
        text, entities = parse_annotated(raw, synonyms)
        return Example(text, intent, entities, raw)

    examples = [
        example("complaint", "the [engine](component) knocks"),
        example("book_service", 'an [oil]{"entity": "service_type", "value": "oil_change"} change please'),
        example("complaint", "[sharja](branch) staff were rude"),
        example("complaint", "the [coolant]{\"entity\": \"component\", \"value\": \"cooling\"} leaks"),
    ]
    convention = Convention(examples, synonyms)
    advice = example("car_advice", "is المكينة ok in the heat, the engine and the AC not cooling, near sharja")
    found = convention.mentions(advice)
    assert [(m.surface, m.entity, m.value) for m in found] == [
        ("المكينة", "component", "engine"), ("engine", "component", "engine"), ("sharja", "branch", "sharjah")]
    fixed = annotated(found)
    assert parse_annotated(fixed, synonyms)[0] == advice.text  # the text itself is unchanged
    assert convention.mentions(example("car_advice", fixed)) == []
    # "oil" is the oil change in a service request only; "burning oil" in a complaint is left bare
    assert [m.surface for m in convention.mentions(example("book_service", "oil and filters"))] == ["oil"]
    assert convention.mentions(example("complaint", "it is burning oil")) == []
