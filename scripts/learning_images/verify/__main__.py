"""``python -m learning_images.verify``: the verifier's command line."""

import sys

from learning_images.verify.cli import main

sys.exit(main())
