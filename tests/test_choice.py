"""The one matcher of a typed reply to the options offered (actions.kit.choice), in English, Arabic and
Arabizi: numbers, ordinals, words of a label or of the dealership's words files, typos, ties."""

from __future__ import annotations

import pytest

from actions.kit import choice
from actions.kit.cars import names_of
from actions.kit.catalog import text
from actions.kit.types import Option


def _car(vehicle_id: int, make: str, model: str, year: int, plate: str) -> Option:
    return Option(f"vehicle:{vehicle_id}", f"{make} {model} {year} ({plate})", names_of(make, model))


CARS = [
    _car(1, "Chevrolet", "Tahoe", 2021, "Abu Dhabi 5 2603"),
    _car(2, "Toyota", "Land Cruiser", 2019, "Dubai A 12345"),
    _car(3, "Nissan", "Patrol", 2022, "Sharjah 3 77120"),
]
BRANCHES = [
    Option("branch:dubai", "Dubai Service Centre (Al Quoz)", ("مركز خدمة دبي (القوز)", "Dubai", "دبي", "Al Quoz")),
    Option("branch:abu-dhabi", "Abu Dhabi Service Centre (Mussafah)",
           ("مركز خدمة أبوظبي (مصفح)", "Abu Dhabi", "أبوظبي", "Mussafah")),
    Option("branch:sharjah", "Sharjah Service Centre (Industrial Area 6)", ("مركز خدمة الشارقة", "Sharjah", "الشارقة")),
]


def _catalog_options(language: str, ids_keys: list[tuple[str, str]]) -> list[Option]:
    other = "ar" if language == "en" else "en"
    return [Option(option_id, text(key, language), (text(key, other),)) for option_id, key in ids_keys]


EXTRAS = _catalog_options("en", [(f"extra:{n}", f"appt_extra_{n}") for n in ("pickup", "mobile", "express")])
CATEGORIES = _catalog_options("ar", [(f"category:{c}", f"complaint_cat_{c}")
                                     for c in ("service_quality", "delay", "staff", "billing", "safety")])
RATINGS = _catalog_options("ar", [(f"rating:{n}", f"feedback_rating_{n}") for n in range(1, 6)])


def picked(options: list[Option], said: str) -> str | None:
    found = choice.choose(options, said)
    return found.option.id if found.option else None


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("2", "vehicle:2"), ("٣", "vehicle:3"), ("option 2", "vehicle:2"), ("number 3 please", "vehicle:3"),
        ("رقم ٢", "vehicle:2"), ("الخيار 1", "vehicle:1"), ("#2", "vehicle:2"), ("2.", "vehicle:2"),
        ("two", "vehicle:2"), ("اثنين", "vehicle:2"), ("wa7ed", "vehicle:1"),
    ],
)
def test_a_number_picks_that_option_in_any_script(said, expected):
    found = choice.choose(CARS, said)
    assert found.option is not None and found.option.id == expected
    assert found.how == "number" and found.certain


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("the first one", "vehicle:1"), ("second", "vehicle:2"), ("the 3rd one pls", "vehicle:3"),
        ("the last one", "vehicle:3"), ("الأول", "vehicle:1"), ("الثاني", "vehicle:2"), ("الثالثة", "vehicle:3"),
        ("الأخير", "vehicle:3"), ("اللي الثاني", "vehicle:2"), ("awwal wa7ed", "vehicle:1"), ("el thani", "vehicle:2"),
        ("l2akher", "vehicle:3"),
    ],
)
def test_an_ordinal_picks_that_option_in_english_arabic_and_arabizi(said, expected):
    found = choice.choose(CARS, said)
    assert found.option is not None and found.option.id == expected
    assert found.how == "ordinal" and found.certain


