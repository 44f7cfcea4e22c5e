"""The ``losscc`` command line: ``main`` (the parser, errors and exit codes), shared
``options``, and one module per subcommand in ``commands``."""
