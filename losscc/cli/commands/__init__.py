"""The losscc subcommands: one module each, registered in losscc.cli.main.COMMANDS."""
