"""`python -m twinlake.cli`: the `twinlake` command without the console script."""

import sys

from twinlake.cli.app import main

sys.exit(main())
