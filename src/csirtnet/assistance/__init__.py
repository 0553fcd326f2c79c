"""Mutual-assistance requests between members, with priority clocks and escalation."""
