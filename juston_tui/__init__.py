"""juston-tui: a keyboard-driven terminal dashboard for JustOn on Salesforce."""

__version__ = "0.1.0"
APP_NAME = "juston-tui"
