"""The warranty conversations: what the cover includes (`warranty_coverage`) and a claim for a fault
(`warranty_claim`). Reads the turn, asks actions.warranty.service and .rules, renders the answer."""

from __future__ import annotations

from datetime import date

from actions.kit import formats, menu, vehicles
from actions.kit.flows import Flow, Handlers
from actions.kit.normalise import has_any, norm, word_count
from actions.kit.turn import Turn
from actions.kit.types import Option, Reply
from actions.warranty import service
from actions.warranty.rules import COMPONENTS, component_in_text, component_label, exclusion_reason, is_safety
from actions.warranty.service import Cover
from db.models import Vehicle, WarrantyTier
from dealerbot.logging import get_logger

COVERAGE = Flow("warranty_coverage")
COVERAGE_VEHICLE = COVERAGE.step("vehicle")
COVERAGE_NEXT = COVERAGE.step("next", follow_up=True)
CLAIM = Flow("warranty_claim")
CLAIM_VEHICLE = CLAIM.step("vehicle")
CLAIM_COMPONENT = CLAIM.step("component")
CLAIM_COMPONENT_OTHER = CLAIM.step("component_other")
CLAIM_DESCRIPTION = CLAIM.step("description")
CLAIM_PHOTOS = CLAIM.step("photos")

handlers = Handlers()

log = get_logger("actions.warranty")


# --- reading and rendering ------------------------------------------------------------------------------------


def component_in(turn: Turn) -> str | None:
    """The component the message names: the NLU's `component` entity (its words refine it: "brake pads"
    are not the brake system), else words of the message."""
    for entity in turn.parse.entities:
        if entity.name != "component":
            continue
        code = component_in_text(entity.text)
        if code is None and entity.value in COMPONENTS:
            code = entity.value
        if code is not None:
            return code
    return component_in_text(turn.message.text)


def _label(turn: Turn, code: str) -> str:
    return component_label(code, turn.language)


def _date(turn: Turn, day: date) -> str:
    return formats.day(day, turn.language)


def _reason(turn: Turn, code: str) -> str:
    return turn.t(f"warranty_why_{exclusion_reason(code)}")


def _tier_name(turn: Turn, tier: WarrantyTier) -> str:
    return tier.name_ar if turn.language == "ar" else tier.name_en


def _tier_line(turn: Turn, key: str, tier: WarrantyTier) -> str:
    description = tier.description_ar if turn.language == "ar" else tier.description_en
    return turn.t(key, tier=_tier_name(turn, tier), description=description, price=formats.money(tier.price_aed))


def _list(turn: Turn, codes: list[str]) -> str:
    return ("، " if turn.language == "ar" else ", ").join(_label(turn, c) for c in codes)


def _cover(turn: Turn, vehicle: Vehicle) -> Cover:
    return service.cover_of(turn.session, vehicle, turn.local_now.date())


# --- warranty_coverage ----------------------------------------------------------------------------------------


def _terms_text(turn: Turn, cover: Cover) -> list[str]:
    vehicle = vehicles.label(cover.vehicle)
    warranty = cover.warranty
    if warranty is None:
        lines = [turn.t("warranty_none", vehicle=vehicle), turn.t("warranty_new_cover_intro")]
        return lines + [_tier_line(turn, "warranty_tier_line", t) for t in service.tiers(turn.session)]
    common = dict(vehicle=vehicle, tier=_tier_name(turn, warranty.tier), contract=warranty.contract_number,
                  end=_date(turn, warranty.end_date), limit=formats.number(warranty.mileage_limit_km))
    if cover.ended == "date":
        lines = [turn.t("warranty_ended_date", **common)]
    elif cover.ended == "km":
        lines = [turn.t("warranty_ended_km", **common, km=formats.number(cover.reading_km or 0))]
    else:
        days = (warranty.end_date - turn.local_now.date()).days
        if cover.reading_km is not None and cover.reading_at is not None:
            km_left = formats.number(warranty.mileage_limit_km - cover.reading_km)
            reading = turn.t("warranty_reading", km=formats.number(cover.reading_km),
                             date=_date(turn, cover.reading_at.astimezone(turn.tz).date()))
        else:
            km_left, reading = "?", ""
        lines = [turn.t("warranty_active", **common, days=turn.t("warranty_days_left", count=days),
                        km_left=km_left, reading=reading)]
    lines.append(turn.t("warranty_covered_list", items=_list(turn, list(warranty.covered_components))))
    lines.append(turn.t("warranty_excluded_list", items=_list(turn, list(warranty.excluded_components))))
    return lines


