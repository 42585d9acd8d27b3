"""service_history: which car, then one page of a section (records, inspection report, documents); the
"browse" step continues with "more", another section, or a follow-up about the same car."""

from __future__ import annotations

from dataclasses import dataclass

from actions.history.rules import SECTIONS, PAGE_SIZE, asks_more, page, section_in, service_filter
from actions.history.service import documents, inspection_report, service_name, service_records
from actions.kit import formats, vehicles
from actions.kit.flows import SWITCH_CONFIDENCE, TASK_INTENTS, Flow, Handlers
from actions.kit.turn import Turn
from actions.kit.types import Attachment, Reply
from db.models import Vehicle
from dealerbot.logging import get_logger

log = get_logger("actions.history")

HISTORY = Flow("service_history")
HISTORY_VEHICLE = HISTORY.step("vehicle")
HISTORY_BROWSE = HISTORY.step("browse", follow_up=True)

handlers = Handlers()


@handlers.intent("service_history")
def service_history(turn: Turn) -> Reply | list[Reply]:
    asked = {"section": section_in(turn.message.text), "service": _service(turn)}
    turn.data = {"asked": asked}

    def answer(turn: Turn, chosen: list[Vehicle]) -> Reply:
        return _page(turn, chosen[0], asked["section"], 0, asked["service"])

    return vehicles.start(turn, HISTORY_VEHICLE, "veh_ask_vehicle_history", answer)


@handlers.step(HISTORY_VEHICLE, keeps=("service_history",))
def service_history_vehicle(turn: Turn) -> Reply | list[Reply]:
    asked = turn.data.get("asked") or {}

    def answer(turn: Turn, chosen: list[Vehicle]) -> Reply:
        section = section_in(turn.message.text)
        if section == "records" and asked.get("section"):
            section = asked["section"]
        return _page(turn, chosen[0], section, 0, _service(turn) or asked.get("service"))

    return vehicles.step(turn, HISTORY_VEHICLE, answer)


@handlers.step(HISTORY_BROWSE, keeps=("service_history",))
def service_history_browse(turn: Turn) -> Reply | list[Reply]:
    data = turn.data
    vehicle = vehicles.by_id(turn.vehicles(), data.get("vehicle_id"))
    if vehicle is None:
        return turn.leave_and_answer()
    section, service, offset = data.get("section", "records"), data.get("service"), int(data.get("offset", 0))
    if (turn.selected is not None and turn.selected.id == "more") or (turn.selected is None and asks_more(turn.message.text)):
        if offset >= len(_section(turn, vehicle, section, service).entries):
            turn.finish()
            return Reply(turn.t("veh_no_more"))
        return _page(turn, vehicle, section, offset, service)
    if (picked := turn.picked("section")) is not None:
        return _page(turn, vehicle, picked, 0, None)
    if turn.selected is None and turn.parse.intent == "service_history":
        # A follow-up about the same car ("and the inspection report?"), unless another car is named.
        other = vehicles.named(turn, turn.vehicles()) or vehicle
        return _page(turn, other, section_in(turn.message.text), 0, _service(turn))
    # Unclear: nothing understood, or no clear new request. A vague "the white one" looks like small talk
    # or out of scope, even with confidence, to a model that has seen many unrelated requests; with the
    # pages on screen it is a failed pick, and the question again ("... or ask me something else") also
    # serves a customer who did ask something unrelated.
    unclear = turn.parse.intent in {"nlu_fallback", "out_of_scope"} or (
        turn.parse.intent not in TASK_INTENTS and turn.parse.confidence < SWITCH_CONFIDENCE
    )
    if turn.selected is None and unclear and turn.parse.degraded is None:
        # Not a choice and not another request: ask again, keeping the page where it is.
        options = turn.offered
        return turn.ask(HISTORY_BROWSE, "veh_browse_again", options)
    return turn.leave_and_answer()


def _service(turn: Turn) -> str | None:
    # "when did I last replace the tyres?": the part named (a `component` to the NLU) is the kind of work
    # asked about as much as a `service_type` is; the service type wins when both are there.
    return service_filter([*turn.parse.values("service_type"), *turn.parse.values("component")])


@dataclass
class Section:
    head: list[str]
    entries: list[str]
    attachments: list[Attachment]


