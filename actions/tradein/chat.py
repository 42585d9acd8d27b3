"""The `trade_in` intent and its flow: a valuation of the customer's car, or a wish for the next one.

mode → (valuation) which car → mileage → condition → lead, then the offer of an upgrade wish;
     → (upgrade) car → budget → wish and lead (with the matching stock), then the offer of a valuation.
"""

from __future__ import annotations

from typing import Any

from actions.kit.cars import car_in_text
from actions.kit.flows import Flow, Handlers
from actions.kit.formats import money, number
from actions.kit.normalise import norm
from actions.kit.turn import Turn
from actions.kit.types import Option, Reply
from actions.leads.rules import car_description, parse_amount, year_in
from actions.leads.steps import WhichCar, emergency, prefill_vehicle, submit_lead, yes_no_options
from actions.mileage.rules import reading_in
from actions.tradein.rules import (
    CONDITIONS,
    budget_answer,
    budget_in,
    condition_in,
    condition_stated,
    km_stated,
    no_budget,
    plausible_km,
    trade_mode,
)
from actions.mileage.service import latest_km
from actions.tradein.service import branch_names, matching_stock, save_upgrade_wish

TRADE = Flow("trade_in")
TRADE_MODE = TRADE.step("mode")
TRADE_MILEAGE = TRADE.step("mileage")
TRADE_CONDITION = TRADE.step("condition")
TRADE_CAR = TRADE.step("car")
TRADE_BUDGET = TRADE.step("budget")
TRADE_OFFER = TRADE.step("offer")

handlers = Handlers()


@handlers.intent("trade_in")
def trade_in(turn: Turn) -> Reply:
    said = turn.said
    turn.data = {}
    mode = trade_mode(norm(said))
    turn.remember(request=said[:1000])
    if mode == "valuation":
        turn.remember(mode=mode)
        prefill_vehicle(turn)
        _prefill_valuation(turn, said)
    elif mode == "upgrade":
        turn.remember(mode=mode)
        _prefill_wish(turn, said)
    return trade_continue(turn)


def _prefill_valuation(turn: Turn, said: str) -> None:
    """The odometer and the condition when the first message gives them ("value my patrol, 85k km, no
    accidents, excellent condition")."""
    mileage = next((km for m in turn.parse.values("mileage") if (km := parse_amount(m)) is not None), None)
    if mileage is None and km_stated(said):
        masks = [v.plate for v in turn.vehicles() if v.plate]
        mileage = reading_in(said, (), masks)
    vehicle_id = turn.data.get("vehicle_id")
    last = latest_km(turn.session, vehicle_id) if vehicle_id is not None else None
    if plausible_km(mileage) and (last is None or mileage >= last):
        turn.remember(mileage_km=mileage)
    condition = condition_stated(norm(said))
    if condition is not None:
        turn.remember(condition=condition, condition_note=said[:500])


def _prefill_wish(turn: Turn, said: str) -> None:
    make, model = car_in_text(turn.session, said)
    owned = any(v.make == make and (model is None or v.model == model) for v in turn.vehicles())
    if make and not owned:
        turn.remember(car={"make": make, "model": model, "min_year": year_in(said)})
    amount = budget_in(said)
    if amount is not None:
        turn.remember(budget=amount)


def trade_continue(turn: Turn) -> Reply:
    """Ask what is still missing, or finish the valuation or the wish."""
    data = turn.data
    mode = data.get("mode")
    if mode is None:
        return turn.ask(TRADE_MODE, "trade_ask_mode", _mode_options(turn))
    if mode == "valuation":
        if "vehicle" not in data:
            return WHICH_CAR.ask(turn)
        if "mileage_km" not in data:
            return _ask_mileage(turn)
        if "condition" not in data:
            return turn.ask(TRADE_CONDITION, "trade_ask_condition", _condition_options(turn))
        return _valuation_done(turn)
    if "car" not in data:
        return turn.ask(TRADE_CAR, "trade_ask_car", [turn.option("car:any", "trade_car_any")], free_text=True)
    if "budget" not in data:
        return turn.ask(TRADE_BUDGET, "trade_ask_budget", _budget_options(turn))
    return _upgrade_done(turn)


