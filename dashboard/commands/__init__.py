"""One module per command-line command; each defines NAME, HELP, add_arguments() and run()."""
from dashboard.commands import export, funding_gap, reactions, refresh, validate

COMMANDS = (validate, refresh, reactions, funding_gap, export)
