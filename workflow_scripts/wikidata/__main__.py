"""``python -m workflow_scripts.wikidata``: see ``workflow_scripts.wikidata.cli``."""

import sys

from workflow_scripts.wikidata.cli import main

sys.exit(main())
