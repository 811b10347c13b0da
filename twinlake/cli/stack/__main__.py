"""`python -m twinlake.cli.stack up|down|status`: the same commands as `twinlake stack`."""

import sys

from twinlake.cli.stack import main

sys.exit(main())
