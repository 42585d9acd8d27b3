"""`roadside_assistance` and its one step, the customer's location (open to unknown senders)."""

from __future__ import annotations

from typing import Any

from actions.branches import rules as branch_rules
from actions.branches import service as branches
from actions.kit import vehicles
from actions.kit.flows import Flow, Handlers
from actions.kit.normalise import norm
from actions.kit.turn import Turn
from actions.kit.types import Reply
from actions.roadside import rules, service
from db.models import Branch, Vehicle
from dealerbot.logging import get_logger

ROADSIDE = Flow("roadside")
ROADSIDE_LOCATION = ROADSIDE.step("location")
handlers = Handlers()

log = get_logger("actions.roadside")


def _shared_location(turn: Turn) -> tuple[float, float] | None:
    """Coordinates the customer shared: a `geo:` media item, a `geo:` URI, a map link, or "lat, lng"."""
    return rules.coordinates([m.url for m in turn.message.media] + [turn.message.text or ""])


def _vehicle(turn: Turn) -> Vehicle | None:
    """The car the message names, else the customer's only car."""
    own = turn.vehicles()
    return vehicles.named(turn, own) or (own[0] if len(own) == 1 else None)


def _payload(turn: Turn, branch: Branch | None = None, vehicle: Vehicle | None = None) -> dict[str, Any]:
    return service.alert_payload(turn.identity, turn.customer, turn.language, branch, vehicle)


@handlers.intent("roadside_assistance")
def roadside_assistance(turn: Turn) -> Reply:
    all_branches = branches.all_branches(turn.session)
    vehicle = _vehicle(turn)
    home = vehicle.sold_by_branch_id if vehicle is not None else branch_rules.home_branch_id(turn.vehicles())
    branch = service.responding_branch(
        all_branches,
        branch_rules.branch_named(all_branches, turn.message.text, turn.parse.values("branch")),
        _shared_location(turn),
        home,
    )
    incident = service.incident_key(turn.identity.id, turn.now)
    payload = {**_payload(turn, branch, vehicle), "message": (turn.message.text or "")[:1000]}
    turn.alert_staff("roadside_assistance", incident, payload, recipient="roadside")
    log.info("roadside_alert", branch=branch.code if branch else None, known_customer=turn.customer is not None)
    turn.data = {
        "incident": incident,
        "branch_id": branch.id if branch else None,
        "vehicle_id": vehicle.id if vehicle else None,
    }
    if branch is not None:
        return turn.ask(ROADSIDE_LOCATION, "roadside_first", free_text=True,
                        branch=branch_rules.branch_name(branch, turn.language), phone=branch.emergency_phone)
    lines = "\n".join(
        turn.t("roadside_line", city=branch_rules.branch_city(b, turn.language), phone=b.emergency_phone)
        for b in all_branches
    )
    return turn.ask(ROADSIDE_LOCATION, "roadside_first_all", free_text=True, lines=lines)


# More about the same breakdown reads as roadside help again ("we are fine, stopped on the shoulder before
# the bridge"): it is the answer to this question, not a new call.
@handlers.step(ROADSIDE_LOCATION, keeps=("roadside_assistance",))
def roadside_location(turn: Turn) -> Reply:
    said = (turn.message.text or "").strip()
    folded = norm(said)
    coords = _shared_location(turn)
    if coords is None:
        if rules.says_safe(folded, turn.parse.intent):
            return turn.ask(ROADSIDE_LOCATION, "roadside_safe_where", free_text=True)
        if rules.says_danger(folded, turn.parse.intent):
            turn.alert_staff(
                "roadside_danger",
                f"{turn.data.get('incident')}:danger",
                {**_payload(turn), "message": said[:1000]},
                recipient="roadside",
            )
            return turn.ask(ROADSIDE_LOCATION, "roadside_danger", free_text=True)
        if rules.names_no_place(folded):
            return turn.ask(ROADSIDE_LOCATION, "roadside_location_again", free_text=True)
    all_branches = branches.all_branches(turn.session)
    data = turn.data
    branch = next((b for b in all_branches if b.id == data.get("branch_id")), None)
    if coords is not None and all_branches:
        branch = branch_rules.nearest(all_branches, *coords)
    elif branch is None:
        branch = branch_rules.branch_named(all_branches, said, turn.parse.values("branch")) or (
            all_branches[0] if all_branches else None
        )
    vehicle = vehicles.by_id(turn.vehicles(), data["vehicle_id"]) if data.get("vehicle_id") is not None else None
    location_link = rules.map_link(*coords) if coords else None
    payload = {
        **_payload(turn, branch, vehicle),
        "incident": data.get("incident"),
        "location": said[:500] if said else None,
        "coordinates": list(coords) if coords else None,
        "map": location_link,
    }
    turn.alert_staff("roadside_location", f"{data.get('incident')}:location", payload, recipient="roadside")
    turn.finish()
    if branch is None:
        return turn.reply("info_no_branches")
    shown = location_link if coords and (not said or rules.is_coordinates(said)) else said
    return turn.reply(
        "roadside_done",
        branch=branch_rules.branch_name(branch, turn.language),
        location=shown or turn.t("roadside_shared_location"),
        phone=branch.emergency_phone,
    )
