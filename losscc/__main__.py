"""``python -m losscc``: the same as the ``losscc`` command."""
import sys

from .cli.main import main

sys.exit(main())