@pytest.mark.parametrize("said", ["0", "4", "٤", "fifth", "الخامس", "the 12th"])
def test_a_number_or_ordinal_beyond_the_options_picks_nothing(said):
    assert choice.choose(CARS, said) == choice.NOTHING


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("the tahoe", "vehicle:1"), ("Chevy pls", "vehicle:1"), ("تاهو", "vehicle:1"), ("الشفروليه", "vehicle:1"),
        ("landcruiser", "vehicle:2"), ("the land cruiser", "vehicle:2"), ("لاندكروزر", "vehicle:2"),
        ("the patrol", "vehicle:3"), ("باترول", "vehicle:3"), ("patrl", "vehicle:3"),  # a typo
        ("the one with 77120", "vehicle:3"), ("2603", "vehicle:1"), ("the 2019 one", "vehicle:2"),
    ],
)
def test_a_car_is_picked_by_make_model_nickname_plate_or_year(said, expected):
    found = choice.choose(CARS, said)
    assert found.option is not None and found.option.id == expected
    assert found.how == choice.WORDS and not found.certain


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("abu dhabi", "branch:abu-dhabi"), ("abudhabi", "branch:abu-dhabi"), ("mussafa", "branch:abu-dhabi"),
        ("أبوظبي", "branch:abu-dhabi"), ("ابوظبي", "branch:abu-dhabi"), ("the one in al quoz", "branch:dubai"),
        ("دبي", "branch:dubai"), ("الشارقة لو سمحت", "branch:sharjah"), ("sharja", "branch:sharjah"),
    ],
)
def test_a_branch_is_picked_by_city_or_area_in_either_language(said, expected):
    assert picked(BRANCHES, said) == expected


@pytest.mark.parametrize(
    ("options", "said", "expected"),
    [
        (EXTRAS, "pick up and drop off", "extra:pickup"),
        (EXTRAS, "pickup pls", "extra:pickup"),
        (EXTRAS, "express lane", "extra:express"),
        (EXTRAS, "at my villa", "extra:mobile"),
        (EXTRAS, "توصيل", "extra:pickup"),  # the dealership's words, not the label
        (EXTRAS, "المسار السريع", "extra:express"),  # the Arabic label, offered in English
        (CATEGORIES, "التأخير", "category:delay"),
        (CATEGORIES, "delay", "category:delay"),
        (CATEGORIES, "ta2kheer", "category:delay"),
        (CATEGORIES, "الفاتوره", "category:billing"),
        (CATEGORIES, "the staff were rude", "category:staff"),
        (RATINGS, "mumtaza", "rating:5"),
        (RATINGS, "ممتازة", "rating:5"),
        (RATINGS, "zain", "rating:4"),
        (RATINGS, "سيئة جداً", "rating:1"),
        (RATINGS, "Excellent", "rating:5"),
    ],
)
def test_words_of_a_label_or_of_the_words_files_pick_it(options, said, expected):
    assert picked(options, said) == expected


def test_equally_good_matches_are_returned_as_candidates_only():
    options = [
        Option("vehicle:1", "Toyota Land Cruiser 2021 (Dubai A 1)", names_of("Toyota", "Land Cruiser")),
        Option("vehicle:2", "Toyota Land Cruiser 2019 (Dubai B 2)", names_of("Toyota", "Land Cruiser")),
        Option("vehicle:3", "Nissan Patrol 2022 (Sharjah 3)", names_of("Nissan", "Patrol")),
    ]
    found = choice.choose(options, "the landcruiser")
    assert found.option is None
    assert [o.id for o in found.candidates] == ["vehicle:1", "vehicle:2"]
    # And with only the candidates offered, the year tells them apart.
    assert picked(list(found.candidates), "the 2019 one") == "vehicle:2"


@pytest.mark.parametrize(
    "said",
    [
        "I want to cancel my booking",  # a new request, not an answer
        "my car makes a noise when braking at speed",
        "114465",  # a number is matched exactly or not at all
        "hello",
        "",
    ],
)
def test_words_that_name_no_single_option_pick_nothing(said):
    toyotas = [Option("vehicle:1", "Toyota Camry 2020", names_of("Toyota", "Camry")),
               Option("vehicle:2", "Toyota Prado 2018", names_of("Toyota", "Prado")),
               Option("mileage:119465", "119,465 km")]
    assert choice.choose(toyotas, said) == choice.NOTHING


def test_a_word_every_option_has_tells_none_apart():
    toyotas = [Option("vehicle:1", "Toyota Camry 2020", names_of("Toyota", "Camry")),
               Option("vehicle:2", "Toyota Prado 2018", names_of("Toyota", "Prado"))]
    assert choice.choose(toyotas, "the toyota") == choice.NOTHING
    assert [o.id for o in choice.choose([*toyotas, CARS[0]], "the toyota").candidates] == ["vehicle:1", "vehicle:2"]


def test_a_button_payload_wins_and_a_stale_one_picks_nothing():
    assert choice.choose(CARS, "whatever", payload="vehicle:3").option == CARS[2]
    assert choice.choose(CARS, "1", payload="vehicle:99") == choice.NOTHING


def test_every_words_file_lists_words_for_option_ids():
    table = choice._words_table()
    assert {"category:delay", "rating:5", "extra:pickup", "service:car_wash"} <= set(table)
    assert all(table.values())