WHICH_CAR = WhichCar(TRADE, then=trade_continue)
WHICH_CAR.declare(handlers)


def _mode_options(turn: Turn) -> list[Option]:
    return [turn.option("mode:valuation", "trade_mode_valuation"), turn.option("mode:upgrade", "trade_mode_upgrade")]


def _condition_options(turn: Turn) -> list[Option]:
    return [turn.option(f"condition:{c}", f"trade_condition_{c}") for c in CONDITIONS]


def _budget_options(turn: Turn) -> list[Option]:
    return [turn.option("budget:none", "trade_budget_none")]


@handlers.step(TRADE_MODE)
def trade_mode_step(turn: Turn) -> Reply:
    mode = turn.picked("mode") or trade_mode(norm(turn.said))
    if mode not in ("valuation", "upgrade"):
        return turn.ask(TRADE_MODE, "leads_choose_again", _mode_options(turn))
    turn.remember(mode=mode)
    return trade_continue(turn)


def _ask_mileage(turn: Turn, key: str = "trade_ask_mileage", **values: Any) -> Reply:
    options = []
    vehicle_id = turn.data.get("vehicle_id")
    if vehicle_id is not None:
        last = latest_km(turn.session, vehicle_id)
        if last is not None:
            options.append(turn.option(f"mileage:{last}", "trade_mileage_last", km=number(last, turn.language)))
    return turn.ask(TRADE_MILEAGE, key, options, **values)


@handlers.step(TRADE_MILEAGE, keeps=("report_mileage",))
def trade_mileage_step(turn: Turn) -> Reply:
    picked = turn.picked("mileage")
    km = int(picked) if picked is not None else parse_amount(turn.said)
    if km is None or not plausible_km(km):
        return _ask_mileage(turn, "trade_mileage_again")
    vehicle_id = turn.data.get("vehicle_id")
    last = latest_km(turn.session, vehicle_id) if vehicle_id is not None else None
    if last is not None and km < last:
        return _ask_mileage(turn, "trade_mileage_lower", last=number(last, turn.language))
    turn.remember(mileage_km=km)
    return trade_continue(turn)


@handlers.step(TRADE_CONDITION, keeps=("feedback", "affirm"))
def trade_condition_step(turn: Turn) -> Reply:
    condition = turn.picked("condition")
    if condition is None and (condition := condition_in(norm(turn.said))) is not None:
        turn.remember(condition_note=turn.said[:500])
    if condition not in CONDITIONS:
        return turn.ask(TRADE_CONDITION, "trade_condition_again", _condition_options(turn))
    turn.remember(condition=condition)
    return trade_continue(turn)


def _valuation_done(turn: Turn) -> Reply:
    data = turn.data
    details = {
        "request": data.get("request"),
        "vehicle": data["vehicle"],
        "mileage_km": data["mileage_km"],
        "condition": data["condition"],
    }
    if data.get("condition_note"):
        details["condition_note"] = data["condition_note"]
    submit_lead(turn, "trade_in_valuation", data.get("vehicle_id"), details)
    done = turn.t(
        "trade_valuation_done",
        vehicle=data["vehicle"],
        km=number(data["mileage_km"], turn.language),
        condition=turn.t(f"trade_condition_{data['condition']}"),
    )
    turn.remember(done=[*data.get("done", []), "valuation"])
    if "upgrade" in data.get("done", []):
        turn.finish()
        return Reply(done)
    ask = turn.ask(TRADE_OFFER, "trade_offer_upgrade", yes_no_options(turn))
    return Reply(f"{done}\n\n{ask.text}", ask.options)


