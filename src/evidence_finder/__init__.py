"""Evidence Finder: cited evidence search over reports on Erasmus+ in Dutch and Flemish education."""

__version__ = "0.1.0"