def _growth_text(turn: Turn, cover: Cover) -> list[str]:
    """How to extend or upgrade the cover (or take new cover when it ended)."""
    warranty = cover.warranty
    if warranty is None:
        return []
    if cover.ended is not None:
        return [turn.t("warranty_new_cover_intro")] + [
            _tier_line(turn, "warranty_tier_line", t) for t in service.tiers(turn.session)
        ]
    lines = [_tier_line(turn, "warranty_upgrade_line", t) for t in service.tiers(turn.session)
             if t.rank > warranty.tier.rank]
    lines.append(turn.t("warranty_extend_line", tier=_tier_name(turn, warranty.tier),
                        price=formats.money(warranty.tier.price_aed)))
    return lines


def _component_text(turn: Turn, cover: Cover, code: str) -> list[str]:
    vehicle = vehicles.label(cover.vehicle)
    label = _label(turn, code)
    warranty = cover.warranty
    if warranty is None:
        return [turn.t("warranty_not_covered_none", component=label, vehicle=vehicle)]
    if cover.ended is not None:
        return [turn.t("warranty_not_covered_ended", component=label, vehicle=vehicle)]
    tier = _tier_name(turn, warranty.tier)
    if code in warranty.excluded_components:
        return [turn.t("warranty_not_covered_excluded", component=label, tier=tier, vehicle=vehicle,
                       reason=_reason(turn, code))]
    if code in warranty.covered_components:
        return [turn.t("warranty_is_covered", component=label, tier=tier, vehicle=vehicle,
                       end=_date(turn, warranty.end_date), limit=formats.number(warranty.mileage_limit_km))]
    better = service.better_tier(turn.session, cover, code)
    if better is None:
        return [turn.t("warranty_unknown_component", component=label, tier=tier, vehicle=vehicle)]
    return [
        turn.t("warranty_not_covered_tier", component=label, tier=tier, vehicle=vehicle),
        turn.t("warranty_better_tier", tier=_tier_name(turn, better), price=formats.money(better.price_aed)),
    ]


def _coverage_answer(turn: Turn, vehicle: Vehicle, code: str | None) -> Reply:
    cover = _cover(turn, vehicle)
    if code is not None:
        lines = _component_text(turn, cover, code)
        covered = cover.active and code in cover.warranty.covered_components  # type: ignore[union-attr]
    else:
        lines = _terms_text(turn, cover) + _growth_text(turn, cover)
        covered = cover.active
    options = []
    if covered:
        options.append(turn.option("intent:warranty_claim", "warranty_make_claim"))
    elif code is not None:
        options.append(turn.intent_option("book_service", "warranty_book_paid", vehicle=vehicle.id))
    options.append(turn.option("advisor", "warranty_ask_advisor"))
    reply = turn.ask(COVERAGE_NEXT, "warranty_choose_vehicle", options)
    turn.remember(vehicle_id=vehicle.id)
    reply.text = "\n".join(lines)
    return reply


def _coverage_of(turn: Turn, cars: list[Vehicle]) -> Reply:
    return _coverage_answer(turn, cars[0], turn.data.get("component") or component_in(turn))


@handlers.intent("warranty_coverage")
def warranty_coverage(turn: Turn) -> Reply | list[Reply]:
    if turn.customer is None:
        return menu.need_customer(turn)
    turn.data = {"component": component_in(turn)}
    return vehicles.start(turn, COVERAGE_VEHICLE, "warranty_choose_vehicle", _coverage_of)


