"""TAXII 2.1 endpoints over the STIX objects of sharing/, with no rules of their own."""
