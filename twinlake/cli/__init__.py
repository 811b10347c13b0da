"""The `twinlake` command line: the lake's runs and tables, the pipeline's entrypoints and the local stack."""