@handlers.step(COVERAGE_VEHICLE, keeps=("warranty_coverage", "warranty_claim"))
def warranty_coverage_vehicle(turn: Turn) -> Reply | list[Reply]:
    return vehicles.step(turn, COVERAGE_VEHICLE, _coverage_of)


# "get an advisor to call me about extending" reads as human_agent; with the advisor option on screen it
# is that option (the handler leaves for a hand-off when no option was meant).
@handlers.step(COVERAGE_NEXT, keeps=("human_agent",))
def warranty_coverage_next(turn: Turn) -> Reply | list[Reply]:
    cars = turn.vehicles()
    remembered = vehicles.by_id(cars, turn.data.get("vehicle_id"))
    if turn.selected is not None and turn.selected.id == "advisor" and remembered is not None:
        assert turn.customer is not None
        cover = _cover(turn, remembered)
        turn.finish()
        service.request_advisor(turn.session, turn.now, customer_id=turn.customer.id, identity_id=turn.identity.id,
                                cover=cover)
        return turn.reply("warranty_advisor_requested", vehicle=vehicles.label(remembered))
    follow_up = turn.parse.intent == "warranty_coverage" or (
        # "and the ac??" reads as anything to the model; a part named alone is a question about its cover.
        word_count(turn.said) <= 6 and component_in(turn) is not None
    )
    if turn.selected is None and follow_up and remembered is not None:
        # A follow-up question ("and the turbo?") about the same car, unless another car is named.
        return _coverage_answer(turn, vehicles.named(turn, cars) or remembered, component_in(turn))
    return turn.leave_and_answer()


# --- warranty_claim -------------------------------------------------------------------------------------------


def _media(turn: Turn) -> list[str]:
    return [m.url for m in turn.message.media]


def _refuse(turn: Turn, key: str, **values: object) -> Reply:
    """A polite no, with a paid repair (the booking flow) or a person instead."""
    turn.finish()
    options = [
        turn.option("intent:book_service", "warranty_book_paid"),
        turn.option("intent:human_agent", "menu_human_agent"),
    ]
    turn.offer(options)
    log.info("claim_refused", reason=key)
    return turn.reply(key, options, **values)


# A first message this long that names the part describes the fault ("the AC of my Patrol blows hot air
# since yesterday, is it under warranty?"): it is the claim's description and is not asked again. A shorter
# one that names the part ("AC not cooling, claim pls"), or a long one that names none, is offered as the
# description with one tap; "I want to claim warranty for my car" says nothing of the fault and is not.
DESCRIBED_WORDS = 12
OFFERED_WORDS = 4


@handlers.intent("warranty_claim")
def warranty_claim(turn: Turn) -> Reply | list[Reply]:
    if turn.customer is None:
        return menu.need_customer(turn)
    said = " ".join(turn.said.split())
    component = component_in(turn)
    words = word_count(said)
    first = said[:5000] if words >= DESCRIBED_WORDS or (component and words >= OFFERED_WORDS) else None
    turn.data = {"component": component, "photos": _media(turn), "first": first,
                 "described": bool(component) and words >= DESCRIBED_WORDS}
    return vehicles.start(turn, CLAIM_VEHICLE, "claim_choose_vehicle", _claim_vehicle)


@handlers.step(CLAIM_VEHICLE, keeps=("warranty_coverage", "warranty_claim"))
def warranty_claim_vehicle(turn: Turn) -> Reply | list[Reply]:
    turn.remember(photos=turn.data.get("photos", []) + _media(turn))
    return vehicles.step(turn, CLAIM_VEHICLE, _claim_vehicle)