@handlers.step(TRADE_CAR)
def trade_car_step(turn: Turn) -> Reply | list[Reply]:
    if (urgent := emergency(turn)) is not None:
        return urgent
    if turn.selected is not None and turn.selected.id == "car:any":
        turn.remember(car={"make": None, "model": None, "min_year": None})
        return trade_continue(turn)
    said = turn.said
    make, model = car_in_text(turn.session, said)
    if make is None:
        return turn.ask(TRADE_CAR, "trade_car_again", [turn.option("car:any", "trade_car_any")], free_text=True)
    turn.remember(car={"make": make, "model": model, "min_year": year_in(said)})
    if "budget" not in turn.data:
        amount = budget_in(said)
        if amount is not None:
            turn.remember(budget=amount)
    return trade_continue(turn)


@handlers.step(TRADE_BUDGET, keeps=("report_mileage", "finance", "deny"))
def trade_budget_step(turn: Turn) -> Reply:
    said = turn.said
    if (turn.selected is not None and turn.selected.id == "budget:none") or no_budget(said):
        turn.remember(budget=None)
        return trade_continue(turn)
    amount = budget_answer(said)
    if amount is None:
        return turn.ask(TRADE_BUDGET, "trade_budget_again", _budget_options(turn))
    turn.remember(budget=amount)
    return trade_continue(turn)


def _wish_text(turn: Turn, car: dict[str, Any], budget: int | None) -> str:
    parts = [car_description(car.get("make"), car.get("model"), None) or turn.t("trade_any_car")]
    if car.get("min_year"):
        parts.append(turn.t("trade_from_year", year=car["min_year"]))
    if budget is not None:
        parts.append(turn.t("trade_up_to", amount=money(budget, turn.language)))
    return ", ".join(parts) if turn.language == "en" else "، ".join(parts)


def _upgrade_done(turn: Turn) -> Reply:
    data = turn.data
    car, budget = data["car"], data.get("budget")
    make, model, min_year = car.get("make"), car.get("model"), car.get("min_year")
    wish_id = None
    if turn.customer is not None:
        wish_id = save_upgrade_wish(turn.session, turn.now, turn.customer.id, make, model, min_year, budget).id
    details = {"request": data.get("request"), "make": make, "model": model, "min_year": min_year,
               "max_budget_aed": budget, "upgrade_wish_id": wish_id}
    submit_lead(turn, "upgrade", None, details)
    lines = [turn.t("trade_wish_saved" if turn.customer is not None else "trade_wish_lead",
                    wish=_wish_text(turn, car, budget))]
    stock = matching_stock(turn.session, make, model, min_year, budget)
    if stock:
        names = branch_names(turn.session, turn.language)
        cars = "\n".join(
            turn.t("trade_stock_line", make=s.make, model=s.model, year=s.year, km=number(s.mileage_km, turn.language),
                   price=money(s.price_aed, turn.language), branch=names.get(s.branch_id, ""))
            for s in stock
        )
        lines.append(turn.t("trade_stock_now", cars=cars))
    turn.remember(done=[*data.get("done", []), "upgrade"])
    if "valuation" in data.get("done", []):
        turn.finish()
        return Reply("\n\n".join(lines))
    ask = turn.ask(TRADE_OFFER, "trade_offer_valuation", yes_no_options(turn))
    return Reply("\n\n".join([*lines, ask.text]), ask.options)


@handlers.step(TRADE_OFFER, keeps=("affirm", "deny"))
def trade_offer_step(turn: Turn) -> Reply:
    answer = turn.yes_no()
    done = turn.data.get("done", [])
    if answer is None:
        return turn.ask(TRADE_OFFER, "trade_offer_again", yes_no_options(turn))
    if not answer:
        turn.finish()
        return turn.reply("leads_closing")
    turn.data = {"done": done, "mode": "upgrade" if "valuation" in done else "valuation"}
    # The yes may say more: "yes pls, for the lexus", "اي، الباترول ماشي ٩٠ ألف".
    if turn.data["mode"] == "valuation":
        prefill_vehicle(turn)
        _prefill_valuation(turn, turn.said)
    else:
        _prefill_wish(turn, turn.said)
    return trade_continue(turn)
