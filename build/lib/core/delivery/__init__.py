"""Delivery: the sender seam, envelopes, the retry and rate-limit policy, HTTP (SPEC §8)."""