def _claim_vehicle(turn: Turn, cars: list[Vehicle]) -> Reply:
    vehicle = cars[0]
    if turn.data.get("component") is None:
        turn.remember(component=component_in(turn))
    cover = _cover(turn, vehicle)
    label = vehicles.label(vehicle)
    if cover.warranty is None:
        return _refuse(turn, "claim_refused_none", vehicle=label)
    tier = _tier_name(turn, cover.warranty.tier)
    if cover.ended == "date":
        return _refuse(turn, "claim_refused_date", vehicle=label, tier=tier, end=_date(turn, cover.warranty.end_date))
    if cover.ended == "km":
        return _refuse(turn, "claim_refused_km", vehicle=label, tier=tier,
                       limit=formats.number(cover.warranty.mileage_limit_km),
                       km=formats.number(cover.reading_km or 0))
    turn.remember(vehicle_id=vehicle.id, warranty_id=cover.warranty.id)
    code = turn.data.get("component")
    if code is not None:
        return _claim_component(turn, cover, code)
    return _ask_component(turn, cover, "claim_ask_component")


def _ask_component(turn: Turn, cover: Cover, key: str) -> Reply:
    assert cover.warranty is not None
    options = [Option(f"component:{c}", _label(turn, c)) for c in cover.warranty.covered_components]
    options.append(turn.option("component:other", "something_else"))
    return turn.ask(CLAIM_COMPONENT, key, options)


def _claim_cover(turn: Turn) -> Cover | None:
    vehicle = vehicles.by_id(turn.vehicles(), turn.data.get("vehicle_id"))
    return _cover(turn, vehicle) if vehicle is not None else None


def _claim_component(turn: Turn, cover: Cover, code: str) -> Reply:
    assert cover.warranty is not None
    label = _label(turn, code)
    tier = _tier_name(turn, cover.warranty.tier)
    if code in cover.warranty.excluded_components:
        return _refuse(turn, "claim_refused_excluded", component=label, tier=tier, reason=_reason(turn, code))
    if code in COMPONENTS and code not in cover.warranty.covered_components:
        return _refuse(turn, "claim_refused_tier", component=label, tier=tier)
    turn.remember(component=code)
    first = turn.data.get("first")
    if first and turn.data.get("described"):
        turn.remember(description=first)
        photos = turn.data.get("photos", [])
        if photos:
            return _ask_photos(turn, photos)
        return turn.ask(CLAIM_PHOTOS, "claim_described_ask_photos", [turn.option("done", "claim_submit_no_photos")],
                        description=_quote(first))
    return turn.ask(CLAIM_DESCRIPTION, "claim_ask_description", _first_option(turn), free_text=True)


def _first_option(turn: Turn) -> list[Option]:
    return [turn.option("first", "claim_use_first")] if turn.data.get("first") else []


def _quote(said: str, limit: int = 160) -> str:
    return said if len(said) <= limit else said[: limit - 1].rstrip() + "…"


@handlers.step(CLAIM_COMPONENT, keeps=("warranty_coverage", "warranty_claim", "complaint", "roadside_assistance"))
def warranty_claim_component(turn: Turn) -> Reply:
    cover = _claim_cover(turn)
    if cover is None or cover.warranty is None:
        turn.finish()
        return menu.flow_cancelled(turn)
    turn.remember(photos=turn.data.get("photos", []) + _media(turn))
    if turn.selected is not None and turn.selected.id == "component:other":
        return turn.ask(CLAIM_COMPONENT_OTHER, "claim_ask_component_other", free_text=True)
    code = turn.picked("component") or component_in(turn)
    if code is None:
        return _ask_component(turn, cover, "claim_ask_component_again")
    return _claim_component(turn, cover, code)


