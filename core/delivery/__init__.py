"""Delivery: the sender seam, envelopes, retry and rate-limit policy, HTTP (docs/delivery.md)."""
