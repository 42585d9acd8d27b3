"""recall_check: which car (or all my cars), then its open recalls with the remedy, completed ones with
their date, and the offer to book the (free) recall work when one is open."""

from __future__ import annotations

from urllib.parse import urlencode

from actions.kit import formats, vehicles
from actions.kit.flows import Flow, Handlers
from actions.kit.turn import Turn
from actions.kit.types import Reply
from actions.recalls.service import recalls_of
from db.models import Recall, Vehicle
from dealerbot.logging import get_logger

log = get_logger("actions.recalls")

RECALL = Flow("recall_check")
RECALL_VEHICLE = RECALL.step("vehicle")

handlers = Handlers()


@handlers.intent("recall_check")
def recall_check(turn: Turn) -> Reply | list[Reply]:
    return vehicles.start(turn, RECALL_VEHICLE, "veh_ask_vehicle_recall", _answer, with_all=True)


@handlers.step(RECALL_VEHICLE, keeps=("recall_check",))
def recall_check_vehicle(turn: Turn) -> Reply | list[Reply]:
    return vehicles.step(turn, RECALL_VEHICLE, _answer, with_all=True)


def _answer(turn: Turn, chosen: list[Vehicle]) -> Reply:
    ar = turn.language == "ar"
    lines: list[str] = []
    bookable: list[tuple[Vehicle, Recall]] = []
    for vehicle in chosen:
        label = vehicles.label(vehicle)
        open_, done = recalls_of(turn.session, vehicle)
        for recall in open_:
            bookable.append((vehicle, recall))
            lines.append(turn.t("veh_recall_open", vehicle=label, code=recall.campaign_code,
                                title=recall.title_ar if ar else recall.title_en,
                                description=recall.description_ar if ar else recall.description_en,
                                remedy=recall.remedy_ar if ar else recall.remedy_en))
        for recall, on in done:
            lines.append(turn.t("veh_recall_done", vehicle=label, code=recall.campaign_code,
                                title=recall.title_ar if ar else recall.title_en, date=formats.day(on, turn.language)))
        if not open_ and not done:
            lines.append(turn.t("veh_recall_none", vehicle=label))
    # One option per open recall: it books that recall's free repair for that car (actions.appointments
    # books it at the customer's branch and offers the first free times). With one, "yes" takes it.
    options = [
        turn.option("intent:book_service?" + urlencode({"vehicle": vehicle.id, "recall": recall.id}),
                    "veh_book_recall" if len(bookable) == 1 else "veh_book_recall_for", vehicle=vehicles.label(vehicle))
        for vehicle, recall in bookable
    ]
    if options:
        lines.append(turn.t("veh_recall_offer"))
    log.info("recall_checked", vehicles=len(chosen), open=len(bookable))
    turn.finish()
    if options:
        turn.offer(options)
    return Reply("\n".join(lines), options)
