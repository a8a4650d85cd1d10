"""``python -m workflow_scripts.wikidata``: see ``workflow_scripts.labels.cli``."""

import sys

from workflow_scripts.labels.cli import main

sys.exit(main())