@handlers.step(CLAIM_COMPONENT_OTHER)
def warranty_claim_component_other(turn: Turn) -> Reply:
    cover = _claim_cover(turn)
    if cover is None or cover.warranty is None:
        turn.finish()
        return menu.flow_cancelled(turn)
    said = " ".join(turn.said.split())
    words = word_count(said)
    if words == 0:
        return turn.ask(CLAIM_COMPONENT_OTHER, "claim_ask_component_other", free_text=True)
    code = component_in(turn)
    # An excluded part stays excluded in other words; a part named in a word or two is that part; anything
    # longer ("the sunroof motor") is the customer's own description, for the warranty advisor to judge.
    if code is not None and (code in cover.warranty.excluded_components or words <= 2):
        return _claim_component(turn, cover, code)
    return _claim_component(turn, cover, f"other: {said}"[:64])


def _ask_photos(turn: Turn, photos: list[str]) -> Reply:
    if photos:
        return turn.ask(CLAIM_PHOTOS, "claim_photos_received", [turn.option("done", "claim_submit")],
                        count=len(photos))
    return turn.ask(CLAIM_PHOTOS, "claim_ask_photos", [turn.option("done", "claim_submit_no_photos")])


@handlers.step(CLAIM_DESCRIPTION, keeps=("roadside_assistance",))
def warranty_claim_description(turn: Turn) -> Reply:
    said = turn.said.strip()
    if turn.selected is not None and turn.selected.id == "first" and turn.data.get("first"):
        said = turn.data["first"]
    photos = turn.data.get("photos", []) + _media(turn)
    turn.remember(photos=photos)
    if word_count(said) < 2:
        return turn.ask(CLAIM_DESCRIPTION, "claim_ask_description_again", _first_option(turn), free_text=True)
    turn.remember(description=said[:5000])
    return _ask_photos(turn, photos)


# What submits the claim at the photos step besides its button: a yes or no, "done", "no photos", "send it".
_SUBMIT_WORDS = (
    "done", "submit", "send", "send it", "finish", "finished", "that s all", "thats all", "no photo*", "without",
    "go ahead", "proceed", "nothing", "none", "خلاص", "ارسل", "ارسلها", "ارسال", "قدم", "قدمها", "بدون", "ما عندي",
    "مافي", "ما في", "تم", "kalas", "khalas", "5alas", "ersel", "ma 3indi", "ma 3ndi", "ma3ndi", "mafi", "bdoon",
    "bidoon", "bedoon",
)


@handlers.step(CLAIM_PHOTOS, keeps=("warranty_claim", "affirm", "deny"))
def warranty_claim_photos(turn: Turn) -> Reply:
    if turn.message.media:
        photos = turn.data.get("photos", []) + _media(turn)
        turn.remember(photos=photos)
        return _ask_photos(turn, photos)
    if (turn.selected is not None and turn.selected.id == "done") or turn.yes_no() is not None or has_any(
        norm(turn.said), _SUBMIT_WORDS
    ):
        return _open_claim(turn)
    # Anything else is not a go-ahead: the claim is not sent on a stray message (a question about something
    # else is answered by the core first, then this is asked again).
    return _ask_photos(turn, turn.data.get("photos", []))


def _open_claim(turn: Turn) -> Reply:
    assert turn.customer is not None
    data = turn.data
    cover = _claim_cover(turn)
    if cover is None or cover.warranty is None or cover.warranty.id != data.get("warranty_id"):
        turn.finish()
        return menu.flow_cancelled(turn)
    claim = service.open_claim(
        turn.session, turn.now, tz=turn.tz, customer_id=turn.customer.id, vehicle=cover.vehicle,
        warranty=cover.warranty, component=data["component"], description=data["description"],
        photos=list(data.get("photos", [])),
    )
    turn.finish()
    options = []
    if is_safety(claim.description):
        options = [turn.option("intent:roadside_assistance", "roadside_option")]
        turn.offer(options)
    return turn.reply(
        "claim_opened",
        options,
        ticket=claim.ticket_id,
        component=_label(turn, claim.component),
        vehicle=vehicles.label(cover.vehicle),
        photos=turn.t("claim_photos_attached", count=len(claim.photos)) if claim.photos else "",
        deadline=formats.moment(claim.respond_by, turn.language, turn.tz, turn.now),
    )
