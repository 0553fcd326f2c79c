"""Abuse reports and feeds: ingestion into normalized events, routing, digests."""
