"""Directory of the network: member states, organizations, points of contact, constituencies."""
