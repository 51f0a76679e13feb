"""`python -m survey_renderer [--config …] [-o …]` is `flagops render`."""

import sys

from validator.cli import main

sys.exit(main(["render", *sys.argv[1:]]))