def _page(turn: Turn, vehicle: Vehicle, name: str, offset: int = 0, service: str | None = None) -> Reply:
    """One page of a section; the flow remembers where it stopped so "more" continues there."""
    section = _section(turn, vehicle, name, service)
    total = len(section.entries)
    first, end = page(total, offset)
    lines = list(section.head) if first == 0 else []
    lines += section.entries[first:end]
    if total > PAGE_SIZE:
        lines.append(turn.t("veh_page", first=first + 1, last=end, total=total))
    options = []
    if end < total:
        options.append(turn.option("more", "veh_more"))
    options += [turn.option(f"section:{other}", f"veh_section_{other}") for other in SECTIONS if other != name]
    reply = turn.ask(HISTORY_BROWSE, "veh_more", options)
    turn.data = {"vehicle_id": vehicle.id, "section": name, "offset": end, "service": service}
    reply.text = "\n".join(lines)
    reply.attachments = list(section.attachments) if first == 0 else []
    log.info("service_history_shown", vehicle_id=vehicle.id, section=name, offset=first, total=total)
    return reply


def _section(turn: Turn, vehicle: Vehicle, name: str, service: str | None) -> Section:
    if name == "inspection":
        return _inspection(turn, vehicle)
    if name == "documents":
        return _documents(turn, vehicle)
    return _records(turn, vehicle, service)


def _records(turn: Turn, vehicle: Vehicle, service: str | None) -> Section:
    label = vehicles.label(vehicle)
    records = service_records(turn.session, vehicle)
    if not records:
        return Section([turn.t("veh_records_none", vehicle=label)], [], [])
    head = [turn.t("veh_records_head", vehicle=label, count=len(records))]
    if service is not None:
        matching = service_records(turn.session, vehicle, service)
        name = service_name(turn.session, service, turn.language)
        if matching:
            records = matching
            head = [turn.t("veh_records_filtered_head", service=name, vehicle=label, count=len(records))]
        else:
            head.insert(0, turn.t("veh_records_filter_none", service=name, vehicle=label))
    entries = []
    for record in records:
        cost = turn.t("veh_record_cost", amount=formats.money(record.cost_aed)) if record.cost_aed is not None else ""
        values = dict(date=formats.day(record.service_date, turn.language), work=record.work, cost=cost)
        if record.mileage_km is not None:
            line = turn.t("veh_record_line", km=formats.number(record.mileage_km), **values)
        else:
            line = turn.t("veh_record_line_no_km", **values)
        if record.parts:
            line += "\n" + turn.t("veh_record_parts", parts=", ".join(record.parts))
        entries.append(line)
    return Section(head, entries, [])


def _inspection(turn: Turn, vehicle: Vehicle) -> Section:
    label = vehicles.label(vehicle)
    report = inspection_report(turn.session, vehicle)
    if report is None:
        return Section([turn.t("veh_inspection_none", vehicle=label)], [], [])
    ar = turn.language == "ar"
    head = [turn.t("veh_inspection_head", vehicle=label, date=formats.day(report.inspected_on, turn.language),
                   km=formats.number(report.mileage_km), inspector=report.inspector,
                   summary=report.summary_ar if ar else report.summary_en)]
    entries = []
    # Items to watch first: they are what the customer needs to act on.
    for result, key in (("watch", "veh_inspection_watch"), ("fixed", "veh_inspection_fixed")):
        for item in report.items:
            if item.result == result:
                finding = (item.finding_ar if ar else item.finding_en) or (item.finding_en or "")
                entries.append(turn.t(key, item=item.item_ar if ar else item.item_en, finding=finding))
    ok = [item.item_ar if ar else item.item_en for item in report.items if item.result == "ok"]
    if ok:
        entries.append(turn.t("veh_inspection_ok", items=("، " if ar else ", ").join(ok)))
    return Section(head, entries, [])


def _documents(turn: Turn, vehicle: Vehicle) -> Section:
    label = vehicles.label(vehicle)
    found = documents(turn.session, vehicle)
    if not found:
        return Section([turn.t("veh_documents_none", vehicle=label)], [], [])
    ar = turn.language == "ar"
    entries, attachments = [], []
    for document in found:
        title = document.title_ar if ar else document.title_en
        entries.append(turn.t("veh_document_line", title=title, date=formats.day(document.issued_on, turn.language),
                              url=document.url))
        attachments.append(Attachment("document", document.url, title))
    return Section([turn.t("veh_documents_head", vehicle=label)], entries, attachments)
