"""csirtnet: the platform of the hemispheric network of CSIRTs of the Americas."""

__version__ = "0.1.0"
