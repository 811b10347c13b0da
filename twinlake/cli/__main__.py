"""`python -m twinlake.cli`: the `twinlake` command without the console script."""

from twinlake.cli.app import console_main

console_main()
