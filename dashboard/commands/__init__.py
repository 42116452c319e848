"""One module per command-line command; each defines NAME, HELP, add_arguments() and run(), and
may define check_arguments() (a usage problem, refused with exit 2 before anything runs).

Importing a command module is cheap: pandas, numpy and the loaders are imported inside ``run``,
so ``python -m dashboard --help`` and every subcommand's ``--help`` cost a bare Python start-up.
"""

from dashboard.commands import export, filings, funding_gap, reactions, refresh, validate

COMMANDS = (validate, refresh, reactions, funding_gap, export, filings)
