"""Prometheus metrics of the app (prometheus-client), one registry per app: no phone numbers or names in
labels, only channels, directions and outcome names."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.4, 0.6, 1.0, 2.5, 5.0, 10.0)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.messages_in = Counter("dealerbot_messages_in", "Inbound messages taken in", ["channel"], registry=r)
        self.messages_out = Counter("dealerbot_messages_out", "Messages sent", ["channel"], registry=r)
        self.duplicates = Counter(
            "dealerbot_duplicate_messages", "Redelivered platform messages ignored", ["channel"], registry=r
        )
        self.rejected = Counter(
            "dealerbot_requests_rejected", "Webhook requests refused", ["endpoint", "reason"], registry=r
        )
        self.errors = Counter("dealerbot_errors", "Errors by where they happened", ["where"], registry=r)
        self.send_failures = Counter(
            "dealerbot_send_failures", "Sends the platform refused", ["channel", "reason"], registry=r
        )
        self.turn_seconds = Histogram(
            "dealerbot_turn_seconds", "Inbound message to replies, NLU included", ["channel"],
            buckets=_LATENCY_BUCKETS, registry=r,
        )
        self.nlu_seconds = Histogram(
            "dealerbot_nlu_seconds", "NLU parse latency", buckets=_LATENCY_BUCKETS, registry=r
        )
        self.delivery_status = Counter(
            "dealerbot_delivery_status", "Delivery status callbacks", ["channel", "status"], registry=r
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
